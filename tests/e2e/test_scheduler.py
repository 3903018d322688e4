"""Scheduled processes: three repetitions a few seconds apart run exactly three times, through a
server crash in the middle, and with two servers sharing one database (each firing is claimed
once). Driven by the published SDK 2.2.5 against real server processes."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fusion_platform
import pytest
from dateutil.relativedelta import relativedelta

from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e
GAP_SECONDS = 6
ENV = {"TERRAFUSE_DASK_WORKERS": "1", "TERRAFUSE_SCHEDULER_TICK_SECONDS": "0.5"}


def _organisation(server: ServerProcess):  # type: ignore[no-untyped-def]
    user = fusion_platform.login(
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        api_url=f"{server.url}/api",
        session_options={"api_update_wait_period": 1},
    )
    return next(user.organisations)


def _scheduled_process(server: ServerProcess, name: str, start_in: float):  # type: ignore[no-untyped-def]
    organisation = _organisation(server)
    region = organisation.create_data(
        name=f"{name} region",
        file_type=fusion_platform.FILE_TYPE_GEOJSON,
        files=[fusion_platform.EXAMPLE_GLASGOW_FILE],
        wait=True,
    )
    service, _ = organisation.find_services(keyword="Elevation")
    process = organisation.new_process(name=name, service=service)
    process.update(input_number=1, data=region)
    process.update(option_name="resolution", value=120.0)
    start = datetime.now(UTC) + timedelta(seconds=start_in)
    process.update(
        run_type=fusion_platform.RUN_TYPE_RUN_SCHEDULE,
        repeat_count=3,
        repeat_start=start,
        repeat_gap=relativedelta(seconds=GAP_SECONDS),
    )
    process.create()
    process.execute()
    return organisation, process, start


def _executions(organisation, process_id: str) -> list:  # type: ignore[no-untyped-def]
    process, _ = organisation.find_processes(id=process_id)
    return sorted(process.executions, key=lambda e: e.started_at)


def _wait(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _check_three_firings(organisation, process_id: str, start: datetime) -> list[datetime]:  # type: ignore[no-untyped-def]
    def done():  # type: ignore[no-untyped-def]
        found = _executions(organisation, process_id)
        process, _ = organisation.find_processes(id=process_id)
        finished = all(e.progress >= 100 for e in found)
        return found if len(found) >= 3 and finished and process.process_status == "stop" else None

    executions = _wait(done, 240, "three finished firings")
    time.sleep(GAP_SECONDS + 2)  # a fourth firing would have happened by now
    executions = _executions(organisation, process_id)
    assert len(executions) == 3, [e.started_at for e in executions]
    assert all(e.success for e in executions), [getattr(e, "abort_reason", None) for e in executions]
    starts = [e.started_at for e in executions]
    assert starts[0] >= start - timedelta(seconds=1)
    return starts


@pytest.mark.timeout(600)
def test_three_repetitions_survive_a_server_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", demo=True, env=ENV).start(timeout=300)
    try:
        organisation, process, start = _scheduled_process(server, "Every six seconds", start_in=4)
        process_id = str(process.id)
        _wait(lambda: len(_executions(organisation, process_id)) >= 1, 120, "the first firing")
        server.kill()  # crash between firings: the schedule lives in the database
    finally:
        server.stop()
    again = ServerProcess(tmp_path / "data", demo=True, env=ENV, port=server.port).start(timeout=300)
    try:
        _check_three_firings(_organisation(again), process_id, start)
    finally:
        again.stop()


@pytest.mark.timeout(600)
def test_two_servers_fire_each_occurrence_once(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path / "data", demo=True, env=ENV).start(timeout=300)
    second = ServerProcess(tmp_path / "data", demo=True, env=ENV).start(timeout=300)
    try:
        organisation, process, start = _scheduled_process(first, "Two servers", start_in=6)
        starts = _check_three_firings(organisation, str(process.id), start)
        # Both servers were up throughout: each firing happened at its occurrence, a gap apart.
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
        assert all(GAP_SECONDS - 1 <= g <= GAP_SECONDS + 3 for g in gaps), gaps
    finally:
        second.stop()
        first.stop()
