"""Driving the OGC API in tests: execute, poll jobs, check error bodies (all schema-validated)."""

from __future__ import annotations

import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from fastapi.testclient import TestClient

from tests.support.ogc import validate

ROOT = "/ogc-api"
EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
CONF = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
FINISHED = ("successful", "failed", "dismissed")

T = TypeVar("T")


def media_type(response: httpx.Response) -> str:
    """The response's media type without parameters, lower case."""
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def path_of(url: str) -> str:
    """Path and query of an absolute URL (what the TestClient needs to follow a link)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def is_absolute(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def json_of(response: httpx.Response, schema: str, status: int = 200) -> Any:
    """The JSON body of a ``status`` response served as ``application/json``, valid against ``schema``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert media_type(response) == "application/json", response.headers.get("content-type")
    body = response.json()
    validate(body, schema)
    return body


def assert_exception(response: httpx.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    """An RFC 7807 body served as ``application/json`` with this status (and type); no traceback."""
    assert response.status_code == status, (response.status_code, response.text)
    # The OGC test suite insists on exactly application/json (not problem+json) for errors.
    assert media_type(response) == "application/json", response.headers.get("content-type")
    body = response.json()
    validate(body, "exception")
    if type_ is not None:
        assert body["type"] == type_, body
    assert body.get("status", status) == status
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    return body


def wait_until(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(interval)


def execute(
    client: TestClient,
    inputs: dict[str, Any] | None = None,
    *,
    process: str = "echo",
    root: str = ROOT,
    prefer: str | None = None,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    """POST an execute request (``body`` adds ``outputs``, ``response``, ``subscriber``...)."""
    doc: dict[str, Any] = {"inputs": inputs if inputs is not None else {"string_input": "teststring"}, **body}
    all_headers = dict(headers or {})
    if prefer is not None:
        all_headers["Prefer"] = prefer
    return client.post(f"{root}/processes/{process}/execution", json=doc, headers=all_headers)


def start_async(
    client: TestClient,
    inputs: dict[str, Any] | None = None,
    *,
    process: str = "echo",
    root: str = ROOT,
    **body: Any,
) -> tuple[str, str]:
    """Execute asynchronously; checks the 201 answer and returns (job id, absolute Location)."""
    response = execute(client, inputs, process=process, root=root, prefer="respond-async", **body)
    status = json_of(response, "statusInfo", 201)
    location = response.headers["location"]
    assert is_absolute(location), location
    assert status["jobID"] and location.rstrip("/").endswith(f"/jobs/{status['jobID']}")
    assert status["status"] in ("accepted", "running")
    return status["jobID"], location


def job_status(client: TestClient, job_id: str, root: str = ROOT) -> dict[str, Any]:
    """GET the job's statusInfo (validated)."""
    return json_of(client.get(f"{root}/jobs/{job_id}"), "statusInfo")


def wait_for_job(
    client: TestClient,
    job_id: str,
    statuses: tuple[str, ...] = FINISHED,
    root: str = ROOT,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll the job until its status is one of ``statuses``; returns that statusInfo."""

    def check() -> dict[str, Any] | None:
        status = job_status(client, job_id, root)
        return status if status["status"] in statuses else None

    return wait_until(check, timeout, what=f"job {job_id} to be {'/'.join(statuses)}")


def all_job_ids(client: TestClient, root: str = ROOT, **params: Any) -> list[str]:
    """Ids of every job of the namespace (newest first), optionally filtered."""
    body = json_of(client.get(f"{root}/jobs", params={"limit": 10000, **params}), "jobList")
    return [job["jobID"] for job in body["jobs"]]


def link(doc: dict[str, Any], rel: str) -> dict[str, Any] | None:
    """The first link with this relation, if any."""
    return next((lk for lk in doc.get("links", []) if lk.get("rel") == rel), None)


def monitor_url(response: httpx.Response) -> str:
    """The ``rel=monitor`` Link header URL, read the way the OGC test suite reads it."""
    values = [v for v in response.headers.get_list("link") for v in v.split(",")]
    monitors = [v for v in values if "rel=monitor" in v]
    assert monitors, response.headers.get_list("link")
    # The suite takes the text before the first ';' (we also strip the RFC 8288 angle brackets).
    return monitors[0].split(";")[0].strip().strip("<>")


def link_headers(response: httpx.Response) -> dict[str, str]:
    """``Link`` headers as {rel: url}."""
    out = {}
    for header in response.headers.get_list("link"):
        for value in header.split(","):
            url, _, params = value.partition(";")
            rel = params.split("rel=", 1)[1].strip().strip('"') if "rel=" in params else ""
            out[rel] = url.strip().strip("<>")
    return out


def multipart_parts(response: httpx.Response) -> list[Message]:
    """The parts of a ``multipart/related`` response."""
    assert media_type(response) == "multipart/related", response.headers.get("content-type")
    head = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode()
    message = message_from_bytes(head + response.content)
    assert message.is_multipart()
    return list(message.get_payload())  # type: ignore[arg-type]
