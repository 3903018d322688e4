"""The 2.x guide's snippets of sections 4-9, through terrafuse's SDK against a real server.

Each snippet keeps the guide's code, with ``fusion_platform`` being ``terrafuse`` and ``api_url``
added to ``login``. Repairs of the guide's own slips are marked ``# guide:``: its text-extraction
typos, a 10 s sleep shortened, ``value`` where the guide means ``option.value``,
``component.output`` for ``component.outputs``, and a missing quote. Ids the guide hard-codes are
the demo server's. The assertions after each snippet check what it did on the platform.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.transform import from_bounds

import terrafuse as fusion_platform
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

PASSWORD = "MyPassword123!"


@pytest.fixture
def api_url(terrafuse_server: ServerProcess) -> str:
    return f"{terrafuse_server.url}/api"


@pytest.fixture
def user(api_url: str) -> fusion_platform.User:
    return fusion_platform.login(email="me@org.com", password=PASSWORD, api_url=api_url)


@pytest.fixture
def organisation(user: fusion_platform.User) -> fusion_platform.Organisation:
    return next(user.organisations)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The guide's snippets read and write files in the current folder."""
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(fusion_platform.EXAMPLE_GLASGOW_FILE, tmp_path / "region.geojson")
    return tmp_path


@pytest.fixture
def region(organisation: fusion_platform.Organisation) -> Iterator[fusion_platform.Data]:
    data = organisation.create_data(
        name="Section Region",
        file_type=fusion_platform.FILE_TYPE_GEOJSON,
        files=[fusion_platform.EXAMPLE_GLASGOW_FILE],
        wait=True,
    )
    yield data
    data.delete()


def _raster(path: Path) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=20, height=10, count=1, dtype="uint8", crs="EPSG:4326",
        transform=from_bounds(-4.45, 55.80, -4.10, 55.95, 20, 10),
    ) as ds:  # fmt: skip
        ds.write(np.arange(200, dtype="uint8").reshape(1, 10, 20))
    return path


def test_section_4_authentication(api_url: str) -> None:
    user = fusion_platform.login(email="me@org.com", password="MyPassword123!", api_url=api_url)
    user_id = user.id
    # guide: login(id=...) as the guide writes it
    user = fusion_platform.login(id=user_id, password="MyPassword123!", api_url=api_url)
    assert user.email == "me@org.com"
    user = fusion_platform.login(email="me@org.com", password="MyPassword123!", api_url=api_url)

    given, family = user.given_name, user.family_name
    user.update(given_name="Joe", family_name="Bloggs")
    assert (user.given_name, user.family_name) == ("Joe", "Bloggs")
    assert fusion_platform.login(email="me@org.com", password=PASSWORD, api_url=api_url).given_name == "Joe"
    user.update(given_name=given, family_name=family)

    user.change_password(old="MyPassword123!", new="MyNewPassword123!")
    try:
        with pytest.raises(fusion_platform.AuthenticationError, match="password"):
            fusion_platform.login(email="me@org.com", password="MyPassword123!", api_url=api_url)
        again = fusion_platform.login(email="me@org.com", password="MyNewPassword123!", api_url=api_url)
        assert again.id == user_id
    finally:
        user.change_password(old="MyNewPassword123!", new="MyPassword123!")

    names = []
    for organisation in user.organisations:
        print(organisation.name)
        names.append(organisation.name)
    assert names == ["Acme"]

    organisation = next(user.organisations)
    organisation.update(name="My Organisation")
    try:
        organisation, organisations = user.find_organisations(name="My Organisation")
        assert organisation is not None and [o.name for o in organisations] == ["My Organisation"]
        same, _ = user.find_organisations(id=f" {organisation.id}")  # guide: its id has a leading space
        assert same is not None and same.id == organisation.id
    finally:
        organisation.update(name="Acme")
    assert user.find_organisations(name="nobody")[0] is None


