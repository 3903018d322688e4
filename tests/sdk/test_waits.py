"""Waits end: executions, groups, analysis and uploads are awaited on a fake clock, with polling
that starts quick and backs off, timeouts that hold, and failures raised with the platform's reason
only once every execution of a group has ended."""

from __future__ import annotations

import httpx
import pytest

import terrafuse
from tests.sdk.fake_platform import FakeClock, FakePlatform


@pytest.fixture
def process(organisation: terrafuse.Organisation) -> terrafuse.Process:
    region = organisation.create_data(
        "Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
    )
    service, _ = organisation.find_services(name="Clouds")
    return (
        organisation.new_process(name="Example", service=service).update(input_number=1, data=region).create()
    )


def test_execute_and_wait_polls_until_the_end(
    process: terrafuse.Process, platform: FakePlatform, clock: FakeClock
) -> None:
    platform.steps = 4
    clock.sleeps.clear()
    assert process.execute(wait=True) is process
    (execution,) = platform.executions.values()
    assert execution["progress"] == 100
    # Four status reads (the fake moves one step per read): the first when the execution is
    # found, then polls that start after half a second and grow by half each time.
    assert clock.sleeps == [0.5, 0.75]
    assert process.process_status == "stop"
    latest = next(process.executions)
    assert latest.id == execution["id"] and latest.success is True and latest.check_complete() is True


def test_a_group_is_awaited_whole_and_its_failures_reported(
    process: terrafuse.Process, platform: FakePlatform
) -> None:
    platform.group_size, platform.steps = 3, 2
    platform.fail = {1: "no imagery covers slice 2"}
    with pytest.raises(terrafuse.ExecutionFailedError, match="no imagery covers slice 2") as caught:
        process.execute(wait=True)
    assert all(e["progress"] == 100 for e in platform.executions.values())
    failed = next(e for e in platform.executions.values() if e["_index"] == 1)
    assert caught.value.failures == [(failed["id"], "no imagery covers slice 2")]
    first, group = process.find_executions(group_id=failed["group_id"])
    assert first is not None and len(list(group)) == 3


def test_the_next_execution_includes_the_whole_group(
    process: terrafuse.Process, platform: FakePlatform, clock: FakeClock
) -> None:
    platform.group_size = 3
    platform.hidden = {2}  # the platform has not listed the last slice yet
    process.execute()
    reloads: list[httpx.Request] = []

    def reveal_on_second_reload(request: httpx.Request) -> httpx.Response:
        reloads.append(request)
        if len(reloads) == 2:
            platform.hidden.clear()
        return platform.route(request)

    platform.break_next("GET", r"/processes/[^/]+$", reveal_on_second_reload, times=99)
    clock.sleeps.clear()
    execution = process.wait_for_next_execution()
    assert execution.group_count == 3 and len(reloads) == 2 and clock.sleeps == [0.5]
    assert len(list(process.find_executions(group_id=execution.group_id)[1])) == 3


def test_waits_end_at_their_timeout(
    process: terrafuse.Process, platform: FakePlatform, clock: FakeClock
) -> None:
    platform.steps = 10**6
    started = clock.now
    with pytest.raises(terrafuse.WaitTimeoutError, match="after 30 s") as caught:
        process.execute(wait=True, timeout=30)
    assert isinstance(caught.value, TimeoutError)
    assert 30 <= clock.now - started <= 30.5  # the last pause is cut to the deadline
    execution = next(process.executions)
    with pytest.raises(terrafuse.WaitTimeoutError):
        execution.check_complete(wait=True, timeout=5)
    assert execution.check_complete() is False


def test_the_session_timeout_bounds_waits_given_none(
    process: terrafuse.Process, platform: FakePlatform, clock: FakeClock
) -> None:
    platform.steps = 10**6
    started = clock.now
    with pytest.raises(terrafuse.WaitTimeoutError, match="after 3600 s"):
        process.execute(wait=True)
    assert clock.now - started == pytest.approx(3600, abs=1)


def test_check_complete_raises_the_failure(process: terrafuse.Process, platform: FakePlatform) -> None:
    platform.steps, platform.fail = 1, {0: "the region is outside the imagery"}
    process.execute()
    execution = next(process.executions)
    with pytest.raises(terrafuse.ExecutionFailedError) as caught:
        execution.check_complete()
    assert (
        caught.value.execution_id == execution.id
        and caught.value.reason == "the region is outside the imagery"
    )


def test_waiting_for_a_process_that_is_not_executing_fails_at_once(
    process: terrafuse.Process, clock: FakeClock
) -> None:
    clock.sleeps.clear()
    with pytest.raises(terrafuse.ModelError, match="not executing: call execute"):
        process.wait_for_next_execution(timeout=60)
    assert clock.sleeps == []


def test_create_complete_waits_for_the_analysis(
    organisation: terrafuse.Organisation, platform: FakePlatform, clock: FakeClock
) -> None:
    platform.analysis_polls = 4
    data = organisation.create_data("Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE])
    data._uploads[0].wait(terrafuse.sdk.timing.Deadline(clock, 60, "upload"))
    clock.sleeps.clear()
    assert data.create_complete() is False
    assert data.create_complete(wait=True) is True
    assert clock.sleeps == [0.5, 0.75]
    (file,) = list(data.files)
    assert file.analysed and file.size == len(platform.objects[file.id]) and file.publishable is True


def test_a_failed_analysis_raises_the_platform_reason(
    organisation: terrafuse.Organisation, platform: FakePlatform
) -> None:
    platform.analysis_error = "the file holds no polygons"
    with pytest.raises(terrafuse.AnalysisFailedError, match="holds no polygons") as caught:
        organisation.create_data(
            "Empty", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
        )
    assert caught.value.file_name == "glasgow.geojson"


def test_create_data_checks_its_files_before_creating_anything(
    organisation: terrafuse.Organisation, platform: FakePlatform
) -> None:
    with pytest.raises(terrafuse.ModelError, match=r"no such file: missing\.geojson"):
        organisation.create_data("R", terrafuse.FILE_TYPE_GEOJSON, ["missing.geojson"])
    with pytest.raises(terrafuse.ModelError, match="unknown file type 'geojson'"):
        organisation.create_data("R", "geojson", [terrafuse.EXAMPLE_GLASGOW_FILE])
    with pytest.raises(terrafuse.ModelError, match="at least one path"):
        organisation.create_data("R", terrafuse.FILE_TYPE_GEOJSON, [])
    assert platform.sent("POST", r"/data") == []


def test_a_failed_add_file_leaves_no_empty_data_item(
    organisation: terrafuse.Organisation, platform: FakePlatform
) -> None:
    refusal = httpx.Response(402, json={"error_message": "not enough credits to store the file"})
    platform.break_next("POST", r"/add_file", lambda r: refusal)
    with pytest.raises(terrafuse.InsufficientCreditsError, match="not enough credits"):
        organisation.create_data("R", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE])
    assert len(platform.sent("DELETE", r"/data/")) == 1 and platform.data == {}
