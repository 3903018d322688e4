"""OGC API - Processes jobs: status, progress, dismiss, job list filters and paging, tenancy.

Every JSON body is validated against the official 1.0 schemas (statusInfo, jobList, results,
exception).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrafuse.usecases.executions import Platform
from tests.support.ogc_api import (
    EXC,
    REL,
    ROOT,
    all_job_ids,
    assert_exception,
    execute,
    is_absolute,
    job_status,
    json_of,
    link,
    monitor_url,
    path_of,
    start_async,
    wait_for_job,
    wait_until,
)

NO_SUCH_JOB = f"{EXC}no-such-job"
INVALID_PARAM = f"{EXC}invalid-query-parameter-value"


def _sync_job(client: TestClient, root: str = ROOT, **inputs: Any) -> str:
    """Run echo synchronously; returns the job id (from the monitor link)."""
    response = execute(client, {"string_input": "teststring", **inputs}, root=root)
    assert response.status_code == 200, response.text
    return monitor_url(response).rsplit("/", 1)[-1]


def _when(status: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(status[key].replace("Z", "+00:00"))


def _jobs(client: TestClient, **params: Any) -> dict[str, Any]:
    return json_of(client.get(f"{ROOT}/jobs", params=params), "jobList")


def _ids(client: TestClient, **params: Any) -> set[str]:
    return set(all_job_ids(client, **params))


# -- status -----------------------------------------------------------------------------------


def test_job_list_empty_then_filled(client: TestClient) -> None:
    assert _jobs(client)["jobs"] == []
    first = _sync_job(client)
    second, _ = start_async(client)
    wait_for_job(client, second)
    doc = _jobs(client)
    assert [j["jobID"] for j in doc["jobs"]] == [second, first]  # newest first
    assert link(doc, "self")
    for job in doc["jobs"]:
        assert job["processID"] == "echo" and job["type"] == "process"
        assert link(job, "self") and is_absolute(link(job, "self")["href"])


def test_successful_job_status(client: TestClient) -> None:
    job, location = start_async(client, {"string_input": "teststring", "pause": 0.3})
    done = wait_for_job(client, job)
    assert done["status"] == "successful" and done["progress"] == 100
    created, started, finished, updated = (
        _when(done, k) for k in ("created", "started", "finished", "updated")
    )
    assert created <= started <= finished <= updated
    assert finished - started >= timedelta(seconds=0.3)
    results = link(done, f"{REL}results")
    # The suite dereferences this link and reads its type.
    assert results is not None and results["type"] == "application/json"
    assert link(done, "self")["href"] == location
    response = client.get(path_of(results["href"]), headers={"Accept": results["type"]})
    assert response.status_code == 200 and response.text == "teststring"


def test_progress_moves(client: TestClient) -> None:
    job, _ = start_async(client, {"string_input": "teststring", "pause": 3})
    seen: list[tuple[str, int]] = []

    def finished() -> dict[str, Any] | None:
        status = job_status(client, job)
        seen.append((status["status"], status["progress"]))
        return status if status["status"] in ("successful", "failed", "dismissed") else None

    done = wait_until(finished, timeout=30, interval=0.1, what="the paused job to end")
    assert done["status"] == "successful" and done["progress"] == 100
    running = [p for s, p in seen if s == "running"]
    assert any(0 < p < 100 for p in running), seen
    assert running == sorted(running), seen  # never goes backwards
    assert all(p == 0 for s, p in seen if s == "accepted"), seen


@pytest.mark.parametrize("path", ["/jobs/{id}", "/jobs/{id}/results", "/jobs/{id}/results/string_input"])
def test_no_such_job(client: TestClient, path: str) -> None:
    response = client.get(ROOT + path.format(id=f"invalid-job-{uuid.uuid4()}"))
    assert_exception(response, 404, NO_SUCH_JOB)


def test_dismiss_unknown_job(client: TestClient) -> None:
    assert_exception(client.delete(f"{ROOT}/jobs/invalid-job-{uuid.uuid4()}"), 404, NO_SUCH_JOB)


# -- dismiss ----------------------------------------------------------------------------------


# Worker task states in which a task's thread may still be running its function.
_RUNNING = ("executing", "long-running", "cancelled", "resumed")


def _running_tasks(platform: Platform, job_id: str) -> list[str]:
    """The job's Dask tasks that a worker is still running (also when cancelled on the scheduler)."""

    def tasks(dask_worker: Any) -> list[str]:
        return [f"{key}:{ts.state}" for key, ts in dask_worker.state.tasks.items() if ts.state in _RUNNING]

    per_worker = platform.dispatcher.executor.client.run(tasks)  # type: ignore[attr-defined]
    return [key for keys in per_worker.values() for key in keys if job_id in key]


def _wait_for_task_end(platform: Platform, job_id: str) -> None:
    executor = platform.dispatcher.executor
    wait_until(lambda: not executor.in_flight(job_id), timeout=10, what="the Dask task to end")  # type: ignore[attr-defined]
    # The executor stops tracking a task only once it really ended on its worker.
    assert not _running_tasks(platform, job_id)