def test_section_5_uploading_files(user: fusion_platform.User, here: Path) -> None:
    organisation = next(user.organisations)
    data = organisation.create_data(
        name="My Region", file_type=fusion_platform.FILE_TYPE_GEOJSON, files=["region.geojson"]
    )
    while not data.create_complete():
        time.sleep(0.2)  # guide: 10 s
    print("Create successfully completed")
    assert data.upload_progress() == [("region.geojson", (here / "region.geojson").stat().st_size)]

    data = organisation.create_data(
        name="My Region", file_type=fusion_platform.FILE_TYPE_GEOJSON, files=["region.geojson"], wait=True
    )
    while not data.create_complete(extended_analysis=True):
        time.sleep(0.2)  # guide: 10 s
    (analysed,) = list(data.files)
    assert analysed.crs == "EPSG:4326" and analysed.polygons == 1 and analysed.publishable is True

    data_copy = data.copy(name="Copy of My Region")
    assert data_copy.name == "Copy of My Region" and data_copy.id != data.id
    assert [f.file_name for f in data_copy.files] == ["region.geojson"]

    names = []
    for data in organisation.data:
        print(data.name)
        names.append(data.name)
    assert {"My Region", "Copy of My Region"} <= set(names)

    data, data_items = organisation.find_data(name="My Region")
    found = list(data_items)
    assert data is not None and len(found) == 2 and all(d.name == "My Region" for d in found)
    data, _ = organisation.find_data(id=data.id)
    assert data is not None and data.name == "My Region"

    first = next(organisation.data)
    original = first.name
    first.update(name="Other Region")
    assert first.name == "Other Region" and organisation.find_data(id=first.id)[0].name == "Other Region"
    first.update(name=original)

    for file in data.files:
        print(f"Downloading {file.file_name} ({file.size} bytes)")
        file.download(path=file.file_name)
    while not file.download_complete():
        url, destination, size = file.download_progress()  # noqa: RUF059 - the guide's code
        print(f"Downloaded {size} of {file.size} bytes")
        time.sleep(0.2)  # guide: 10 s
    print("Download successfully completed")
    assert (here / "region.geojson").read_bytes() == Path(fusion_platform.EXAMPLE_GLASGOW_FILE).read_bytes()
    assert file.download_progress()[2] == file.size

    for file in data.files:
        file.download(path=file.file_name, wait=True)
    for i, file in enumerate(data.files):
        print(f"Downloading preview for {file.file_name}")
        with pytest.raises(fusion_platform.NotFoundError, match="no preview"):  # GeoJSON has none
            file.download(path=f"{i}.png", preview=True, wait=True)
    assert not (here / "0.png").exists()

    json_default = (
        fusion_platform.json_default
    )  # guide: from fusion_platform.common.utilities import json_default
    definitions = []
    for file in data.files:
        definitions.append(file.get_stac_item())
    definitions.append(data.get_stac_collection(definitions))  # guide: "data. get_stac_collection"
    for definition, file_name in definitions:
        with open(file_name, "w") as file:
            file.write(json.dumps(definition, default=json_default))
    item = pystac.Item.from_file(str(here / "region.geojson.json"))
    assert item.bbox == pytest.approx(list(analysed.bounds)) and item.assets["data"].href.endswith(
        "region.geojson"
    )
    collection = pystac.Collection.from_file(str(here / f"{data.id}.json"))
    assert collection.extent.spatial.bboxes[0] == pytest.approx(list(analysed.bounds))

    for each in organisation.find_data(name="My Region")[1]:
        each.delete()
    data_copy.delete()
    assert organisation.find_data(name="My Region")[0] is None
    assert organisation.find_data(name="Copy of My Region")[0] is None


def test_section_6_browsing_services(user: fusion_platform.User) -> None:
    organisation = next(user.organisations)
    names = []
    for service in organisation.services:
        print(service.name)
        print(service.documentation_summary)
        names.append(service.name)
        assert service.documentation_summary
    assert {"Elevation", "Demo: Sentinel-2 Cloud Classification", "NDVI", "Water Bodies"} <= set(names)

    service, services = organisation.find_services(name="Demo")
    demos = [s.name for s in services]
    assert service is not None and demos and all(n.startswith("Demo") for n in demos)
    service, services = organisation.find_services(keyword="Elevation")
    assert service.name == "Elevation" and "Elevation" in service.keywords

    by_id, _ = organisation.find_services(id=service.id)
    by_ssd, _ = organisation.find_services(ssd_id=service.ssd_id)
    assert by_id.id == by_ssd.id == service.id
    assert by_id.get().version == service.version


