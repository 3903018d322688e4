"""OWSLib's OGC API - Processes client against a real server process."""

from __future__ import annotations

import time

import pytest
import requests
from owslib.ogcapi.processes import Processes

from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e


def test_owslib_discovers_describes_and_executes(
    demo_server: ServerProcess, demo_items: dict[str, str]
) -> None:
    client = Processes(f"{demo_server.url}/acme/ogc-api")

    assert (
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core" in client.conformance()["conformsTo"]
    )
    api = client.api()
    assert api["openapi"].startswith("3.0") and "/processes/{processID}/execution" in api["paths"]

    ids = {p["id"] for p in client.processes()}
    assert {"echo", "water-bodies"} <= ids
    described = client.process("water-bodies")
    assert set(described["inputs"]) == {"stac_items", "aoi", "epsg", "bands"}
    assert described["inputs"]["epsg"]["schema"]["default"] == "EPSG:4326"

    # Synchronous, results document (OWSLib always sends response=document).
    results = client.execute("echo", inputs={"string_input": "teststring", "double_input": 2.5})
    assert results["string_input"]["value"] == "teststring"
    assert results["double_input"]["value"] == 2.5

    # Asynchronous: OWSLib returns the statusInfo; the caller follows Location itself.
    status = client.execute("echo", inputs={"string_input": "later", "pause": 0.2}, async_=True)
    assert status["status"] == "accepted" and status["processID"] == "echo"
    job_url = client.response_headers["Location"] if hasattr(client, "response_headers") else None
    job_url = job_url or f"{demo_server.url}/acme/ogc-api/jobs/{status['jobID']}"
    deadline = time.monotonic() + 30
    while (info := requests.get(job_url, timeout=5).json())["status"] not in ("successful", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert info["status"] == "successful"
    assert requests.get(f"{job_url}/results", timeout=5).json()["string_input"]["value"] == "later"

    # Errors reach OWSLib as RuntimeError carrying our exception document.
    with pytest.raises(RuntimeError, match="no-such-process"):
        client.process("no-such-thing")
    with pytest.raises(RuntimeError, match="double_input"):
        client.execute("echo", inputs={"string_input": "x", "double_input": "not a number"})
