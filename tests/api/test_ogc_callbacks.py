"""Subscriber callbacks (OGC ``callback`` class), POSTed by the Dask worker to a real HTTP receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.ogc import validate
from tests.support.ogc_api import ROOT, execute, monitor_url, start_async, wait_for_job, wait_until


class Receiver:
    """A loopback HTTP server that records the JSON bodies POSTed to it, by path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with outer._lock:
                    outer.received.append((self.path, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def subscriber(self, job: str = "job") -> dict[str, str]:
        return {
            "successUri": f"{self.url}/{job}/success",
            "inProgressUri": f"{self.url}/{job}/in-progress",
            "failedUri": f"{self.url}/{job}/failed",
        }

    def bodies(self, path: str) -> list[Any]:
        with self._lock:
            return [body for p, body in self.received if p == path]

    def wait_for(self, path: str, timeout: float = 20) -> Any:
        return wait_until(lambda: self.bodies(path), timeout, what=f"a callback on {path}")[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r._thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_async_callbacks_in_progress_and_success(client: TestClient, receiver: Receiver) -> None:
    job, _ = start_async(
        client, {"string_input": "teststring", "pause": 0.5}, subscriber=receiver.subscriber()
    )
    running = receiver.wait_for("/job/in-progress")
    validate(running, "statusInfo")
    assert running["jobID"] == job and running["status"] == "running"
    results = receiver.wait_for("/job/success")
    validate(results, "results")
    assert results["string_input"]["value"] == "teststring"
    assert wait_for_job(client, job)["status"] == "successful"
    assert receiver.bodies("/job/failed") == []
    assert len(receiver.bodies("/job/success")) == 1


def test_sync_execution_sends_callbacks_too(client: TestClient, receiver: Receiver) -> None:
    response = execute(
        client, {"string_input": "teststring"}, subscriber={"successUri": f"{receiver.url}/ok"}
    )
    assert response.status_code == 200
    results = receiver.wait_for("/ok")
    validate(results, "results")
    assert results["string_input"]["value"] == "teststring"


def test_failed_job_callback(client: TestClient, receiver: Receiver) -> None:
    item = f"http://127.0.0.1:{_closed_port()}/x.json"
    job, _ = start_async(
        client,
        {"stac_items": [item], "aoi": "0,0,1,1"},
        process="water-bodies",
        subscriber=receiver.subscriber("wb"),
    )
    failure = receiver.wait_for("/wb/failed", timeout=30)
    validate(failure, "exception")
    assert failure["jobID"] == job
    # The same exception GET /jobs/{id}/results answers.
    results = client.get(f"{ROOT}/jobs/{job}/results").json()
    assert (failure["type"], failure["status"], failure["detail"]) == (
        results["type"],
        results["status"],
        results["detail"],
    )
    assert item in failure["detail"]
    assert "Traceback" not in failure["detail"]
    assert wait_for_job(client, job)["status"] == "failed"
    assert receiver.bodies("/wb/success") == []


def test_unreachable_subscriber_does_not_fail_the_job(client: TestClient) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    subscriber = {"successUri": f"{dead}/s", "inProgressUri": f"{dead}/p", "failedUri": f"{dead}/f"}
    job, _ = start_async(client, subscriber=subscriber)
    assert wait_for_job(client, job)["status"] == "successful"
    sync = execute(client, subscriber=subscriber)
    assert sync.status_code == 200 and sync.text == "teststring"
    assert client.get(f"{ROOT}/jobs/{monitor_url(sync).rsplit('/', 1)[-1]}").json()["status"] == "successful"
