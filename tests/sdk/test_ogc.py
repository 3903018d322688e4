"""The OGC API - Processes client against an in-process server: discovery with paging, the
execution modes servers answer with (terrafuse, pygeoapi, synchronous), waits on a fake clock,
failures with the server's detail, STAC results as pystac objects, and asset downloads."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pystac
import pytest

import terrafuse
from terrafuse.ogc import OGCClient, ProcessDescription
from terrafuse.sdk.ogc_results import Results, asset_url
from terrafuse.sdk.session import SessionOptions
from tests.sdk.fake_platform import FakeClock

BASE = "http://ogc.test/acme/ogc-api"
ASSETS = "http://files.test"
MASK = b"II*\x00" + bytes(5000)


def _item(item_id: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "geometry": {"type": "Point", "coordinates": [0, 0]},
        "bbox": [0, 0, 0, 0],
        "properties": {"datetime": "2021-07-13T00:00:00Z"},
        "links": [],
        "assets": {
            "data": {"href": f"{ASSETS}/{item_id}/otsu.tif", "roles": ["data", "visual"]},
            "overview": {"href": f"{ASSETS}/{item_id}/overview.png", "roles": ["overview"]},
        },
    }


class FakeOgc:
    """Jobs that run ``steps`` status reads; ``mode`` picks how execute answers."""

    def __init__(self) -> None:
        self.mode = "terrafuse"
        self.steps = 3
        self.outcome = "successful"
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url.startswith(ASSETS):
            return httpx.Response(200, content=MASK, headers={"content-length": str(len(MASK))})
        path = url.removeprefix(BASE).split("?")[0]
        if path in ("", "/"):
            return httpx.Response(
                200, json={"title": "Fake", "links": [{"href": f"{BASE}/processes", "rel": "processes"}]}
            )
        if path == "/conformance":
            return httpx.Response(
                200, json={"conformsTo": ["http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"]}
            )
        if path == "/jobs":
            # pygeoapi ignores the filters and lists every job.
            wanted = None if self.mode == "pygeoapi" else request.url.params.get("processID")
            listed = [self._status(j) for j in self.jobs.values() if wanted in (None, j.get("processID"))]
            return httpx.Response(200, json={"jobs": listed, "links": []})
        if path == "/processes":
            if request.url.params.get("offset") == "1":
                return httpx.Response(200, json={"processes": [{"id": "echo", "version": 1}], "links": []})
            nxt = {"href": f"{BASE}/processes?offset=1", "rel": "next"}
            return httpx.Response(
                200, json={"processes": [{"id": "water-bodies", "version": "1.0.0"}], "links": [nxt]}
            )
        if path == "/processes/old-style":
            return httpx.Response(
                200, json={"id": "old-style", "inputs": [{"id": "a", "minOccurs": 0}, {"id": "b"}]}
            )
        if path == "/processes/missing" and self.mode == "pygeoapi":  # an OGC exception, not RFC 7807
            exception = {
                "code": "NoSuchProcess",
                "type": "NoSuchProcess",
                "description": "Identifier not found",
            }
            return httpx.Response(404, json=exception)
        if path == "/processes/missing":
            problem = {
                "type": "no-such-process",
                "title": "No such process",
                "detail": "process 'missing' is unknown",
            }
            return httpx.Response(404, json=problem)
        if path.endswith("/execution"):
            return self._execute(request)
        if path.startswith("/jobs/"):
            return self._job(request, path.removeprefix("/jobs/"))
        return httpx.Response(404, json={"detail": "not found"})

    def _status(self, job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if not k.startswith("_")}

    def _execute(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        job_id = str(uuid.uuid4())
        job = {
            "jobID": job_id,
            "status": "accepted",
            "type": "process",
            "processID": request.url.path.split("/")[-2],
            "progress": 0,
            "_reads": 0,
            "_body": body,
        }
        self.jobs[job_id] = job
        location = {"Location": f"{BASE}/jobs/{job_id}"}
        if self.mode == "terrafuse":
            return httpx.Response(201, json=self._status(job), headers=location)
        if self.mode == "pygeoapi":
            # Asynchronous only when Prefer is exactly "respond-async": 201, an empty object and
            # the Location header. Otherwise it runs at once: 200, the Location header and the
            # results document in the pre-1.0 form (outputs as an array of {"id": ...}).
            if request.headers.get("prefer") == "respond-async":
                return httpx.Response(201, json={}, headers=location)
            job.update(status="successful", progress=100)
            return httpx.Response(
                200, json={"outputs": [{"id": "echo", "value": body["inputs"]}]}, headers=location
            )
        job.update(status="successful", progress=100)
        return httpx.Response(
            200,
            json={"echo": {"value": body["inputs"]}},
            headers={"Link": f"<{BASE}/jobs/{job_id}>; rel=monitor"},
        )

    def _job(self, request: httpx.Request, rest: str) -> httpx.Response:
        job_id, _, tail = rest.partition("/")
        job = self.jobs.get(job_id)
        if job is None:
            return httpx.Response(404, json={"detail": f"no job {job_id}"})
        if request.method == "DELETE":
            job["status"] = "dismissed"
            return httpx.Response(200, json=self._status(job))
        if tail == "results":
            if job["status"] == "failed":
                return httpx.Response(400, json={"type": "x", "detail": "the AOI does not overlap the items"})
            items = [_item("S2B_10TFK_20210713_0_L2A"), _item("S2A_10TFK_20220524_0_L2A")]
            return httpx.Response(
                200, json={"stac_catalog": {"value": {"type": "FeatureCollection", "features": items}}}
            )
        if job["status"] not in ("successful", "failed", "dismissed"):
            job["_reads"] += 1
            job["progress"] = min(100, round(100 * job["_reads"] / self.steps))
            job["status"] = "running" if job["progress"] < 100 else self.outcome
            if job["status"] == "failed":
                job["message"] = "the job failed"
        return httpx.Response(200, json=self._status(job))


@pytest.fixture
def server() -> FakeOgc:
    return FakeOgc()


@pytest.fixture
def client(server: FakeOgc, options: SessionOptions) -> OGCClient:
    return OGCClient(BASE, options=options, transport=httpx.MockTransport(server))


INPUTS = {"stac_items": ["a", "b"], "aoi": "-121.399,39.834,-120.74,40.472", "bands": ["green", "nir"]}


def test_processes_follow_next_links_and_descriptions_are_keyed(client: OGCClient) -> None:
    assert [(p.id, p.version) for p in client.processes()] == [("water-bodies", "1.0.0"), ("echo", "1")]
    old = client.describe("old-style")
    assert (
        isinstance(old, ProcessDescription)
        and set(old.inputs) == {"a", "b"}
        and old.required_inputs() == ["b"]
    )
    with pytest.raises(terrafuse.NotFoundError, match="process 'missing' is unknown"):
        client.describe("missing")


def test_the_notebook_job_in_five_lines(
    client: OGCClient, server: FakeOgc, clock: FakeClock, tmp_path: Path
) -> None:
    job = client.execute("water-bodies", INPUTS)
    items = job.wait(timeout=600).results().item_collection()
    paths = client.download_assets(items, tmp_path, keys=["data"])
    assert isinstance(items, pystac.ItemCollection)
    assert [i.id for i in items] == ["S2B_10TFK_20210713_0_L2A", "S2A_10TFK_20220524_0_L2A"]
    assert paths == [tmp_path / i.id / "otsu.tif" for i in items]
    assert all(p.read_bytes() == MASK for p in paths) and not list(tmp_path.rglob("*.part"))
    (request,) = [r for r in server.requests if r.method == "POST"]
    assert request.headers["prefer"] == "respond-async"
    assert json.loads(request.content) == {"inputs": INPUTS, "response": "document"}
    assert job.status == "successful" and job.progress == 100 and clock.sleeps == [0.5, 0.75]


def test_a_job_created_without_a_body_is_found_from_its_location(client: OGCClient, server: FakeOgc) -> None:
    server.mode = "pygeoapi"
    job = client.execute("water-bodies", INPUTS)
    assert job.id in server.jobs and job.url == f"{BASE}/jobs/{job.id}" and job.status == "running"
    assert job.wait().done


def test_pygeoapi_runs_the_job_asynchronously(client: OGCClient, server: FakeOgc) -> None:
    """pygeoapi runs a job synchronously unless Prefer is exactly "respond-async"."""
    server.mode = "pygeoapi"
    job = client.execute("echo", {"string_input": "hi"})
    (request,) = [r for r in server.requests if r.method == "POST"]
    assert request.headers["prefer"] == "respond-async"
    assert (
        job.status == "running" and job.wait().results().value("stac_catalog")["type"] == "FeatureCollection"
    )


def test_pygeoapis_synchronous_answer_is_keyed_and_names_its_job(client: OGCClient, server: FakeOgc) -> None:
    server.mode = "pygeoapi"
    job = client.execute("echo", {"string_input": "hi"}, asynchronous=False)
    assert job.id in server.jobs and job.url == f"{BASE}/jobs/{job.id}"
    assert list(job.results()) == ["echo"] and job.results().value("echo") == {"string_input": "hi"}
    assert client.job(job.id).status == "successful"


def test_ogc_exceptions_explain_errors_by_their_description(client: OGCClient, server: FakeOgc) -> None:
    server.mode = "pygeoapi"
    with pytest.raises(terrafuse.NotFoundError) as caught:
        client.describe("missing")
    assert caught.value.message == "Identifier not found" and caught.value.status == 404
    assert caught.value.method == "GET" and caught.value.url == f"{BASE}/processes/missing"


def test_job_lists_are_filtered_when_the_server_ignores_the_filters(
    client: OGCClient, server: FakeOgc
) -> None:
    server.mode = "pygeoapi"
    running = client.execute("water-bodies", INPUTS)
    done = client.execute("echo", {"string_input": "x"}, asynchronous=False)
    assert [j.id for j in client.jobs(process_id="water-bodies")] == [running.id]
    assert [j.id for j in client.jobs(status="successful")] == [done.id]
    assert [j.id for j in client.jobs(process_id="echo", status="running")] == []
    assert len(client.jobs()) == 2


def test_results_in_the_pre_1_0_form_are_keyed_by_output_id() -> None:
    results = Results(
        {"outputs": [{"id": "echo", "value": "Hello Ana!"}, {"id": "map", "href": "http://x/m.tif"}]}
    )
    assert list(results) == ["echo", "map"] and results.value("echo") == "Hello Ana!"
    assert results.href("map") == "http://x/m.tif"
    # A 1.0 document whose one output is called "outputs" stays as it is.
    assert Results({"outputs": [1, 2]}).value("outputs") == [1, 2]
    assert list(Results({"outputs": [{"id": "a"}], "other": 1})) == ["outputs", "other"]


def test_a_synchronous_answer_holds_the_results(client: OGCClient, server: FakeOgc) -> None:
    server.mode = "sync"
    job = client.execute("echo", {"string_input": "hi"}, asynchronous=False)
    assert job.status == "successful" and job.id in server.jobs
    assert job.results().value("echo") == {"string_input": "hi"}
    (request,) = [r for r in server.requests if r.method == "POST"]
    assert request.headers["prefer"] == "return=representation"
    assert not [r for r in server.requests if "/results" in str(r.url)]


def test_a_failed_job_raises_with_the_server_detail(client: OGCClient, server: FakeOgc) -> None:
    server.outcome = "failed"
    job = client.execute("water-bodies", INPUTS)
    with pytest.raises(terrafuse.JobFailedError) as caught:
        job.wait()
    assert caught.value.status == "failed" and caught.value.job_id == job.id
    assert caught.value.message == "the job failed: the AOI does not overlap the items"
    with pytest.raises(terrafuse.ModelError, match="is failed"):
        job.results()


def test_a_job_wait_ends_at_its_timeout_and_the_job_can_be_dismissed(
    client: OGCClient, server: FakeOgc, clock: FakeClock
) -> None:
    server.steps = 10**6
    job = client.execute("water-bodies", INPUTS)
    started = clock.now
    with pytest.raises(terrafuse.WaitTimeoutError, match="after 20 s"):
        job.wait(timeout=20)
    assert 20 <= clock.now - started <= 20.5 and job.status == "running"
    assert job.dismiss().status == "dismissed"
    with pytest.raises(terrafuse.JobFailedError, match="dismissed"):
        job.wait()


def test_jobs_are_looked_up_by_id(client: OGCClient, server: FakeOgc) -> None:
    job = client.execute("water-bodies", INPUTS)
    again = client.job(job.id)
    assert again.id == job.id and again.status == "running"
    with pytest.raises(terrafuse.NotFoundError, match="no job nope"):
        client.job("nope")


def test_credentials_are_sent(server: FakeOgc, options: SessionOptions) -> None:
    with OGCClient(BASE, token="t-1", options=options, transport=httpx.MockTransport(server)) as client:
        client.processes()
    assert server.requests[-1].headers["authorization"] == "Bearer t-1"
    with OGCClient(
        BASE, auth=("me@org.com", "pw"), options=options, transport=httpx.MockTransport(server)
    ) as client:
        client.processes()
    assert server.requests[-1].headers["authorization"].startswith("Basic ")


def test_item_collections_need_pystac_and_say_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    results = Results({"stac_catalog": {"value": {"type": "FeatureCollection", "features": []}}})
    monkeypatch.setitem(sys.modules, "pystac", None)
    with pytest.raises(ImportError, match=r"pip install 'terrafuse\[ogc\]'") as caught:
        results.item_collection()
    assert isinstance(caught.value, terrafuse.SDKError)
    assert results.feature_collection()["type"] == "FeatureCollection"


def test_results_without_stac_say_so() -> None:
    results = Results({"count": 3, "link": {"href": "http://x/y.tif"}})
    assert results.value("count") == 3 and results.href("link") == "http://x/y.tif"
    with pytest.raises(terrafuse.ModelError, match="no output is a STAC FeatureCollection"):
        results.feature_collection()
    with pytest.raises(terrafuse.ModelError, match="no output 'other'"):
        results.value("other")


def test_asset_urls_reach_s3_through_their_endpoint() -> None:
    asset = {"href": "s3://results/job/item/otsu.tif", "storage:endpoint": "http://localstack:4566"}
    assert asset_url(asset) == "http://localstack:4566/results/job/item/otsu.tif"
    assert asset_url({"href": "otsu.tif"}, "http://h/items/a.json") == "http://h/items/otsu.tif"
    with pytest.raises(terrafuse.ModelError, match="needs a 'storage:endpoint'"):
        asset_url({"href": "s3://results/x.tif"})


def test_landing_conformance_and_job_lists(client: OGCClient) -> None:
    assert client.landing()["title"] == "Fake"
    assert client.conformance() == ["http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"]
    first = client.execute("water-bodies", INPUTS)
    client.execute("echo", {"string_input": "x"})
    listed = client.jobs(process_id="water-bodies")
    assert [(j.id, j.status, j.info.process_id) for j in listed] == [(first.id, "accepted", "water-bodies")]
    assert len(client.jobs()) == 2


def test_assets_are_picked_by_key_or_role_and_local_ones_copied(client: OGCClient, tmp_path: Path) -> None:
    local = tmp_path / "source.tif"
    local.write_bytes(b"local bytes")
    item = _item("A")
    item["assets"]["local"] = {"href": local.as_uri(), "roles": ["metadata"]}
    collection = {"type": "FeatureCollection", "features": [item]}
    by_role = client.download_assets(collection, tmp_path / "roles", roles=["visual", "metadata"])
    assert by_role == [tmp_path / "roles" / "A" / "otsu.tif", tmp_path / "roles" / "A" / "source.tif"]
    assert by_role[1].read_bytes() == b"local bytes" and by_role[0].read_bytes() == MASK
    everything = client.download_assets(Results({"out": {"value": collection}}), tmp_path / "all")
    assert sorted(p.name for p in everything) == ["otsu.tif", "overview.png", "source.tif"]
