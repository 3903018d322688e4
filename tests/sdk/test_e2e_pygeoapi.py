"""``terrafuse.ogc`` against a real pygeoapi server (its own virtual environment, on loopback).

The client promises to work with any OGC API - Processes server; pygeoapi is the reference
implementation most people meet. Its built-in ``hello-world`` process answers ``Hello <name>!``
and its TinyDB job manager runs jobs asynchronously, so every path of the client is exercised:
discovery, synchronous and asynchronous execution, waits, results, job lists, dismissal and
pygeoapi's own error documents (``{"code": ..., "description": ...}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import terrafuse
from terrafuse.ogc import OGCClient
from terrafuse.sdk.session import SessionOptions
from tests.sdk.pygeoapi_server import PygeoapiServer, pygeoapi_environment

# The first test to ask for the server may also build pygeoapi's environment (a pip install),
# which is bounded by its own 900 s timeout rather than the suite's 300 s per test.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CORE = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"
WAIT = 60.0  # seconds: hello-world takes milliseconds, so this only bounds a broken run


@pytest.fixture(scope="session")
def pygeoapi_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PygeoapiServer]:
    """pygeoapi with ``hello-world`` and an asynchronous (TinyDB) job manager, on loopback."""
    python = pygeoapi_environment(request)
    server = PygeoapiServer(python, tmp_path_factory.mktemp("pygeoapi")).start()
    yield server
    server.stop()


@pytest.fixture
def client(pygeoapi_server: PygeoapiServer) -> Iterator[OGCClient]:
    """The real client, polling often (jobs end in milliseconds) and without progress bars."""
    with OGCClient(pygeoapi_server.url, options=SessionOptions(poll_interval=0.5, progress=False)) as c:
        yield c


@pytest.fixture
def exchanges(client: OGCClient) -> list[httpx.Response]:
    """Every response the client receives, to check how pygeoapi answered (e.g. 201 vs 200)."""
    seen: list[httpx.Response] = []
    client.http.event_hooks["response"].append(seen.append)
    return seen


def _posts(exchanges: list[httpx.Response]) -> list[httpx.Response]:
    return [r for r in exchanges if r.request.method == "POST"]


def test_discovery_lists_and_describes_hello_world(client: OGCClient) -> None:
    assert client.landing()["title"] == "terrafuse test pygeoapi"
    assert CORE in client.conformance()

    (summary,) = [p for p in client.processes() if p.id == "hello-world"]
    assert summary.version == "0.2.0" and summary.title == "Hello World"
    # The TinyDB manager is asynchronous, so pygeoapi offers both execution modes.
    assert summary.job_control_options == ["sync-execute", "async-execute"]

    description = client.describe("hello-world")
    assert set(description.inputs) == {"name", "message"}
    assert description.required_inputs() == ["name"]
    assert description.inputs["name"]["schema"] == {"type": "string"}
    assert list(description.outputs) == ["echo"]


def test_synchronous_execution_holds_the_results_and_names_its_job(
    client: OGCClient, exchanges: list[httpx.Response]
) -> None:
    job = client.execute("hello-world", {"name": "Ana", "message": "Bom dia."}, asynchronous=False)

    (post,) = _posts(exchanges)
    assert post.status_code == 200
    assert job.status == "successful"
    assert job.results().value("echo") == "Hello Ana! Bom dia."
    assert list(job.results()) == ["echo"]
    # pygeoapi names the job of a synchronous execution in ``Location`` (no ``monitor`` link).
    assert job.id and post.headers["location"].endswith(f"/jobs/{job.id}")
    again = client.job(job.id)
    assert again.status == "successful" and again.info is not None
    assert again.info.process_id == "hello-world" and again.info.message == "Job complete"


def test_asynchronous_execution_waits_for_the_job_and_fetches_its_results(
    client: OGCClient, exchanges: list[httpx.Response]
) -> None:
    job = client.execute("hello-world", {"name": "Ana"})

    (post,) = _posts(exchanges)
    # pygeoapi honours only a Prefer header that is exactly "respond-async".
    assert post.status_code == 201 and post.headers["preference-applied"] == "respond-async"
    assert post.headers["location"] == f"{client.url}/jobs/{job.id}"
    assert job.wait(timeout=WAIT) is job
    assert job.status == "successful" and job.progress == 100
    assert job.info is not None and job.info.finished is not None and job.info.process_id == "hello-world"
    results = job.results()
    assert results.value("echo") == "Hello Ana!"
    assert any(r.url.path == f"/jobs/{job.id}/results" and r.status_code == 200 for r in exchanges)


def test_a_failed_job_says_why_in_pygeoapis_words(client: OGCClient) -> None:
    job = client.execute("hello-world", {"message": "nobody to greet"})
    with pytest.raises(terrafuse.JobFailedError) as caught:
        job.wait(timeout=WAIT)
    assert caught.value.status == "failed" and caught.value.job_id == job.id
    assert "Cannot process without a name" in caught.value.message
    with pytest.raises(terrafuse.ModelError, match="is failed"):
        job.results()


def test_jobs_are_listed_and_dismissed(client: OGCClient) -> None:
    job = client.execute("hello-world", {"name": "Listed"}).wait(timeout=WAIT)

    listed = {j.id: j for j in client.jobs(process_id="hello-world")}
    assert listed[job.id].status == "successful"
    assert listed[job.id].info is not None and listed[job.id].info.process_id == "hello-world"
    # pygeoapi ignores these query parameters; the client still gives only what was asked for.
    assert client.jobs(process_id="another-process") == []
    assert job.id not in {j.id for j in client.jobs(status="failed")}

    assert job.dismiss().status == "dismissed" and job.info is not None
    assert job.info.message == "Job dismissed"
    with pytest.raises(terrafuse.NotFoundError) as caught:
        client.job(job.id)
    assert caught.value.status == 404 and caught.value.message == job.id
    assert job.id not in {j.id for j in client.jobs()}


def test_unknown_processes_raise_typed_errors_with_pygeoapis_message(client: OGCClient) -> None:
    with pytest.raises(terrafuse.NotFoundError) as described:
        client.describe("no-such-process")
    assert described.value.status == 404 and described.value.message == "Identifier not found"
    assert described.value.url == f"{client.url}/processes/no-such-process"

    with pytest.raises(terrafuse.NotFoundError) as executed:
        client.execute("no-such-process", {"name": "Ana"})
    assert executed.value.message == "identifier not found" and executed.value.method == "POST"


def test_the_environment_is_reused(request: pytest.FixtureRequest, pygeoapi_server: PygeoapiServer) -> None:
    """The environment is built once: asking again gives the same, ready interpreter at once."""
    assert pygeoapi_environment(request) == pygeoapi_server.python
    assert (Path(pygeoapi_server.python).parents[2] / "ready").read_text().startswith("built in")
