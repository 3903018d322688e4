"""Creating processes (validation: nothing stored when anything is wrong; the price), and what may
change afterwards (name and schedule only; the schedule not while executing). Raw HTTP for the
wire, the published SDK 2.2.5 where users would use it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import fusion_platform
import pyproj
import pytest
import shapely
from fusion_platform.models.process import ProcessSchema
from fusion_platform.session import RequestError

from terrafuse.core.catalogue import Price
from terrafuse.core.slicing import region_area_km2
from tests.analysis.makers import shapefile_zip
from tests.support.server import ServerProcess

from .conftest import (
    CHEAP,
    CLOUDS,
    ELEVATION,
    GLASGOW,
    LAKE_DISTRICT,
    MISSING_ID,
    Api,
    create_process,
    decimal,
    new_tenant,
    ok,
    process_body,
    refused,
    sdk_organisation,
    services_by_name,
    upload,
    upload_region,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"TERRAFUSE_SCHEDULER_TICK_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def ids(me: Api) -> dict[str, str]:
    """Service ids by name."""
    return {name: s["id"] for name, s in services_by_name(me).items()}


def _glasgow_polygon() -> shapely.Polygon:
    document = json.loads(GLASGOW.read_text())
    return shapely.from_geojson(json.dumps(document["features"][0]["geometry"]))


def _kml(polygon: shapely.Polygon) -> bytes:
    ring = " ".join(f"{x},{y}" for x, y in polygon.exterior.coords)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>Glasgow</name><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        "</Document></kml>\n"
    ).encode()


@pytest.fixture(scope="module")
def regions(me: Api, server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Data ids, uploaded once for the module."""
    folder = tmp_path_factory.mktemp("regions")
    shp = shapefile_zip(folder, [_glasgow_polygon()], crs="EPSG:4326")
    other = new_tenant(server, "globex", credits="50")
    return {
        "glasgow": upload_region(me, "Glasgow", GLASGOW),
        "lake": upload_region(me, "Lake District", LAKE_DISTRICT),
        "kml": upload(me, "Glasgow KML", "glasgow.kml", "KML", _kml(_glasgow_polygon())),
        "shapefile": upload(me, "Glasgow shapefile", "roi.zip", "ESRI Shapefile", shp.read_bytes()),
        "csv": upload(me, "Stations", "stations.csv", "CSV", b"name,lon,lat\nA,-4.25,55.86\nB,-4.3,55.9\n"),
        "points": upload(
            me,
            "Points",
            "points.geojson",
            "GeoJSON",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {},
                            "geometry": {"type": "Point", "coordinates": [-4.2, 55.8]},
                        }
                    ],
                }
            ).encode(),
        ),
        "uploading": upload(me, "Still uploading", "glasgow.geojson", "GeoJSON", b"", put=False),
        "empty": ok(me.post("/data", json={"Data[name]": "No files"}))["model"]["id"],
        "foreign": upload_region(other, "Their Glasgow", GLASGOW),
    }


def _refused_and_nothing_stored(me: Api, body: dict[str, Any], status: int, *words: str) -> str:
    before = me.process_ids()
    message = refused(me.post("/processes", json=body), status, *words)
    assert me.process_ids() == before, "a refused process was stored"
    return message


# -- validation -------------------------------------------------------------------------------------
def test_an_input_must_be_bound(me: Api, ids: dict[str, str]) -> None:
    _refused_and_nothing_stored(me, process_body("No input", ids[ELEVATION], None), 400, "input 1")
    unbound = process_body("Unbound", ids[ELEVATION], None, inputs=json.dumps([{"input": 1}]))
    _refused_and_nothing_stored(me, unbound, 400, "input 1", "GeoJSON")


def test_unknown_input_number_is_refused(me: Api, ids: dict[str, str], regions: dict[str, str]) -> None:
    two = json.dumps([{"input": 1, "id": regions["glasgow"]}, {"input": 2, "id": regions["glasgow"]}])
    _refused_and_nothing_stored(me, process_body("Two inputs", ids[ELEVATION], None, inputs=two), 400, "2")