def test_section_7_creating_processes(
    organisation: fusion_platform.Organisation, region: fusion_platform.Data, here: Path
) -> None:
    raster = organisation.create_data(
        name="My Raster",
        file_type=fusion_platform.FILE_TYPE_GEOTIFF,
        files=[_raster(here / "raster.tif")],
        wait=True,
    )
    service, _ = organisation.find_services(name="Demo: Sentinel-2 Cloud Classification")
    process = organisation.new_process(name="Example", service=service)
    for option in process.options:
        print(option)
    for input in process.inputs:
        print(input)
    assert {o.name for o in process.options} >= {"latest_date", "start_date", "end_date"}

    for option in process.options:
        print(option.name)
        print(option.description)
    process.update(option_name="latest_date", value=False)
    start_date = datetime.now(UTC) - timedelta(days=25)
    process.update(option_name="start_date", value=start_date)
    values = {o.name: o.value for o in process.options}
    assert values["latest_date"] is False and abs(values["start_date"] - start_date) < timedelta(seconds=1)

    for option in process.options:
        if option.required and (option.value is None):  # guide: "value is None"
            if option.data_type == fusion_platform.DATA_TYPE_NUMERIC:  # noqa: SIM114 - the guide's code
                process.update(option=option, value=1)
            elif option.data_type == fusion_platform.DATA_TYPE_CURRENCY:
                process.update(option=option, value=1)
            elif option.data_type == fusion_platform.DATA_TYPE_BOOLEAN:
                process.update(option=option, value=True)
            elif option.data_type == fusion_platform.DATA_TYPE_DATETIME:
                process.update(option=option, value=datetime.now(UTC))
            elif option.data_type == fusion_platform.DATA_TYPE_STRING:
                process.update(option=option, value="Hello world!")
            elif option.data_type == fusion_platform.DATA_TYPE_CONSTRAINED:
                process.update(option=option, value=option.constrained_values[0])
    assert all(o.value is not None for o in process.options if o.required)

    region, _ = organisation.find_data(name="Section Region")
    raster, _ = organisation.find_data(name="My Raster")
    for input in process.inputs:
        if input.file_type == fusion_platform.FILE_TYPE_GEOJSON:
            process.update(input=input, data=region)
        elif input.file_type == fusion_platform.FILE_TYPE_GEOTIFF:
            process.update(input=input, data=raster)
    process.update(input_number=1, data=region)
    assert next(process.inputs).id == region.id

    process.update(run_type=fusion_platform.RUN_TYPE_RUN_ONCE)
    then = datetime.now(UTC) + timedelta(days=1)
    process.update(run_type=fusion_platform.RUN_TYPE_RUN_SCHEDULE, repeat_count=1, repeat_start=then)

    for dispatcher in process.available_dispatchers:  # terrafuse has no dispatchers
        print(dispatcher)
    assert list(process.available_dispatchers) == []
    with pytest.raises(fusion_platform.ModelError, match="offers 0"):
        process.add_dispatcher(number=1)
    with pytest.raises(fusion_platform.ModelError, match="no dispatcher is called 'AWS S3'"):
        process.add_dispatcher(name="AWS S3")

    process.create()
    print(process.price)
    assert isinstance(process.price, Decimal) and process.price > 0
    assert process.run_type == "run_schedule" and abs(process.repeat_start - then) < timedelta(seconds=1)

    process_copy = process.copy(name="Copy of Example")
    then = datetime.now(UTC) + timedelta(days=1)
    process_copy.update(run_type=fusion_platform.RUN_TYPE_RUN_SCHEDULE, repeat_count=1, repeat_start=then)
    process_copy.create()
    assert process_copy.persisted and process_copy.name == "Copy of Example"
    assert [i.id for i in process_copy.inputs] == [region.id]
    assert {o.name: o.value for o in process_copy.options}["latest_date"] is False

    with pytest.raises(fusion_platform.ConflictError, match="used by a process"):
        region.delete()
    process.delete()
    process_copy.delete()
    raster.delete()
    assert organisation.find_processes(name="Example")[0] is None
    assert organisation.find_processes(name="Copy of Example")[0] is None


