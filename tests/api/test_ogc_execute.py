"""OGC API - Processes execution: modes, Prefer, response forms, inputs, and refused requests.

Mirrors the CITE suite's Jobs.testJobCreation* and testJobResults* checks with the ``echo``
process; every JSON body is validated against the official 1.0 schemas.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrafuse.api.app import create_app
from terrafuse.config import Settings
from terrafuse.usecases.executions import Platform
from tests.support.ogc_api import (
    EXC,
    REL,
    ROOT,
    all_job_ids,
    assert_exception,
    execute,
    is_absolute,
    json_of,
    link,
    link_headers,
    media_type,
    monitor_url,
    multipart_parts,
    path_of,
    start_async,
    wait_for_job,
)

EXECUTE = f"{ROOT}/processes/echo/execution"
ALL_OUTPUTS = ("string_input", "double_input", "array_input", "binary_input")
PAYLOAD = b"\x00\x01binary\xffpayload"
B64 = base64.b64encode(PAYLOAD).decode()


def _value_outputs(*names: str, mode: str = "value") -> dict[str, Any]:
    return {name: {"transmissionMode": mode} for name in names}


def _results(client: TestClient, job_id: str) -> Any:
    return client.get(f"{ROOT}/jobs/{job_id}/results")


# -- synchronous execution --------------------------------------------------------------------


def test_sync_by_default_raw_value_one(client: TestClient) -> None:
    response = execute(client, outputs=_value_outputs("string_input"), response="raw")
    assert response.status_code == 200
    assert "teststring" in response.text
    assert media_type(response) == "text/plain"
    assert "preference-applied" not in response.headers


def test_sync_response_monitor_link_leads_to_the_job(client: TestClient) -> None:
    response = execute(client)
    assert response.status_code == 200
    # The suite: every Link header of a sync answer must be usable as "<url>; rel=monitor".
    for header in response.headers.get_list("link"):
        assert "rel=monitor" in header, header
    url = monitor_url(response)
    assert is_absolute(url)
    status = json_of(client.get(path_of(url), headers={"Accept": "application/json"}), "statusInfo")
    assert status["status"] == "successful" and status["processID"] == "echo"


def test_sync_without_outputs_returns_all_outputs(client: TestClient) -> None:
    # CITE plain request: strings get "teststring", binary (a string with contentMediaType) too.
    response = execute(client, {"string_input": "teststring", "binary_input": "teststring"})
    assert response.status_code == 200
    parts = multipart_parts(response)
    assert {p["Content-ID"] for p in parts} == {"<string_input>", "<binary_input>"}
    for part in parts:
        assert b"teststring" in part.get_payload(decode=True)


def test_sync_raw_value_multi(client: TestClient) -> None:
    inputs = {
        "string_input": "teststring",
        "double_input": 2.5,
        "array_input": [1, 2.5, 3],
        "binary_input": B64,
    }
    response = execute(client, inputs, outputs=_value_outputs(*ALL_OUTPUTS), response="raw")
    assert response.status_code == 200
    parts = {p["Content-ID"].strip("<>"): p for p in multipart_parts(response)}
    assert set(parts) == set(ALL_OUTPUTS)
    assert parts["string_input"].get_payload(decode=True) == b"teststring"
    assert json.loads(parts["double_input"].get_payload(decode=True)) == 2.5
    assert json.loads(parts["array_input"].get_payload(decode=True)) == [1, 2.5, 3]
    assert parts["binary_input"].get_content_type() == "application/octet-stream"
    assert parts["binary_input"].get_payload(decode=True) == PAYLOAD


def test_sync_raw_reference_all_outputs(client: TestClient) -> None:
    inputs = {"string_input": "teststring", "double_input": 4.0}
    response = execute(
        client,
        inputs,
        outputs=_value_outputs("string_input", "double_input", mode="reference"),
        response="raw",
    )
    assert response.status_code == 204
    assert response.content == b""
    links = link_headers(response)
    assert {"string_input", "double_input", "monitor"} <= set(links)
    assert is_absolute(links["string_input"])
    value = client.get(path_of(links["string_input"]))
    assert value.status_code == 200 and value.text == "teststring"
    assert json.loads(client.get(path_of(links["double_input"])).content) == 4.0
    # The job's results answer the same way.
    job = monitor_url(response).rsplit("/", 1)[-1]
    again = _results(client, job)
    assert again.status_code == 204 and "string_input" in link_headers(again)


def test_sync_raw_mixed_multi(client: TestClient) -> None:
    outputs = {
        "string_input": {"transmissionMode": "value"},
        "double_input": {"transmissionMode": "reference"},
    }
    response = execute(
        client, {"string_input": "teststring", "double_input": 1.5}, outputs=outputs, response="raw"
    )
    assert response.status_code == 200
    parts = {p["Content-ID"].strip("<>"): p for p in multipart_parts(response)}
    assert parts["string_input"].get_payload(decode=True) == b"teststring"
    ref = parts["double_input"]
    assert not ref.get_payload(decode=True)
    assert is_absolute(ref["Content-Location"])
    assert json.loads(client.get(path_of(ref["Content-Location"])).content) == 1.5


def test_sync_document(client: TestClient) -> None:
    inputs = {
        "string_input": "teststring",
        "double_input": 0.5,
        "array_input": [3, 2, 1],
        "binary_input": B64,
    }
    response = execute(client, inputs, response="document")
    doc = json_of(response, "results")
    assert doc["string_input"]["value"] == "teststring"
    assert doc["double_input"]["value"] == 0.5
    assert doc["array_input"]["value"] == [3, 2, 1]
    assert base64.b64decode(doc["binary_input"]["value"]) == PAYLOAD
    assert doc["binary_input"]["encoding"] == "base64"
    # The job's results answer with the same document.
    job = monitor_url(response).rsplit("/", 1)[-1]
    assert json_of(_results(client, job), "results") == doc


def test_sync_document_with_reference_output(client: TestClient) -> None:
    outputs = {"string_input": {"transmissionMode": "reference"}}
    doc = json_of(execute(client, outputs=outputs, response="document"), "results")
    ref = doc["string_input"]
    assert set(ref) >= {"href", "type"} and is_absolute(ref["href"])
    assert client.get(path_of(ref["href"])).text == "teststring"


@pytest.mark.parametrize("outputs", [None, {"double_input": {}}])
def test_sync_raw_without_outputs(client: TestClient, outputs: dict[str, Any] | None) -> None:
    # Nothing was echoed (or the requested output was not produced): no content, not an empty multipart.
    response = execute(client, {"pause": 0}, outputs=outputs, response="raw")
    assert response.status_code == 204 and response.content == b""
    assert "rel=monitor" in response.headers["link"]
    assert json_of(execute(client, {}, outputs=outputs, response="document"), "results") == {}


def test_results_of_unknown_output(client: TestClient) -> None:
    job = monitor_url(execute(client)).rsplit("/", 1)[-1]
    assert_exception(client.get(f"{ROOT}/jobs/{job}/results/double_input"), 404)
    assert_exception(client.get(f"{ROOT}/jobs/{job}/results/nope"), 404)


# -- asynchronous execution -------------------------------------------------------------------


def test_async_creates_a_job(client: TestClient) -> None:
    response = execute(client, prefer="respond-async")
    assert response.status_code == 201
    status = json_of(response, "statusInfo", 201)
    assert response.headers["preference-applied"] == "respond-async"
    assert is_absolute(response.headers["location"])
    assert status["processID"] == "echo" and status["type"] == "process"
    # Following the absolute Location gives the same job.
    polled = json_of(client.get(path_of(response.headers["location"])), "statusInfo")
    assert polled["jobID"] == status["jobID"]
    done = wait_for_job(client, status["jobID"])
    assert done["status"] == "successful" and done["progress"] == 100


def test_async_raw_value_one_results(client: TestClient) -> None:
    job, _ = start_async(client, outputs=_value_outputs("string_input"), response="raw")
    done = wait_for_job(client, job)
    results = link(done, f"{REL}results")
    assert results is not None and results.get("type"), done["links"]
    response = client.get(path_of(results["href"]), headers={"Accept": results["type"]})
    assert response.status_code == 200
    assert "teststring" in response.text


def test_async_document_results(client: TestClient) -> None:
    job, _ = start_async(client, {"string_input": "teststring", "array_input": [1.5]}, response="document")
    wait_for_job(client, job)
    doc = json_of(_results(client, job), "results")
    assert doc["string_input"]["value"] == "teststring"
    assert doc["array_input"]["value"] == [1.5]


def test_async_raw_value_multi_results(client: TestClient) -> None:
    job, _ = start_async(client, {"string_input": "teststring", "binary_input": "teststring"}, response="raw")
    wait_for_job(client, job)
    parts = multipart_parts(_results(client, job))
    assert {p["Content-ID"] for p in parts} == {"<string_input>", "<binary_input>"}
    assert all(b"teststring" in p.get_payload(decode=True) for p in parts)


def test_async_raw_reference_results(client: TestClient) -> None:
    job, _ = start_async(client, outputs=_value_outputs("string_input", mode="reference"), response="raw")
    wait_for_job(client, job)
    response = _results(client, job)
    assert response.status_code == 204
    href = link_headers(response)["string_input"]
    assert client.get(path_of(href)).text == "teststring"


def test_results_not_ready(client: TestClient) -> None:
    job, location = start_async(
        client,
        {"string_input": "teststring", "pause": 5},
        outputs=_value_outputs("string_input"),
        response="raw",
    )
    try:
        response = client.get(path_of(location) + "/results", headers={"Accept": "application/json"})
        assert_exception(response, 404, f"{EXC}result-not-ready")
    finally:
        client.delete(f"{ROOT}/jobs/{job}")


def test_results_of_a_failed_job(client: TestClient) -> None:
    # An Item URL that cannot be reached: the job fails in the worker, with a readable reason.
    inputs = {"stac_items": ["http://127.0.0.1:9/item.json"], "aoi": "0,0,1,1"}
    job, _ = start_async(client, inputs, process="water-bodies")
    done = wait_for_job(client, job)
    assert done["status"] == "failed" and done.get("message")
    assert link(done, f"{REL}exceptions")
    # Unreachable input data is the caller's fault: 400 with the OGC type for bad inputs.
    body = assert_exception(_results(client, job), 400, f"{EXC}invalid-parameter-value")
    assert "127.0.0.1:9" in body["detail"]


def test_sync_failure(client: TestClient) -> None:
    inputs = {"stac_items": ["http://127.0.0.1:9/item.json"], "aoi": "0,0,1,1"}
    response = execute(client, inputs, process="water-bodies")
    body = assert_exception(response, 400, f"{EXC}invalid-parameter-value")
    assert "127.0.0.1:9" in body["detail"]
    # The job that ran is kept, failed, for the record.
    (job,) = all_job_ids(client)
    status = json_of(client.get(f"{ROOT}/jobs/{job}"), "statusInfo")
    assert status["status"] == "failed" and status["processID"] == "water-bodies"


# -- Prefer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefer",
    [
        "respond-async;return=representation",
        "respond-async; return=representation",
        "respond-async, return=representation",
        "RESPOND-ASYNC ; Return=Representation",
        'return="representation", respond-async',
        "handling=lenient, respond-async;return=representation",
    ],
)
def test_prefer_async_representation(client: TestClient, prefer: str) -> None:
    inputs = {"string_input": "teststring", "double_input": 1.25}
    response = execute(client, inputs, prefer=prefer)
    status = json_of(response, "statusInfo", 201)
    applied = {t.strip() for t in response.headers["preference-applied"].replace(";", ",").split(",")}
    assert applied == {"respond-async", "return=representation"}
    wait_for_job(client, status["jobID"])
    doc = json_of(_results(client, status["jobID"]), "results")
    assert doc["string_input"]["value"] == "teststring"
    assert doc["double_input"]["value"] == 1.25


def test_prefer_in_two_headers(client: TestClient) -> None:
    response = client.post(
        EXECUTE,
        json={"inputs": {"string_input": "teststring"}},
        headers=[("Prefer", "respond-async"), ("Prefer", "return=representation")],
    )
    status = json_of(response, "statusInfo", 201)
    wait_for_job(client, status["jobID"])
    assert json_of(_results(client, status["jobID"]), "results")["string_input"]["value"] == "teststring"


def test_prefer_respond_async_with_trailing_space(client: TestClient) -> None:
    # Sent as is by the CITE suite.
    assert execute(client, prefer="respond-async ").status_code == 201


def test_prefer_return_minimal_is_raw(client: TestClient) -> None:
    response = execute(client, outputs=_value_outputs("string_input"), prefer="return=minimal")
    assert response.status_code == 200
    assert media_type(response) == "text/plain" and response.text == "teststring"


def test_prefer_return_representation_sync(client: TestClient) -> None:
    response = execute(client, prefer="return=representation")
    assert json_of(response, "results")["string_input"]["value"] == "teststring"
    assert response.headers["preference-applied"] == "return=representation"


def test_body_response_overrides_prefer(client: TestClient) -> None:
    response = execute(
        client, outputs=_value_outputs("string_input"), response="raw", prefer="return=representation"
    )
    assert response.status_code == 200 and response.text == "teststring"
    assert "return=representation" not in response.headers.get("preference-applied", "")
    doc = execute(client, response="document", prefer="return=minimal")
    assert json_of(doc, "results")["string_input"]["value"] == "teststring"


@pytest.mark.parametrize(
    "prefer", ["handling=lenient", "foo", "wait=5", "respond-sync", "return=everything", ""]
)
def test_unknown_preferences_are_ignored(client: TestClient, prefer: str) -> None:
    response = execute(client, outputs=_value_outputs("string_input"), prefer=prefer)
    assert response.status_code == 200 and response.text == "teststring"
    assert "preference-applied" not in response.headers


def test_cors_exposes_location(client: TestClient) -> None:
    origin = {"Origin": "https://notebook.example"}
    preflight = client.options(
        EXECUTE,
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "prefer",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", origin["Origin"])
    response = execute(client, prefer="respond-async", headers=origin)
    assert response.status_code == 201
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"location", "preference-applied", "link"} <= exposed


def test_legacy_mode_async_member(client: TestClient) -> None:
    response = client.post(EXECUTE, json={"inputs": {"string_input": "teststring"}, "mode": "async"})
    json_of(response, "statusInfo", 201)


# -- input forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param({"array_input": [1, 2, 3]}, id="array-int"),
        pytest.param({"array_input": [1.1, 2.2, 3.3]}, id="array-float"),
        # What the CITE suite sends for an array of numbers: only that input, an empty array.
        pytest.param({"array_input": []}, id="array-cite"),
        pytest.param({"string_input": {"value": "teststring"}}, id="qualified-string"),
        pytest.param(
            {"binary_input": {"value": B64, "encoding": "base64", "mediaType": "application/octet-stream"}},
            id="binary-qualified",
        ),
        pytest.param(
            {
                "binary_input": {
                    "value": B64,
                    "format": {"encoding": "base64", "mediaType": "application/octet-stream"},
                }
            },
            id="binary-format-encoding",
        ),
        pytest.param({"binary_input": B64}, id="binary-plain"),
        pytest.param(
            {"binary_input": {"href": "http://example.com/x.tif", "type": "image/tiff"}}, id="binary-href"
        ),
        pytest.param(
            {"binary_input": {"href": "http://example.com/x.tif", "format": {"mediaType": "image/tiff"}}},
            id="binary-href-format",
        ),
        pytest.param({"string_input": "teststring", "pause": 0, "double_input": -1e-3}, id="numbers"),
        pytest.param({}, id="nothing"),
    ],
)
def test_input_forms_accepted(client: TestClient, inputs: dict[str, Any]) -> None:
    outputs = {name: {"transmissionMode": "value"} for name in inputs if name != "pause"}
    response = execute(client, inputs, outputs=outputs or None, response="document")
    doc = json_of(response, "results")
    for name, value in inputs.items():
        if name == "pause":
            continue
        got = doc[name]
        if isinstance(value, dict) and "href" in value:
            assert got == {"href": value["href"], "type": "image/tiff"}
        elif name == "binary_input":
            assert base64.b64decode(got["value"]) == PAYLOAD
        else:
            expected = value["value"] if isinstance(value, dict) else value
            assert got["value"] == expected


def test_input_by_reference_async(client: TestClient) -> None:
    inputs = {
        "string_input": "teststring",
        "binary_input": {"href": "http://example.com/a.tif", "type": "image/tiff"},
    }
    job, _ = start_async(client, inputs, response="document")
    wait_for_job(client, job)
    doc = json_of(_results(client, job), "results")
    assert doc["binary_input"]["href"] == "http://example.com/a.tif"


# -- refused requests: a clear 4xx and nothing stored -----------------------------------------

BAD_BODIES: list[Any] = [
    pytest.param(b"{not json", id="malformed-json"),
    pytest.param(b"\xff\xfe\x00", id="not-utf8"),
    pytest.param(b"[1, 2]", id="array-body"),
    pytest.param(b'"inputs"', id="string-body"),
    pytest.param(b"null", id="null-body"),
    pytest.param({"invalid-execute-request": "true)"}, id="cite-invalid-request"),
    pytest.param({"inputs": []}, id="inputs-array"),
    pytest.param({"inputs": "string_input=x"}, id="inputs-string"),
    pytest.param({"inputs": {"nope": 1}}, id="unknown-input"),
    pytest.param({"inputs": {"string_input": 5}}, id="string-as-number"),
    pytest.param({"inputs": {"string_input": {"value": 5}}}, id="qualified-wrong-type"),
    pytest.param({"inputs": {"string_input": {"href": "http://example.com/x"}}}, id="string-by-reference"),
    pytest.param({"inputs": {"double_input": False}}, id="double-false"),
    pytest.param({"inputs": {"double_input": "1.5"}}, id="double-string"),
    pytest.param({"inputs": {"double_input": [1.5]}}, id="double-array"),
    pytest.param({"inputs": {"array_input": "1,2"}}, id="array-string"),
    pytest.param({"inputs": {"array_input": [1, "2"]}}, id="array-mixed"),
    pytest.param({"inputs": {"array_input": [True]}}, id="array-bool"),
    pytest.param({"inputs": {"binary_input": {"type": f"wrong/type_{uuid.uuid4()}"}}}, id="cite-wrong-type"),
    pytest.param({"inputs": {"binary_input": 12}}, id="binary-number"),
    pytest.param({"inputs": {"pause": 61}}, id="pause-too-long"),
    pytest.param({"inputs": {"pause": -1}}, id="pause-negative"),
    pytest.param({"inputs": {"pause": "5"}}, id="pause-string"),
    pytest.param({"inputs": {"pause": True}}, id="pause-bool"),
    pytest.param({"outputs": {"nope": {}}}, id="unknown-output"),
    pytest.param({"outputs": ["string_input"]}, id="outputs-array"),
    pytest.param({"outputs": {"string_input": {"transmissionMode": "ref"}}}, id="bad-transmission"),
    pytest.param({"response": "json"}, id="bad-response"),
    pytest.param({"response": 1}, id="response-number"),
    pytest.param({"subscriber": "http://example.com/cb"}, id="subscriber-string"),
    pytest.param({"subscriber": {"successUri": "not a url"}}, id="subscriber-not-url"),
    pytest.param({"subscriber": {"successUri": "ftp://example.com/x"}}, id="subscriber-ftp"),
    pytest.param({"subscriber": {"failedUri": "file:///etc/passwd"}}, id="subscriber-file"),
    pytest.param({"subscriber": {"inProgressUri": 5}}, id="subscriber-number"),
    pytest.param({"subscriber": {"successUri": "http://"}}, id="subscriber-no-host"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_requests_are_refused(client: TestClient, body: Any) -> None:
    before = all_job_ids(client)
    if isinstance(body, dict):
        body = json.dumps({"inputs": {"string_input": "teststring"}, **body}).encode()
    for prefer in ({}, {"Prefer": "respond-async"}, {"Prefer": "respond-async;return=representation"}):
        response = client.post(EXECUTE, content=body, headers={"Content-Type": "application/json", **prefer})
        assert_exception(response, 400)
    assert all_job_ids(client) == before


def test_cite_invalid_execute_request(client: TestClient) -> None:
    # Exactly what the CITE suite sends for "results of a failed job": an error status > 200.
    before = all_job_ids(client)
    response = client.post(EXECUTE, json={"invalid-execute-request": "true)"})
    body = assert_exception(response, 400)
    assert "invalid-execute-request" in body["detail"]
    assert all_job_ids(client) == before


def test_missing_required_input(client: TestClient) -> None:
    before = all_job_ids(client)
    response = execute(client, {"aoi": "0,0,1,1"}, process="water-bodies", prefer="respond-async")
    body = assert_exception(response, 400)
    assert "stac_items" in body["detail"]
    assert all_job_ids(client) == before


@pytest.fixture
def small_body_client(platform: Platform, settings: Settings) -> Any:
    small = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(platform, small)) as c:
        yield c


def test_oversized_body_with_content_length(small_body_client: TestClient) -> None:
    client = small_body_client
    before = all_job_ids(client)
    body = json.dumps({"inputs": {"string_input": "x" * 4096}}).encode()
    response = client.post(EXECUTE, content=body, headers={"Content-Type": "application/json"})
    assert_exception(response, 413)
    assert all_job_ids(client) == before


def test_oversized_body_chunked(small_body_client: TestClient) -> None:
    client = small_body_client
    before = all_job_ids(client)
    body = json.dumps({"inputs": {"string_input": "x" * 4096}}).encode()

    def chunks() -> Any:
        for i in range(0, len(body), 512):
            yield body[i : i + 512]

    response = client.post(
        EXECUTE, content=chunks(), headers={"Content-Type": "application/json", "Prefer": "respond-async"}
    )
    assert "content-length" not in response.request.headers
    assert_exception(response, 413)
    assert all_job_ids(client) == before


def test_body_under_the_limit_passes(small_body_client: TestClient) -> None:
    response = execute(
        small_body_client, {"string_input": "x" * 1000}, outputs=_value_outputs("string_input")
    )
    assert response.status_code == 200 and response.text == "x" * 1000