def test_dismiss_running_job_stops_the_work(client: TestClient, platform: Platform) -> None:
    job, _ = start_async(client, {"string_input": "teststring", "pause": 30})
    wait_for_job(client, job, ("running",))
    started = time.monotonic()
    response = client.delete(f"{ROOT}/jobs/{job}")
    status = json_of(response, "statusInfo")
    assert status["status"] == "dismissed" and status["jobID"] == job
    assert platform.dispatcher.executor.in_flight(job)  # type: ignore[attr-defined]
    _wait_for_task_end(platform, job)
    assert time.monotonic() - started < 10  # the pause had 30 s to go
    time.sleep(0.6)  # a heartbeat or a late finish must not resurrect it
    again = job_status(client, job)
    assert again["status"] == "dismissed" and not link(again, f"{REL}results")
    assert_exception(client.get(f"{ROOT}/jobs/{job}/results"), 404, NO_SUCH_JOB)
    # Dismissing again answers the same.
    assert json_of(client.delete(f"{ROOT}/jobs/{job}"), "statusInfo")["status"] == "dismissed"


def test_dismiss_accepted_job(client: TestClient, platform: Platform) -> None:
    # Keep both workers of the test cluster busy, so the next job stays queued.
    blockers = [start_async(client, {"pause": 30})[0] for _ in range(2)]
    try:
        for blocker in blockers:
            wait_for_job(client, blocker, ("running",))
        job, _ = start_async(client, {"string_input": "teststring"})
        time.sleep(0.3)
        assert job_status(client, job)["status"] == "accepted"
        status = json_of(client.delete(f"{ROOT}/jobs/{job}"), "statusInfo")
        assert status["status"] == "dismissed" and "started" not in status
        executor = platform.dispatcher.executor
        wait_until(lambda: not executor.in_flight(job), timeout=10, what="the queued task to go")  # type: ignore[attr-defined]
    finally:
        for blocker in blockers:
            client.delete(f"{ROOT}/jobs/{blocker}")
    for blocker in blockers:
        _wait_for_task_end(platform, blocker)
    time.sleep(0.3)  # the freed workers must not pick the dismissed job up
    status = job_status(client, job)
    assert status["status"] == "dismissed" and "started" not in status  # the work never began
    assert not _running_tasks(platform, job)


def test_dismiss_successful_job_removes_results(client: TestClient) -> None:
    job = _sync_job(client)
    assert client.get(f"{ROOT}/jobs/{job}/results").status_code == 200
    status = json_of(client.delete(f"{ROOT}/jobs/{job}"), "statusInfo")
    assert status["status"] == "dismissed"
    assert_exception(client.get(f"{ROOT}/jobs/{job}/results"), 404, NO_SUCH_JOB)
    assert_exception(client.get(f"{ROOT}/jobs/{job}/results/string_input"), 404, NO_SUCH_JOB)
    assert json_of(client.delete(f"{ROOT}/jobs/{job}"), "statusInfo")["status"] == "dismissed"
    assert job in _ids(client, status="dismissed")


# -- tenancy ----------------------------------------------------------------------------------


def test_jobs_are_private_to_their_namespace(client: TestClient) -> None:
    acme_job = _sync_job(client, root="/acme/ogc-api")
    public_job = _sync_job(client)
    assert json_of(client.get(f"/acme/ogc-api/jobs/{acme_job}"), "statusInfo")["jobID"] == acme_job
    assert_exception(client.get(f"{ROOT}/jobs/{acme_job}"), 404, NO_SUCH_JOB)
    assert_exception(client.get(f"{ROOT}/jobs/{acme_job}/results"), 404, NO_SUCH_JOB)
    assert_exception(client.delete(f"{ROOT}/jobs/{acme_job}"), 404, NO_SUCH_JOB)
    assert_exception(client.get(f"/acme/ogc-api/jobs/{public_job}"), 404, NO_SUCH_JOB)
    assert all_job_ids(client) == [public_job]
    assert all_job_ids(client, root="/acme/ogc-api") == [acme_job]
    # The refused dismiss left the job alone.
    assert job_status(client, acme_job, root="/acme/ogc-api")["status"] == "successful"


# -- job list filters -------------------------------------------------------------------------


