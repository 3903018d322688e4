"""A server that dies mid-job: the restarted server settles the job; it never stays running."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e


def wait_for(url: str, predicate, timeout: float = 60.0) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        last = httpx.get(url, timeout=5).json()
        if predicate(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out; last answer: {last}")


@pytest.mark.parametrize(("max_attempts", "final"), [("2", "successful"), ("1", "failed")])
def test_running_job_survives_a_crash(tmp_path: Path, max_attempts: str, final: str) -> None:
    env = {"TERRAFUSE_MAX_ATTEMPTS": max_attempts}
    server = ServerProcess(tmp_path / "data", demo=False, env=env).start()
    try:
        r = httpx.post(
            f"{server.url}/ogc-api/processes/echo/execution",
            json={"inputs": {"string_input": "teststring", "pause": 4}},
            headers={"Prefer": "respond-async"},
        )
        assert r.status_code == 201
        job_url = r.headers["Location"]
        wait_for(job_url, lambda s: s["status"] == "running")
        server.kill()  # the server and its local Dask workers die with the job in 'running'
    finally:
        server.stop()

    restarted_at = time.time()
    again = ServerProcess(tmp_path / "data", demo=False, env=env, port=server.port).start()
    try:
        info = wait_for(job_url, lambda s: s["status"] in ("successful", "failed", "dismissed"), timeout=60)
        assert info["status"] == final, info
        if final == "successful":
            results = httpx.get(f"{job_url}/results").text
            assert results == "teststring"
            started = info["started"].replace("Z", "+00:00")
            from datetime import datetime

            assert datetime.fromisoformat(started).timestamp() >= restarted_at - 1
        else:
            assert "stopped responding" in info["message"]
    finally:
        again.stop()


def test_accepted_jobs_are_dispatched_after_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", demo=False).start()
    try:
        # Two long jobs fill both workers, so the third one is still only accepted when we crash.
        urls = []
        for pause in (5, 5, 0):
            r = httpx.post(
                f"{server.url}/ogc-api/processes/echo/execution",
                json={"inputs": {"string_input": f"job-{pause}", "pause": pause}},
                headers={"Prefer": "respond-async"},
            )
            urls.append(r.headers["Location"])
        wait_for(urls[0], lambda s: s["status"] == "running")
        server.kill()
    finally:
        server.stop()
    again = ServerProcess(tmp_path / "data", demo=False, port=server.port).start()
    try:
        for url in urls:
            info = wait_for(url, lambda s: s["status"] in ("successful", "failed"), timeout=60)
            assert info["status"] == "successful", info
    finally:
        again.stop()