def test_section_8_executing_and_monitoring(
    organisation: fusion_platform.Organisation, region: fusion_platform.Data
) -> None:
    service, _ = organisation.find_services(keyword="Elevation")
    made = organisation.new_process(name="Process of Glasgow", service=service)
    made.update(input_number=1, data=region).create()
    with pytest.raises(fusion_platform.BadRequestError, match="input 1"):
        organisation.new_process(name="Unbound", service=service).create()

    for process in organisation.processes:
        print(f"{process.name}: {process.process_status}")
    process, processes = organisation.find_processes(name="Process")
    assert process is not None and [p.id for p in processes] == [made.id]
    process, _ = organisation.find_processes(id=made.id)
    assert process.process_status == "stop"

    process.execute()
    process.wait_for_next_execution()
    for execution in process.executions:
        print(f"{execution.id}: {execution.progress}")  # guide: a closing quote was missing
    execution = next(process.executions)
    while not execution.check_complete():
        time.sleep(0.2)  # guide: 10 s
    print("Execution successfully completed")
    execution.check_complete(wait=True)
    assert execution.success is True and execution.progress == 100

    process.execute(wait=True)
    assert process.process_status == "stop" and len(list(process.executions)) == 2

    latest = next(process.executions)
    execution, executions = process.find_executions(id=latest.id)
    assert execution.id == latest.id and [e.id for e in executions] == [latest.id]

    delete_expiry = datetime.now(UTC) + timedelta(days=2)
    execution.change_delete_expiry(delete_expiry=delete_expiry)
    assert abs(execution.delete_expiry - delete_expiry) < timedelta(seconds=1)
    delete_expiry = datetime.now(UTC) + timedelta(days=3)
    execution.update(delete_expiry=delete_expiry)  # the 1.1 guide's way
    assert abs(execution.get().delete_expiry - delete_expiry) < timedelta(seconds=1)

    process.stop()
    assert process.process_status == "stop"
    process.delete()
    assert organisation.find_processes(id=made.id)[0] is None


def test_section_9_execution_inputs_and_outputs(
    organisation: fusion_platform.Organisation, region: fusion_platform.Data, here: Path
) -> None:
    service, _ = organisation.find_services(keyword="Elevation")
    process = organisation.new_process(name="Outputs", service=service)
    process.update(input_number=1, data=region).create().execute(wait=True)

    execution = next(process.executions)
    runtimes = {}
    for component in execution.components:
        print(f"{component.name}: {component.runtime}")
        runtimes[component.name] = component.runtime
    assert list(runtimes) == ["DEM Ingestion", "Elevation"]

    component = next(execution.components)
    input = next(component.inputs)
    for file in input.files:
        print(f"Downloading {file.file_name} ({file.size} bytes)")
        file.download(path=file.file_name)
    file.download_complete(wait=True)
    assert (here / "glasgow.geojson").stat().st_size == file.size

    output = next(component.outputs)  # guide: component.output
    for file in output.files:
        print(f"Downloading {file.file_name} ({file.size} bytes)")
        file.download(path=file.file_name)
    file.download_complete(wait=True)
    with rasterio.open(here / "dem.tif") as dem:
        assert dem.crs.to_epsg() == 32630 and (here / "dem.tif").stat().st_size == file.size

    component.download_log_file(here / "log.csv")
    lines = (here / "log.csv").read_text().splitlines()
    assert lines[0] == "logged_at,message" and len(lines) == 1 + len(list(component.logs)) > 1

    execution.delete()
    assert process.find_executions(id=execution.id)[0] is None
    process.delete()


def test_every_object_reloads_and_a_deleted_one_is_not_found(
    user: fusion_platform.User, organisation: fusion_platform.Organisation, region: fusion_platform.Data
) -> None:
    assert user.get().email == "me@org.com" and organisation.get().name == "Acme"
    assert organisation.credit.any_credits > 0
    assert region.get().name == "Section Region"
    file = next(region.files)
    assert file.get().file_name == "glasgow.geojson" and file.size > 0
    service, _ = organisation.find_services(keyword="Elevation")
    assert service.get().ssd_id == service.ssd_id
    process = organisation.new_process(name="Reloads", service=service).update(input_number=1, data=region)
    process.update(option_name="resolution", value=240).create().execute(wait=True)
    execution = next(process.executions)
    component = next(execution.components)
    assert execution.get().success is True and component.get().name == "DEM Ingestion"
    assert all(line.message for line in component.logs)
    process.delete()
    with pytest.raises(fusion_platform.NotFoundError) as caught:
        execution.get()
    assert caught.value.status == 404 and caught.value.message