def test_job_list_filters(client: TestClient) -> None:
    ok = [_sync_job(client) for _ in range(2)]
    dismissed = _sync_job(client)
    client.delete(f"{ROOT}/jobs/{dismissed}")
    failed, _ = start_async(
        client, {"stac_items": ["http://127.0.0.1:9/x.json"], "aoi": "0,0,1,1"}, process="water-bodies"
    )
    assert wait_for_job(client, failed)["status"] == "failed"
    every = {*ok, dismissed, failed}

    assert _ids(client) == every
    assert _ids(client, processID="echo") == {*ok, dismissed}
    assert _ids(client, processID="water-bodies") == {failed}
    assert _ids(client, processID="echo,water-bodies") == every
    assert _ids(client, processID="nope") == set()
    assert _ids(client, status="successful") == set(ok)
    assert _ids(client, status="failed") == {failed}
    assert _ids(client, status="dismissed") == {dismissed}
    assert _ids(client, status="successful,failed") == {*ok, failed}
    assert _ids(client, status=["successful", "dismissed"]) == {*ok, dismissed}
    assert _ids(client, status=["running", "accepted"]) == set()
    assert _ids(client, type="process") == every
    assert _ids(client, type="other") == set()
    assert _ids(client, type=["process", "other"]) == every
    assert _ids(client, processID="echo", status="successful") == set(ok)
    # Filters as the repeated-parameter form of the spec, mixed with commas.
    response = client.get(f"{ROOT}/jobs?status=failed&status=dismissed,successful&processID=water-bodies")
    assert {j["jobID"] for j in json_of(response, "jobList")["jobs"]} == {failed}


def test_job_list_datetime(client: TestClient) -> None:
    jobs = [_sync_job(client) for _ in range(3)]
    created = [job_status(client, j)["created"] for j in jobs]
    moments = [_when({"t": c}, "t") for c in created]
    assert moments == sorted(moments)
    first, middle, last = jobs
    assert _ids(client, datetime=created[1]) == {middle}
    assert _ids(client, datetime=f"{created[0]}/{created[1]}") == {first, middle}
    assert _ids(client, datetime=f"../{created[1]}") == {first, middle}
    assert _ids(client, datetime=f"{created[1]}/..") == {middle, last}
    assert _ids(client, datetime="../..") == set(jobs)
    later = (moments[-1] + timedelta(hours=1)).isoformat()
    assert _ids(client, datetime=f"{later}/..") == set()
    # Another time zone names the same instant.
    shifted = moments[1].astimezone(datetime.now().astimezone().tzinfo).isoformat()
    assert _ids(client, datetime=shifted) == {middle}


def test_job_list_durations(client: TestClient) -> None:
    quick = _sync_job(client, pause=0)
    medium = _sync_job(client, pause=0.6)
    slow = _sync_job(client, pause=1.2)
    running, _ = start_async(client, {"string_input": "teststring", "pause": 30})
    try:
        wait_for_job(client, running, ("running",))
        # (The running job's duration grows meanwhile: leave it out of these.)
        assert _ids(client, minDuration=0.3) - {running} == {medium, slow}
        assert _ids(client, maxDuration=0.3) - {running} == {quick}
        assert _ids(client, minDuration=0.3, maxDuration=0.9) - {running} == {medium}
        assert _ids(client, minDuration=0.9, status="successful") == {slow}
        assert _ids(client, minDuration=100) == set()
        # A running job's duration counts from its start until now.
        assert running in _ids(client, status="running", minDuration=0)
        wait_until(lambda: running in _ids(client, minDuration=1.3, status="running"), timeout=10)
        assert _ids(client, minDuration=0) == {quick, medium, slow, running}
    finally:
        client.delete(f"{ROOT}/jobs/{running}")


def test_job_list_paging(client: TestClient) -> None:
    jobs = [_sync_job(client) for _ in range(5)]
    newest_first = list(reversed(jobs))
    pages = []
    doc = _jobs(client, limit=2)
    assert not link(doc, "prev")
    while True:
        pages.append([j["jobID"] for j in doc["jobs"]])
        nxt = link(doc, "next")
        if nxt is None:
            break
        assert is_absolute(nxt["href"]) and "limit=2" in nxt["href"]
        following = json_of(client.get(path_of(nxt["href"])), "jobList")
        prev = link(following, "prev")
        assert prev is not None
        back = json_of(client.get(path_of(prev["href"])), "jobList")
        assert [j["jobID"] for j in back["jobs"]] == pages[-1]
        doc = following
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]
    # Filters survive paging.
    doc = _jobs(client, limit=1, processID="echo")
    nxt = link(doc, "next")
    assert nxt is not None and "processID=echo" in nxt["href"]
    assert _jobs(client, limit=2, offset=4)["jobs"][0]["jobID"] == jobs[0]
    assert _jobs(client, limit=10, offset=5)["jobs"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "finished"},
        {"status": "successful,bogus"},
        {"datetime": "yesterday"},
        {"datetime": "2024-01-01T00:00:00"},  # no time zone
        {"datetime": "2025-01-02T00:00:00Z/2025-01-01T00:00:00Z"},  # ends before it starts
        {"datetime": "2025-01-01T00:00:00Z/2025-13-01T00:00:00Z"},
        {"limit": 0},
        {"limit": 10001},
        {"limit": "ten"},
        {"offset": -1},
        {"minDuration": -1},
        {"maxDuration": -0.5},
        {"minDuration": "long"},
    ],
)
def test_job_list_invalid_parameters(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get(f"{ROOT}/jobs", params=params)
    assert_exception(response, 400, INVALID_PARAM)
