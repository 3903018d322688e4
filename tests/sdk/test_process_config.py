"""Configuring processes: templates, typed options checked before anything is sent, inputs bound
to analysed data of the right type, the create body, dispatchers, and changes after creation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import terrafuse
from tests.sdk.fake_platform import FakePlatform


@pytest.fixture
def template(organisation: terrafuse.Organisation) -> terrafuse.Process:
    service, _ = organisation.find_services(name="Clouds")
    return organisation.new_process(name="Example", service=service)


@pytest.fixture
def region(organisation: terrafuse.Organisation) -> terrafuse.Data:
    return organisation.create_data(
        "Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
    )


def _options(process: terrafuse.Process) -> dict[str, object]:
    return {option.name: option.value for option in process.options}


def test_a_template_is_local_until_created(template: terrafuse.Process, platform: FakePlatform) -> None:
    assert not template.persisted and template.name == "Example"
    assert _options(template) == {
        "latest_date": True,
        "start_date": None,
        "resolution": 20.0,
        "method": "fast",
    }
    method = next(o for o in template.options if o.name == "method")
    assert method.constrained_values == ("fast", "exact") and method.constrained_names == ("Fast", "Exact")
    assert str(method).startswith("method (constrained, required) = 'fast': Method - The method.")
    (given,) = list(template.inputs)
    assert given.input == 1 and given.file_type == "GeoJSON" and "id" not in given.attributes
    with pytest.raises(terrafuse.ModelError, match="template: call create"):
        template.execute()
    assert platform.sent("POST", r"/processes") == []


def test_options_are_encoded_for_the_wire(template: terrafuse.Process) -> None:
    template.update(option_name="latest_date", value=False)
    start = datetime(2021, 3, 27, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    template.update(option_name="start_date", value=start)
    template.update(option=next(o for o in template.options if o.name == "resolution"), value=120)
    template.update(option_name="method", value="Exact")  # a constrained option's display name
    wire = {o["name"]: o["value"] for o in template._raw["options"]}
    assert wire == {
        "latest_date": "false",
        "start_date": "2021-03-27T00:30:00Z",
        "resolution": "120",
        "method": "exact",
    }
    assert _options(template)["start_date"] == datetime(2021, 3, 27, 0, 30, tzinfo=UTC)
    template.update(option_name="start_date", value=None)
    assert _options(template)["start_date"] is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("resolution", "fine", "give a number"),
        ("resolution", True, "give a number"),
        ("resolution", 5, "must be min 10"),
        ("resolution", 5000, "must be max 1000"),
        ("latest_date", "yes", "give True or False"),
        ("start_date", "2021-03-27", "give a datetime"),
        ("method", "slow", "takes one of"),
        ("colour", 1, "there is no option 'colour'"),
    ],
)
def test_wrong_option_values_are_refused_here(
    template: terrafuse.Process, name: str, value: object, message: str
) -> None:
    before = json.dumps(template._raw, default=str)
    with pytest.raises(terrafuse.ModelError, match=message):
        template.update(option_name=name, value=value)
    assert json.dumps(template._raw, default=str) == before  # nothing half-changed


def test_coerce_value_parses_text(template: terrafuse.Process) -> None:
    template.update(option_name="latest_date", value="False", coerce_value=True)
    template.update(option_name="resolution", value="60", coerce_value=True)
    template.update(option_name="start_date", value="2022-01-02T03:04:05Z", coerce_value=True)
    assert _options(template) == {
        "latest_date": False,
        "start_date": datetime(2022, 1, 2, 3, 4, 5, tzinfo=UTC),
        "resolution": 60.0,
        "method": "fast",
    }
    with pytest.raises(terrafuse.ModelError, match="cannot read 'maybe'"):
        template.update(option_name="latest_date", value="maybe", coerce_value=True)


def test_update_says_what_is_wrong_with_its_arguments(
    template: terrafuse.Process, region: terrafuse.Data
) -> None:
    with pytest.raises(terrafuse.ModelError, match="needs value="):
        template.update(option_name="resolution")
    with pytest.raises(terrafuse.ModelError, match="value= needs option_name="):
        template.update(value=3)
    with pytest.raises(terrafuse.ModelError, match="data= needs input_number="):
        template.update(data=region)
    with pytest.raises(terrafuse.ModelError, match=r"cannot change \['colour'\]"):
        template.update(colour="red")
    with pytest.raises(terrafuse.ModelError, match="run_type must be one of"):
        template.update(run_type="sometimes")
    with pytest.raises(terrafuse.ModelError, match=r"no input 2; its inputs are \[1\]"):
        template.update(input_number=2, data=region)


def test_inputs_take_analysed_data_of_a_fitting_type(
    template: terrafuse.Process, organisation: terrafuse.Organisation, platform: FakePlatform, tmp_path: Path
) -> None:
    waiting = organisation.create_data(
        "Waiting", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE]
    )
    waiting.create_complete(wait=True)
    platform.analysis_polls = 99  # a new upload stays "being analysed"
    late = organisation.create_data("Late", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE])
    late._uploads[0].wait(terrafuse.sdk.timing.Deadline(late._session.clock, 60, "upload"))
    with pytest.raises(terrafuse.ModelError, match="still being uploaded or analysed"):
        template.update(input_number=1, data=late)
    platform.analysis_polls = 1
    raster = tmp_path / "raster.tif"
    raster.write_bytes(b"II*\x00not really")
    tiff = organisation.create_data("Raster", terrafuse.FILE_TYPE_GEOTIFF, [raster], wait=True)
    with pytest.raises(terrafuse.ModelError, match="input 1 takes GeoJSON data; 'Raster' holds GeoTIFF"):
        template.update(input_number=1, data=tiff)
    (given,) = list(template.inputs)
    template.update(input=given, data=waiting)
    assert next(template.inputs).id == waiting.id


def test_create_sends_the_configuration_and_prices_it(
    template: terrafuse.Process, region: terrafuse.Data, platform: FakePlatform
) -> None:
    then = datetime(2030, 1, 1, tzinfo=UTC)
    template.update(input_number=1, data=region)
    template.update(option_name="latest_date", value=False)
    template.create(run_type=terrafuse.RUN_TYPE_RUN_SCHEDULE, repeat_start=then, repeat_count=2)
    (request,) = platform.sent("POST", r"/processes$")
    body = json.loads(request.content)
    assert body["Process[name]"] == "Example" and body["Process[service_id]"] == platform.service_id
    assert body["Process[inputs]"] == [{"input": 1, "id": region.id, "ssd_id": platform.ssd_id}]
    assert {"name": "latest_date", "value": "false"} in body["Process[options]"]
    assert body["Process[run_type]"] == "run_schedule" and body["Process[repeat_count]"] == 2
    assert body["Process[repeat_start]"] == "2030-01-01T00:00:00+00:00"
    assert template.persisted and template.price == Decimal("2.5") and isinstance(template.price, Decimal)
    with pytest.raises(terrafuse.ModelError, match="already created"):
        template.create()


def test_a_refused_create_carries_the_platform_reason(template: terrafuse.Process) -> None:
    with pytest.raises(terrafuse.BadRequestError, match=r"input 1 \(Region\) needs a data item") as caught:
        template.create()
    assert caught.value.status == 400 and not template.persisted


def test_a_created_process_changes_only_its_name_and_schedule(
    template: terrafuse.Process, region: terrafuse.Data, platform: FakePlatform
) -> None:
    template.update(input_number=1, data=region).create()
    with pytest.raises(terrafuse.ModelError, match=r"fixed; use process\.copy"):
        template.update(option_name="latest_date", value=False)
    with pytest.raises(terrafuse.ModelError, match="fixed"):
        template.update(input_number=1, data=region)
    template.update(name="Renamed")
    (patch,) = platform.sent("PATCH", r"/processes/")
    assert json.loads(patch.content) == {"Process[name]": "Renamed"}
    assert template.name == "Renamed"
    platform.processes[template.id]["process_status"] = "execute"
    template.get()
    with pytest.raises(terrafuse.ModelError, match="executing: stop"):
        template.update(name="Again")


def test_dispatchers_are_added_configured_and_removed(
    organisation: terrafuse.Organisation, platform: FakePlatform
) -> None:
    bucket = {
        "ssd_id": "s3",
        "name": "AWS S3",
        "documentation_summary": "Copies the outputs to a bucket.",
        "options": [
            {"name": "bucket", "value": None, "required": True, "data_type": "string", "ssd_id": "s3"}
        ],
    }
    platform.dispatchers = [bucket]
    service, _ = organisation.find_services(name="Clouds")
    process = organisation.new_process(name="Dispatching", service=service)
    (available,) = list(process.available_dispatchers)
    assert str(available) == "AWS S3: Copies the outputs to a bucket."
    assert [o.name for o in available.options] == ["bucket"]
    process.add_dispatcher(number=1).add_dispatcher(name="AWS S3")
    process.update(dispatcher_number=2, option_name="bucket", value="my-bucket", dispatch_intermediate=True)
    first, second = list(process.dispatchers)
    assert next(first.options).value is None and next(second.options).value == "my-bucket"
    assert second.dispatch_intermediate is True
    process.remove_dispatcher(number=1)
    assert [next(d.options).value for d in process.dispatchers] == ["my-bucket"]
    with pytest.raises(terrafuse.ModelError, match="no available dispatcher 3: the platform offers 1"):
        process.add_dispatcher(number=3)
    with pytest.raises(terrafuse.ModelError, match="no dispatcher is called 'e-mail'"):
        process.add_dispatcher(name="e-mail")
    with pytest.raises(terrafuse.ModelError, match="no dispatcher 4"):
        process.update(dispatcher_number=4, option_name="bucket", value="x")


def test_a_template_without_dispatchers_says_so(template: terrafuse.Process) -> None:
    assert list(template.available_dispatchers) == []
    with pytest.raises(terrafuse.ModelError, match="the platform offers 0"):
        template.add_dispatcher(number=1)
