"""The service catalogue (``services/latest``, ``services/{id}``), process templates
(``processes/new``) and the same services seen as OGC processes, against a real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import fusion_platform
import httpx
import pytest
from fusion_platform.models.process import ProcessOptionSchema
from fusion_platform.models.service import ServiceSchema

from tests.support.server import ServerProcess

from .conftest import (
    CLOUDS,
    CLOUDS_V1,
    ELEVATION,
    MISSING_ID,
    SERVICE_NAMES,
    Api,
    ok,
    refused,
    sdk_organisation,
    services_by_name,
)

pytestmark = pytest.mark.e2e
AGGREGATOR = "statistics-aggregator"


@pytest.fixture(scope="module")
def catalogue(me: Api) -> dict[str, dict[str, Any]]:
    return services_by_name(me)


def _names(response: httpx.Response) -> list[str]:
    return [s["name"] for s in ok(response)["list"]]


# -- services/latest ------------------------------------------------------------------------------
def test_latest_lists_the_five_services_with_the_fields_the_sdk_requires(me: Api) -> None:
    body = ok(me.get("/services/latest"))
    assert set(body) == {"list", "last", "extras"} and body["last"] is None
    services = body["list"]
    assert {s["name"] for s in services} == SERVICE_NAMES and len(services) == 5
    assert len({s["id"] for s in services}) == 5 and len({s["ssd_id"] for s in services}) == 5
    for service in services:
        loaded = ServiceSchema().load(service)  # the SDK 2.2.5's own schema: required keys non-null
        assert loaded["created_at"].tzinfo is not None
        assert isinstance(service["version"], int) and service["approval_status"] == "approved"
        assert service["categories"] and service["keywords"]
        for key in ("summary", "description", "assumptions", "performance", "actions"):
            assert service[f"documentation_{key}"].strip(), (service["name"], key)
        assert service["documentation_inputs"] and service["documentation_options"]
    # Sorted by name (the list's order) and stable across calls.
    assert [s["name"] for s in services] == sorted(s["name"] for s in services)
    assert ok(me.get("/services/latest"))["list"] == services


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[keywords__contains]": "Elevation"}, [ELEVATION]),
        ({"filter[keywords__contains]": "Cloud Classification"}, [CLOUDS_V1, CLOUDS]),
        ({"filter[keywords__contains]": "NDWI"}, ["Water Bodies"]),
        # The 1.1 guide's name finds the entry made for it, and only that one.
        ({"filter[name__begins_with]": "Demo: Cloud Classification"}, [CLOUDS_V1]),
        ({"filter[name__begins_with]": "Demo: Sentinel-2"}, [CLOUDS]),
        ({"filter[name__begins_with]": "Demo"}, [CLOUDS_V1, CLOUDS]),
        ({"filter[name__begins_with]": "demo"}, []),  # filters are case-sensitive
        ({"filter[keywords__contains]": "Nothing like this"}, []),
        ({"search": "ndwi"}, ["Water Bodies"]),
        ({"search": "VEGETATION"}, ["NDVI"]),  # search is case-insensitive
        ({"search": "slope"}, [ELEVATION]),
    ],
)
def test_filters_and_search(me: Api, params: dict[str, str], expected: list[str]) -> None:
    assert _names(me.get("/services/latest", params=params)) == expected


def test_id_and_ssd_id_filters(me: Api, catalogue: dict[str, dict[str, Any]]) -> None:
    for name, service in catalogue.items():
        assert _names(me.get("/services/latest", params={"filter[id__eq]": service["id"]})) == [name]
        assert _names(me.get("/services/latest", params={"filter[ssd_id__eq]": service["ssd_id"]})) == [name]
    assert _names(me.get("/services/latest", params={"filter[id__eq]": MISSING_ID})) == []


def test_bad_filters_and_limits_are_refused_with_a_message(me: Api) -> None:
    refused(me.get("/services/latest", params={"filter[price__eq]": "1"}), 400, "price")
    refused(me.get("/services/latest", params={"filter[name__like]": "x"}), 400, "like")
    refused(me.get("/services/latest", params={"limit": "many"}), 400, "limit")
    refused(me.get("/services/latest", params={"limit": "0"}), 400, "limit")


@pytest.mark.parametrize("reverse", ["False", "True"])
def test_limit_and_last_page_through_the_catalogue(me: Api, reverse: str) -> None:
    everything = _names(me.get("/services/latest", params={"reverse": reverse}))
    pages: list[list[str]] = []
    params: dict[str, str] = {"limit": "2", "reverse": reverse}
    while True:
        body = ok(me.get("/services/latest", params=params))
        pages.append([s["name"] for s in body["list"]])
        if not body["last"]:
            break
        assert len(pages) < 10, "the cursor does not move on"
        params = {"limit": "2", "reverse": reverse, **{f"last[{k}]": v for k, v in body["last"].items()}}
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [n for p in pages for n in p] == everything
    assert everything == sorted(SERVICE_NAMES, reverse=reverse == "True")


def test_get_by_id_and_by_ssd_id(me: Api, catalogue: dict[str, dict[str, Any]]) -> None:
    for service in catalogue.values():
        assert me.model(f"/services/{service['id']}") == service
        assert me.model(f"/services/{service['ssd_id']}") == service
        # The owner's path (what the SDK's Service.get uses) answers the same.
        owner = ok(me.raw.get(f"/organisations/{service['organisation_id']}/services/{service['id']}"))
        assert owner["model"] == service


@pytest.mark.parametrize("service_id", [MISSING_ID, "not-an-id", "Elevation"])
def test_unknown_service_is_404_with_a_message(me: Api, service_id: str) -> None:
    refused(me.get(f"/services/{service_id}"), 404, service_id)


def test_own_and_dispatcher_lists_are_empty_lists(me: Api) -> None:
    for path in ("/services", "/services/dispatchers"):
        assert ok(me.get(path)) == {"list": [], "last": None, "extras": {}}


def test_sdk_finds_services_like_the_guide(
    server: ServerProcess, catalogue: dict[str, dict[str, Any]]
) -> None:
    organisation = sdk_organisation(server)
    elevation, found = organisation.find_services(keyword="Elevation")
    assert elevation.name == ELEVATION and [s.name for s in found] == [ELEVATION]
    v1, _ = organisation.find_services(name="Demo: Cloud Classification")
    assert v1.name == CLOUDS_V1 and str(v1.id) == catalogue[CLOUDS_V1]["id"]
    by_ssd, _ = organisation.find_services(ssd_id=catalogue[CLOUDS]["ssd_id"])
    assert by_ssd.name == CLOUDS
    by_id, _ = organisation.find_services(id=catalogue["NDVI"]["id"])
    assert by_id.name == "NDVI"
    searched, _ = organisation.find_services(search="Water")
    assert searched.name == "Water Bodies"
    assert sorted(s.name for s in organisation.services) == sorted(SERVICE_NAMES)
    nothing, none = organisation.find_services(keyword="Nothing like this")
    assert nothing is None and list(none) == []


# -- processes/new ------------------------------------------------------------------------------------
def test_template_shape(me: Api, catalogue: dict[str, dict[str, Any]]) -> None:
    service = catalogue[CLOUDS]
    before = datetime.now(UTC)
    body = ok(me.get("/processes/new", params={"service_id": service["id"]}))
    after = datetime.now(UTC)
    assert body["extras"] == {"dispatchers": []}
    model = body["model"]
    assert model["organisation_id"] == me.org_id
    assert model["service_id"] == service["id"] and model["ssd_id"] == service["ssd_id"]
    assert "id" not in model and model.get("name") is None
    # Inputs: numbered, typed, documented, and unbound (no id key at all, not a null).
    (region,) = model["inputs"]
    assert region["input"] == 1 and region["file_type"] == "GeoJSON" and "id" not in region
    assert region["title"] and region["description"] and region["model"] == "Data"
    # Options: every one documented and valid for the SDK; datetimes carry their format.
    options = {o["name"]: o for o in model["options"]}
    assert set(options) == {"latest_date", "start_date", "end_date", "resolution"}
    for option in options.values():
        ProcessOptionSchema().load(option)
        assert option["title"].strip() and option["description"].strip()
        assert option["value"] is None or isinstance(option["value"], str)
    assert options["latest_date"]["data_type"] == "boolean" and options["latest_date"]["value"] == "true"
    for name in ("start_date", "end_date"):
        assert options[name]["data_type"] == "datetime" and options[name]["value"] is None
        assert "format=" in options[name]["validation"]
    assert options["resolution"]["data_type"] == "numeric"
    assert float(options["resolution"]["value"]) == 20.0
    # Schedule defaults: run once, now, with the user's storage period.
    user = ok(me.raw.get(f"/users/{me.user_id}"))["model"]
    assert model["run_type"] == "run_once" and model["repeat_count"] == 1
    start = datetime.fromisoformat(model["repeat_start"])
    assert start.tzinfo is not None
    assert before - timedelta(seconds=1) <= start <= after + timedelta(seconds=1)
    assert model["repeat_end"] is None and model["repeat_gap"] is None
    assert model["output_storage_period"] == user["default_output_storage_period"]


def test_template_by_ssd_id_is_the_latest_version(me: Api, catalogue: dict[str, dict[str, Any]]) -> None:
    service = catalogue[ELEVATION]
    model = ok(me.get("/processes/new", params={"service_id": service["ssd_id"]}))["model"]
    assert model["service_id"] == service["id"]
    assert [o["name"] for o in model["options"]] == ["resolution"]


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({}, 400, ("service_id",)),
        ({"service_id": ""}, 400, ("service_id",)),
        ({"service_id": MISSING_ID}, 404, (MISSING_ID,)),
        ({"service_id": "Elevation"}, 404, ("Elevation",)),
    ],
)
def test_template_without_a_known_service_is_refused(
    me: Api, params: dict[str, str], status: int, words: tuple[str, ...]
) -> None:
    refused(me.get("/processes/new", params=params), status, *words)


def test_sdk_template_prints_and_converts_options(server: ServerProcess) -> None:
    organisation = sdk_organisation(server)
    service, _ = organisation.find_services(name=CLOUDS)
    process = organisation.new_process(name="Template only", service=service)
    options = {o.name: o for o in process.options}
    assert options["latest_date"].value is True
    assert options["start_date"].value is None and options["end_date"].value is None
    assert options["resolution"].value == 20.0
    assert all(repr(o) and str(o) for o in options.values())  # needs title/description
    (region,) = list(process.inputs)
    assert region.file_type == fusion_platform.FILE_TYPE_GEOJSON and str(region)
    assert process.run_type == fusion_platform.RUN_TYPE_RUN_ONCE
    assert list(process.available_dispatchers) == []
    # Setting typed values locally works against the template (datetime rendered with its format).
    process.update(option_name="latest_date", value=False)
    process.update(option_name="start_date", value=datetime(2021, 3, 1, tzinfo=UTC))
    options = {o.name: o for o in process.options}
    assert options["latest_date"].value is False
    assert options["start_date"].value == datetime(2021, 3, 1, tzinfo=UTC)


# -- the same services as OGC processes -------------------------------------------------------------
def _ogc_processes(server: ServerProcess, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    url: str | None = f"{server.url}{prefix}/ogc-api/processes?limit=2"
    while url:
        body = httpx.get(url, timeout=30).raise_for_status().json()
        found += body["processes"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        assert len(found) < 100
    return found


@pytest.mark.parametrize("prefix", ["", "/acme"])
def test_services_are_ogc_processes_and_the_aggregator_is_not(
    server: ServerProcess, catalogue: dict[str, dict[str, Any]], prefix: str
) -> None:
    processes = _ogc_processes(server, prefix)
    ids = [p["id"] for p in processes]
    assert len(ids) == len(set(ids))
    titles = {p["title"]: p for p in processes}
    for name in SERVICE_NAMES:
        assert name in titles, (name, sorted(titles))
        described = httpx.get(f"{server.url}{prefix}/ogc-api/processes/{titles[name]['id']}", timeout=30)
        assert described.status_code == 200 and described.json()["title"] == name
        assert "region" in described.json()["inputs"]
    assert AGGREGATOR not in ids
    assert not any("aggregator" in p["id"].lower() or "Aggregator" in p.get("title", "") for p in processes)
    for suffix in ("", "/execution"):
        url = f"{server.url}{prefix}/ogc-api/processes/{AGGREGATOR}{suffix}"
        response = httpx.post(url, json={"inputs": {}}) if suffix else httpx.get(url)
        assert response.status_code == 404, response.text
        assert response.json()["type"].endswith("no-such-process")
