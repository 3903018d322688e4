"""OGC API - Processes discovery: landing page, API definition, conformance, processes.

Mirrors the CITE suite's GeneralHttp, LandingPage, Conformance, ProcessList, Process and
OGCProcessDescription checks; every JSON body is validated against the official 1.0 schemas.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation import OpenAPIV30SpecValidator

from tests.support.ogc import validate
from tests.support.ogc_api import (
    CONF,
    EXC,
    OPENAPI_JSON,
    REL,
    ROOT,
    assert_exception,
    is_absolute,
    json_of,
    link,
    media_type,
    path_of,
)

ROOTS = [ROOT, "/acme/ogc-api"]


def _rels(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lk["rel"]: lk for lk in doc["links"]}


@pytest.mark.parametrize("root", ROOTS)
def test_landing_page(client: TestClient, root: str) -> None:
    response = client.get(f"{root}/", headers={"Accept": "application/json"})
    assert response.http_version == "HTTP/1.1"
    doc = json_of(response, "landingPage")
    rels = _rels(doc)
    assert rels["service-desc"]["type"] == OPENAPI_JSON
    assert "service-doc" in rels
    for rel in ("conformance", "processes", "job-list"):
        assert f"{REL}{rel}" in rels, rel
    assert rels[f"{REL}processes"]["href"].endswith(f"{root}/processes")
    schemas = {
        "self": "landingPage",
        f"{REL}conformance": "confClasses",
        f"{REL}processes": "processList",
        f"{REL}job-list": "jobList",
    }
    for lk in doc["links"]:
        assert is_absolute(lk["href"]), lk
        if lk["rel"] in schemas:
            # Every JSON link leads to a valid document.
            json_of(client.get(path_of(lk["href"])), schemas[lk["rel"]])


def test_landing_page_without_trailing_slash(client: TestClient) -> None:
    # OGC clients are often configured with ".../ogc-api" as the landing page URL.
    doc = json_of(client.get(ROOT), "landingPage")
    assert link(doc, f"{REL}conformance")


def test_landing_page_ignores_unknown_preferences(client: TestClient) -> None:
    # OWSLib keeps a Prefer header it was given and sends it on every later GET.
    for prefer in ("respond-async", "respond-async;return=representation", "handling=lenient, foo"):
        json_of(client.get(f"{ROOT}/", headers={"Prefer": prefer}), "landingPage")
        json_of(client.get(f"{ROOT}/processes", headers={"Prefer": prefer}), "processList")


@pytest.mark.parametrize("root", ROOTS)
def test_service_desc_is_an_openapi_30_document(client: TestClient, root: str) -> None:
    landing = client.get(f"{root}/").json()
    desc = _rels(landing)["service-desc"]
    response = client.get(path_of(desc["href"]), headers={"Accept": desc["type"]})
    assert response.status_code == 200
    assert response.headers["content-type"].replace(" ", "") == OPENAPI_JSON
    doc = response.json()
    assert re.fullmatch(r"3\.0\.\d+", doc["openapi"]), doc["openapi"]
    validate_openapi(doc, cls=OpenAPIV30SpecValidator)
    operations = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    # The operation ids the OGC test suite looks up.
    assert {
        "getProcesses",
        "getProcessDescription",
        "execute",
        "getJobs",
        "getStatus",
        "getResult",
    } <= operations
    assert doc["servers"][0]["url"].endswith(root)


def test_service_desc_html(client: TestClient) -> None:
    response = client.get(f"{ROOT}/api", params={"f": "html"})
    assert response.status_code == 200
    assert media_type(response) == "text/html"


@pytest.mark.parametrize("root", ROOTS)
def test_conformance(client: TestClient, root: str) -> None:
    doc = json_of(client.get(f"{root}/conformance", headers={"Accept": "application/json"}), "confClasses")
    assert all(isinstance(c, str) for c in doc["conformsTo"])
    claimed = set(doc["conformsTo"])
    for name in (
        "core",
        "ogc-process-description",
        "json",
        "html",
        "oas30",
        "job-list",
        "dismiss",
        "callback",
    ):
        assert f"{CONF}{name}" in claimed, name


def test_process_list(client: TestClient) -> None:
    doc = json_of(client.get(f"{ROOT}/processes"), "processList")
    ids = [p["id"] for p in doc["processes"]]
    assert {"echo", "water-bodies"} <= set(ids)
    assert link(doc, "self")
    for summary in doc["processes"]:
        validate(summary, "processSummary")
        execute = link(summary, f"{REL}execute")
        assert execute and execute["href"].endswith(f"/processes/{summary['id']}/execution")
        assert set(summary["jobControlOptions"]) >= {"sync-execute", "async-execute", "dismiss"}


def test_process_list_limit_10_is_valid(client: TestClient) -> None:
    json_of(client.get(f"{ROOT}/processes", params={"limit": 10}), "processList")


def test_process_list_limit_one_pages_with_next_and_prev(client: TestClient) -> None:
    every = [p["id"] for p in client.get(f"{ROOT}/processes").json()["processes"]]
    assert len(every) >= 2
    seen = []
    doc = json_of(client.get(f"{ROOT}/processes", params={"limit": 1}), "processList")
    assert isinstance(doc["links"], list)
    assert not link(doc, "prev")
    while True:
        assert len(doc["processes"]) == 1, doc
        seen.append(doc["processes"][0]["id"])
        nxt = link(doc, "next")
        if nxt is None:
            break
        assert is_absolute(nxt["href"])
        doc = json_of(client.get(path_of(nxt["href"])), "processList")
        prev = link(doc, "prev")
        assert prev is not None
        back = json_of(client.get(path_of(prev["href"])), "processList")
        assert back["processes"][0]["id"] == seen[-1]
    assert seen == every


@pytest.mark.parametrize("limit", ["0", "10001", "-1", "ten"])
def test_process_list_bad_limit(client: TestClient, limit: str) -> None:
    response = client.get(f"{ROOT}/processes", params={"limit": limit})
    assert_exception(response, 400, f"{EXC}invalid-query-parameter-value")


def _check_schema(schema: dict[str, Any], where: str) -> None:
    validate(schema, "schema")
    for branch in schema.get("oneOf", []):
        _check_schema(branch, f"{where}.oneOf")


@pytest.mark.parametrize("process_id", ["echo", "water-bodies"])
def test_process_description(client: TestClient, process_id: str) -> None:
    response = client.get(f"{ROOT}/processes/{process_id}", headers={"Accept": "application/json"})
    doc = json_of(response, "process")
    assert doc["id"] == process_id
    assert isinstance(doc["inputs"], dict) and doc["inputs"]
    assert isinstance(doc["outputs"], dict) and doc["outputs"]
    for name, description in doc["inputs"].items():
        validate(description, "inputDescription")
        _check_schema(description["schema"], f"inputs.{name}")
    for name, description in doc["outputs"].items():
        validate(description, "outputDescription")
        _check_schema(description["schema"], f"outputs.{name}")
    assert link(doc, f"{REL}execute")


def test_echo_is_shaped_for_the_cite_suite(client: TestClient) -> None:
    doc = client.get(f"{ROOT}/processes/echo").json()
    inputs = list(doc["inputs"])
    # The suite sends "teststring" to the first input and expects the output of the same id.
    assert inputs[0] == "string_input" and doc["inputs"]["string_input"]["schema"]["type"] == "string"
    assert "string_input" in doc["outputs"]
    assert doc["inputs"]["pause"]["schema"]["type"] == "number"
    assert "contentMediaType" in doc["inputs"]["binary_input"]["schema"]
    assert {"sync-execute", "async-execute"} <= set(doc["jobControlOptions"])


def test_no_such_process(client: TestClient) -> None:
    response = client.get(f"{ROOT}/processes/invalid-process-{uuid.uuid4()}")
    assert_exception(response, 404, f"{EXC}no-such-process")


def test_execute_unknown_process(client: TestClient) -> None:
    response = client.post(f"{ROOT}/processes/nope/execution", json={"inputs": {}})
    assert_exception(response, 404, f"{EXC}no-such-process")


@pytest.mark.parametrize(
    "path", ["/", "/conformance", "/processes", "/processes/echo", "/jobs", "/jobs/x", "/api"]
)
def test_unknown_namespace(client: TestClient, path: str) -> None:
    response = client.get(f"/nobody/ogc-api{path}")
    assert_exception(response, 404)


def test_unknown_namespace_execute(client: TestClient) -> None:
    response = client.post("/nobody/ogc-api/processes/echo/execution", json={"inputs": {"string_input": "x"}})
    assert_exception(response, 404)