def test_data_of_another_organisation_is_like_missing_data(
    me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    foreign = _refused_and_nothing_stored(
        me, process_body("Theirs", ids[ELEVATION], regions["foreign"]), 400, "no data item"
    )
    missing = _refused_and_nothing_stored(me, process_body("Missing", ids[ELEVATION], MISSING_ID), 400)
    assert foreign.replace(regions["foreign"], "<id>") == missing.replace(MISSING_ID, "<id>")


def test_data_still_uploading_or_empty_is_refused(
    me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    _refused_and_nothing_stored(
        me, process_body("Uploading", ids[ELEVATION], regions["uploading"]), 400, "still being uploaded"
    )
    _refused_and_nothing_stored(me, process_body("Empty", ids[ELEVATION], regions["empty"]), 400, "no files")


def test_wrong_file_type_is_refused(me: Api, ids: dict[str, str], regions: dict[str, str]) -> None:
    _refused_and_nothing_stored(
        me, process_body("CSV", ids[ELEVATION], regions["csv"]), 400, "GeoJSON", "CSV"
    )
    _refused_and_nothing_stored(me, process_body("Points", ids[ELEVATION], regions["points"]), 400, "polygon")


def test_kml_and_shapefile_are_accepted_for_a_geojson_input(
    me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    geojson = create_process(me, "From GeoJSON", ids[ELEVATION], regions["glasgow"], CHEAP)
    for kind in ("kml", "shapefile"):
        process = create_process(me, f"From {kind}", ids[ELEVATION], regions[kind], CHEAP)
        assert process["inputs"][0]["id"] == regions[kind]
        # The same polygon, so the same area and price.
        assert abs(decimal(process["price"]) - decimal(geojson["price"])) <= Decimal("0.000001")


@pytest.mark.parametrize(
    ("service", "options", "words"),
    [
        (ELEVATION, {"resolution": "fine"}, ("resolution", "number")),
        (ELEVATION, {"resolution": "5"}, ("resolution", "10")),
        (ELEVATION, {"resolution": "5000"}, ("resolution", "1000")),
        (ELEVATION, {"resolution": None}, ("resolution", "required")),
        (CLOUDS, {"latest_date": "maybe"}, ("latest_date", "true or false")),
        (CLOUDS, {"latest_date": "1.5"}, ("latest_date",)),
        (CLOUDS, {"start_date": "31/12/2021"}, ("start_date",)),
        (CLOUDS, {"start_date": "2021-13-45T00:00:00Z"}, ("start_date",)),
        (CLOUDS, {"end_date": "next tuesday"}, ("end_date",)),
    ],
)
def test_bad_option_values_are_refused(
    me: Api,
    ids: dict[str, str],
    regions: dict[str, str],
    service: str,
    options: dict[str, Any],
    words: tuple[str, ...],
) -> None:
    body = process_body("Bad option", ids[service], regions["glasgow"], options)
    _refused_and_nothing_stored(me, body, 400, *words)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"run_type": "run_schedule", "repeat_count": 3}, ("repeat_gap",)),
        ({"run_type": "sometimes"}, ("run_type",)),
        ({"repeat_count": -1}, ("repeat_count",)),
        ({"output_storage_period": 0}, ("output_storage_period",)),
        ({"repeat_start": "soon"}, ("repeat_start",)),
        (
            {
                "run_type": "run_schedule",
                "repeat_count": 1,
                "repeat_start": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
            },
            ("repeat_start", "past"),
        ),
        (
            {
                "run_type": "run_schedule",
                "repeat_count": 2,
                "repeat_gap": json.dumps({"hours": 1}),
                "repeat_start": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
                "repeat_end": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
            ("repeat_end",),
        ),
        (
            {
                "run_type": "run_schedule",
                "repeat_count": 2,
                "repeat_gap": json.dumps({"fortnights": 1}),
                "repeat_start": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
            ("repeat_gap",),
        ),
    ],
)
def test_bad_schedules_are_refused(
    me: Api, ids: dict[str, str], regions: dict[str, str], fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    body = process_body("Bad schedule", ids[ELEVATION], regions["glasgow"], CHEAP, **fields)
    _refused_and_nothing_stored(me, body, 400, *words)


@pytest.mark.parametrize("name", [None, "", "   ", "x" * 201, 42])
def test_name_is_required(me: Api, ids: dict[str, str], regions: dict[str, str], name: Any) -> None:
    body = process_body(None, ids[ELEVATION], regions["glasgow"], CHEAP)
    if name is not None:
        body["Process[name]"] = name
    _refused_and_nothing_stored(me, body, 400, "name")


def test_service_is_required_and_must_exist(me: Api, regions: dict[str, str]) -> None:
    _refused_and_nothing_stored(me, process_body("No service", None, regions["glasgow"]), 400, "service_id")
    _refused_and_nothing_stored(me, process_body("Unknown", MISSING_ID, regions["glasgow"]), 404, MISSING_ID)


def test_unreadable_bodies_are_refused(me: Api) -> None:
    before = me.process_ids()
    response = me.post("/processes", content=b"{not json", headers={"Content-Type": "application/json"})
    refused(response, 400, "JSON")
    assert me.process_ids() == before


# -- the price -----------------------------------------------------------------------------------------
def _charge(service: dict[str, Any], area_km2: float) -> Decimal:
    """The price from the service's published charge expression (evaluated in floats)."""
    expression = service["charge_expression_platform"]
    value = eval(expression, {"__builtins__": {}, "max": max}, {"area_km2": area_km2, "scenes": 0})
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def _lake_district_wgs84() -> shapely.Geometry:
    document = json.loads(LAKE_DISTRICT.read_text())
    assert "27700" in document["crs"]["properties"]["name"]
    to_wgs84 = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    polygons = [shapely.from_geojson(json.dumps(f["geometry"])) for f in document["features"]]
    merged = shapely.union_all([shapely.make_valid(p) for p in polygons])
    return shapely.transform(merged, lambda x, y: to_wgs84.transform(x, y), interleaved=False)


def test_price_is_the_formula_for_the_region_area(
    me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    services = services_by_name(me)
    cases = [
        (
            ELEVATION,
            regions["glasgow"],
            _glasgow_polygon(),
            Price(Decimal(1), Decimal("0.002"), minimum=Decimal(1)),
        ),
        (
            CLOUDS,
            regions["lake"],
            _lake_district_wgs84(),
            Price(Decimal(1), Decimal("0.01"), minimum=Decimal(1)),
        ),
    ]
    for name, data_id, geometry, price in cases:
        area = region_area_km2(geometry)
        process = create_process(me, f"Priced {name}", ids[name], data_id, CHEAP)
        expected = price.total(area)
        assert abs(decimal(process["price"]) - expected) <= Decimal("0.000001"), (
            name,
            process["price"],
            expected,
        )
        assert abs(decimal(process["price"]) - _charge(services[name], area)) <= Decimal("0.000001")
        assert abs(process["area_km2"] - area) < 1e-3
        ProcessSchema().load(process)
    # The guide's numbers: Glasgow about 229 km², the Lake District about 2,362 km².
    assert 225 < region_area_km2(_glasgow_polygon()) < 235
    assert 2300 < region_area_km2(_lake_district_wgs84()) < 2420


def test_sdk_creates_a_process_and_reads_its_price(server: ServerProcess, regions: dict[str, str]) -> None:
    organisation = sdk_organisation(server)
    region, _ = organisation.find_data(id=regions["glasgow"])
    service, _ = organisation.find_services(keyword="Elevation")
    process = organisation.new_process(name="SDK created", service=service)
    process.update(input_number=1, data=region)
    process.update(option_name="resolution", value=120.0)
    process.create()
    expected = Price(Decimal(1), Decimal("0.002"), minimum=Decimal(1)).total(
        region_area_km2(_glasgow_polygon())
    )
    assert process.price == expected
    assert process.process_status == "stop" and process.run_type == "run_once"
    assert {o.name: o.value for o in process.options} == {"resolution": 120.0}
    assert [str(i.id) for i in process.inputs] == [regions["glasgow"]]
    found, _ = organisation.find_processes(name="SDK created")
    assert found is not None and found.id == process.id
    # A bad value is refused by the server with its message (the SDK raises RequestError).
    bad = organisation.new_process(name="SDK refused", service=service)
    bad.update(input_number=1, data=region)
    bad.update(option_name="resolution", value=5.0)
    with pytest.raises(RequestError, match="resolution"):
        bad.create()
    none, _ = organisation.find_processes(name="SDK refused")
    assert none is None


def test_nested_create_body_is_accepted(me: Api, ids: dict[str, str], regions: dict[str, str]) -> None:
    body = {
        "Process": {
            "name": "Nested body",
            "service_id": ids[ELEVATION],
            "inputs": [{"input": 1, "id": regions["glasgow"]}],
            "options": [{"name": "resolution", "value": "120"}],
        }
    }
    process = ok(me.post("/processes", json=body))["model"]
    assert process["name"] == "Nested body" and process["inputs"][0]["id"] == regions["glasgow"]
    assert process["options"][0]["value"] == "120.0"


# -- after create ---------------------------------------------------------------------------------
def test_rename_works_and_inputs_and_options_are_fixed(
    me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    process = create_process(me, "Before", ids[ELEVATION], regions["glasgow"], CHEAP)
    pid = process["id"]
    # The SDK echoes every field it holds: unchanged inputs and options and read-only fields pass.
    echoed = {f"Process[{k}]": json.dumps(v) if isinstance(v, list | dict) else v for k, v in process.items()}
    echoed.update(
        {
            "Process[name]": "After",
            "Process[price]": "0.01",
            "Process[process_status]": "execute",
            "Process[service_id]": ids[CLOUDS],
        }
    )
    changed = ok(me.patch(f"/processes/{pid}", json=echoed))["model"]
    again = me.process(pid)
    for model in (changed, again):
        assert model["name"] == "After"
        assert model["inputs"][0]["id"] == regions["glasgow"]
        assert model["options"] == process["options"]
        assert model["price"] == process["price"] and model["service_id"] == ids[ELEVATION]
        assert model["process_status"] == "stop"
    # Changed inputs or options are refused, not silently dropped; nothing changes.
    other_input = {
        **echoed,
        "Process[name]": "Moved",
        "Process[inputs]": json.dumps([{"input": 1, "id": regions["lake"]}]),
    }
    refused(me.patch(f"/processes/{pid}", json=other_input), 400, "input 1", "copy")
    other_option = {
        **echoed,
        "Process[name]": "Coarser",
        "Process[options]": json.dumps([{"name": "resolution", "value": "500"}]),
    }
    refused(me.patch(f"/processes/{pid}", json=other_option), 400, "resolution", "copy")
    assert me.process(pid) == again
    refused(me.patch(f"/processes/{pid}", json={"Process[name]": "  "}), 400, "name")
    assert me.process(pid)["name"] == "After"


def test_schedule_changes_when_stopped_but_not_while_executing(
    me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    process = create_process(
        me, "Scheduled", ids[ELEVATION], regions["glasgow"], CHEAP,
        run_type="run_schedule", repeat_count=2, repeat_start=tomorrow.isoformat(),
        repeat_gap=json.dumps({"hours": 1}),
    )  # fmt: skip
    pid = process["id"]
    later = tomorrow + timedelta(days=1)
    moved = ok(me.patch(f"/processes/{pid}", json={"Process[repeat_start]": later.isoformat()}))["model"]
    assert datetime.fromisoformat(moved["repeat_start"]) == later
    executing = ok(me.post(f"/processes/{pid}/execute"))["model"]  # armed for tomorrow: nothing runs yet
    assert executing["process_status"] == "execute" and executing["executions"] == []
    assert executing["deletable"] == "false"
    balance = decimal(me.credits()["any_credits"])
    for change in (
        {"Process[repeat_start]": (later + timedelta(hours=3)).isoformat()},
        {"Process[repeat_count]": 5},
        {"Process[run_type]": "run_once"},
    ):
        refused(me.patch(f"/processes/{pid}", json=change), 409, "executing")
    refused(me.post(f"/processes/{pid}/execute"), 409, "already executing")
    # Renaming is still allowed; the schedule is as it was.
    renamed = ok(me.patch(f"/processes/{pid}", json={"Process[name]": "Scheduled, renamed"}))["model"]
    assert renamed["name"] == "Scheduled, renamed" and renamed["repeat_count"] == 2
    assert datetime.fromisoformat(renamed["repeat_start"]) == later
    assert decimal(me.credits()["any_credits"]) == balance  # arming reserves nothing
    stopped = ok(me.post(f"/processes/{pid}/stop"))["model"]
    assert stopped["process_status"] == "stop" and stopped["deletable"] == "true"
    once = ok(me.patch(f"/processes/{pid}", json={"Process[run_type]": "run_once"}))["model"]
    assert once["run_type"] == "run_once"


def test_sdk_renames_a_scheduled_process_after_its_schedule_ran(
    server: ServerProcess, me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    """A process whose one scheduled run is over is renamed with the SDK (which sends every field,
    repeat_count 0 included): only the name changes."""
    before = decimal(me.credits()["any_credits"])
    start = datetime.now(UTC) + timedelta(seconds=2)
    process = create_process(
        me, "Once on a schedule", ids[ELEVATION], regions["glasgow"], CHEAP,
        run_type="run_schedule", repeat_count=1, repeat_start=start.isoformat(),
    )  # fmt: skip
    ok(me.post(f"/processes/{process['id']}/execute"))

    def ran() -> dict[str, Any] | None:
        model = me.process(process["id"])
        done = model["executions"] and all(e["ended_at"] for e in model["executions"])
        return model if done and model["process_status"] == "stop" else None

    model = wait_for(ran, 60, "the scheduled run")
    assert model["repeat_count"] == 0 and len(model["executions"]) == 1
    assert model["executions"][0]["job_status"] == "successful"
    # Nothing is left to run: executing again says so.
    refused(me.post(f"/processes/{process['id']}/execute"), 400, "no occurrence")
    assert before - decimal(me.credits()["any_credits"]) == decimal(process["price"])  # one firing paid
    organisation = sdk_organisation(server)
    found, _ = organisation.find_processes(id=process["id"])
    found.update(name="Once on a schedule, renamed")
    assert found.name == "Once on a schedule, renamed"
    assert me.process(process["id"])["name"] == "Once on a schedule, renamed"


def test_sdk_copy_makes_a_new_process_with_the_same_configuration(
    server: ServerProcess, me: Api, ids: dict[str, str], regions: dict[str, str]
) -> None:
    original = create_process(me, "Original", ids[ELEVATION], regions["glasgow"], {"resolution": "90"})
    organisation = sdk_organisation(server)
    process, _ = organisation.find_processes(id=original["id"])
    copy = process.copy("Copied")
    copy.create()
    assert copy.id != process.id and copy.name == "Copied"
    assert [str(i.id) for i in copy.inputs] == [regions["glasgow"]]
    assert {o.name: o.value for o in copy.options} == {"resolution": 90.0}
    assert copy.price == process.price
    assert me.process(str(copy.id))["name"] == "Copied"
    assert me.process(original["id"])["name"] == "Original"


def test_delete_of_a_never_executed_process(me: Api, ids: dict[str, str], regions: dict[str, str]) -> None:
    process = create_process(me, "Short-lived", ids[ELEVATION], regions["glasgow"], CHEAP)
    reply = ok(me.delete(f"/processes/{process['id']}"))
    assert reply["model"]["id"] == process["id"]
    refused(me.get(f"/processes/{process['id']}"), 404, process["id"])
    refused(me.delete(f"/processes/{process['id']}"), 404)
    assert process["id"] not in me.process_ids()
    assert ok(me.get(f"/data/{regions['glasgow']}"))["model"]["id"] == regions["glasgow"]


def test_process_list_filters_search_and_pages(me: Api, ids: dict[str, str], regions: dict[str, str]) -> None:
    made = [
        create_process(me, f"Listed {i} zebra", ids[ELEVATION], regions["glasgow"], CHEAP) for i in range(3)
    ]
    mine = {p["id"] for p in made}
    by_name = me.items("/processes", **{"filter[name__contains]": "zebra"})
    assert {p["id"] for p in by_name} == mine
    assert {p["id"] for p in me.items("/processes", search="ZEBRA")} == mine
    (one,) = me.items("/processes", **{"filter[id__eq]": made[1]["id"]})
    assert one["name"] == "Listed 1 zebra"
    first = ok(me.get("/processes", params={"limit": 2, "filter[name__contains]": "zebra"}))
    assert len(first["list"]) == 2 and first["last"]
    rest = ok(
        me.get(
            "/processes",
            params={
                "limit": 2,
                "filter[name__contains]": "zebra",
                **{f"last[{k}]": v for k, v in first["last"].items()},
            },
        )
    )
    assert len(rest["list"]) == 1 and not rest["last"]
    assert {p["id"] for p in first["list"] + rest["list"]} == mine
    newest = ok(me.get("/processes", params={"reverse": "True", "filter[name__contains]": "zebra"}))["list"]
    assert [p["name"] for p in newest] == ["Listed 2 zebra", "Listed 1 zebra", "Listed 0 zebra"]


def test_sdk_rejects_a_bad_input_type_before_sending(server: ServerProcess, regions: dict[str, str]) -> None:
    """The SDK itself refuses a CSV for the GeoJSON input (the server would too)."""
    organisation = sdk_organisation(server)
    csv, _ = organisation.find_data(id=regions["csv"])
    service, _ = organisation.find_services(keyword="Elevation")
    process = organisation.new_process(name="CSV input", service=service)
    with pytest.raises(fusion_platform.models.model.ModelError):
        process.update(input_number=1, data=csv)


def test_template_and_create_use_the_users_default_storage_period(
    server: ServerProcess, ids: dict[str, str]
) -> None:
    """A user's ``default_output_storage_period`` is the default of their new processes."""
    tenant = new_tenant(server, "keeper", credits="5")
    reply = tenant.raw.patch(f"/users/{tenant.user_id}", json={"User[default_output_storage_period]": 7})
    assert ok(reply)["model"]["default_output_storage_period"] == 7
    template = ok(tenant.get("/processes/new", params={"service_id": ids[ELEVATION]}))["model"]
    assert template["output_storage_period"] == 7
    region = upload_region(tenant, "Glasgow", GLASGOW)
    process = create_process(tenant, "Kept a week", ids[ELEVATION], region, CHEAP)
    assert process["output_storage_period"] == 7
    explicit = create_process(
        tenant, "Kept three days", ids[ELEVATION], region, CHEAP, output_storage_period=3
    )
    assert explicit["output_storage_period"] == 3


@pytest.mark.parametrize(
    ("service", "given", "stored"),
    [
        (CLOUDS, {"latest_date": True}, {"latest_date": "true"}),
        (CLOUDS, {"latest_date": "False"}, {"latest_date": "false"}),
        (CLOUDS, {"start_date": "2021-03-01"}, {"start_date": "2021-03-01T00:00:00Z"}),
        (CLOUDS, {"start_date": "2021-03-01T01:00:00+01:00"}, {"start_date": "2021-03-01T00:00:00Z"}),
        (ELEVATION, {"resolution": 120}, {"resolution": "120.0"}),
        (ELEVATION, {"resolution": "1e2"}, {"resolution": "100.0"}),
        (ELEVATION, {"not_an_option": "x"}, {"resolution": "30.0"}),
    ],
)
def test_accepted_option_values_are_stored_in_their_wire_form(
    me: Api,
    ids: dict[str, str],
    regions: dict[str, str],
    service: str,
    given: dict[str, Any],
    stored: dict[str, str],
) -> None:
    process = create_process(me, "Normalised", ids[service], regions["glasgow"], given)
    values = {o["name"]: o["value"] for o in process["options"]}
    assert {k: values[k] for k in stored} == stored
    assert "not_an_option" not in values


def test_sdk_sets_typed_options_of_a_cloud_process(server: ServerProcess, regions: dict[str, str]) -> None:
    organisation = sdk_organisation(server)
    region, _ = organisation.find_data(id=regions["lake"])
    service, _ = organisation.find_services(name=CLOUDS)
    process = organisation.new_process(name="Dated clouds", service=service)
    process.update(input_number=1, data=region)
    process.update(option_name="latest_date", value=False)
    process.update(option_name="start_date", value=datetime(2021, 3, 20, 12, 30, tzinfo=UTC))
    process.create()
    options = {o.name: o.value for o in process.options}
    assert options["latest_date"] is False
    assert options["start_date"] == datetime(2021, 3, 20, 12, 30, tzinfo=UTC)
    assert options["end_date"] is None and options["resolution"] == 20.0
