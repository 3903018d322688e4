"""``terrafuse.ogc`` against a real server: the seed notebook's water-bodies job in five lines,
then the details (discovery, a synchronous echo, typed errors, credentials, dismissal)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
import rasterio

import terrafuse
from terrafuse.ogc import OGCClient
from tests.platform_processes.conftest import PASSWORD, admin
from tests.support.http import find_stac_items
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

SEED_IDS = ["S2B_10TFK_20210713_0_L2A", "S2A_10TFK_20220524_0_L2A"]


@pytest.fixture
def inputs(terrafuse_server: ServerProcess) -> dict[str, object]:
    """The notebook's inputs, with the demo server's copies of its two STAC items."""
    items = find_stac_items(f"{terrafuse_server.url}/stac/catalog.json")
    return {
        "stac_items": [items[i] for i in SEED_IDS],
        "aoi": "-121.399,39.834,-120.74,40.472",
        "epsg": "EPSG:4326",
        "bands": ["green", "nir"],
    }


@pytest.mark.timeout(600)
def test_the_seed_notebook_in_five_lines(
    terrafuse_server: ServerProcess, inputs: dict[str, object], tmp_path: Path
) -> None:
    client = OGCClient(f"{terrafuse_server.url}/acme/ogc-api")
    job = client.execute("water-bodies", inputs)
    items = job.wait(timeout=600).results().item_collection()
    paths = client.download_assets(items, tmp_path, keys=["data"])

    assert [item.id for item in items] == SEED_IDS and job.status == "successful"
    assert paths == [tmp_path / i / "otsu.tif" for i in SEED_IDS]
    for item, path in zip(items, paths, strict=True):
        assert item.assets["data"].roles == ["data", "visual"]
        with rasterio.open(path) as mask:
            assert mask.crs.to_epsg() == 32610 and mask.nodata == 255
            assert list(mask.shape) == item.properties["proj:shape"]
            values = set(np.unique(mask.read(1, out_shape=(mask.height // 8, mask.width // 8))).tolist())
            assert values <= {0, 1, 255} and {0, 1} <= values
    assert not list(tmp_path.rglob("*.part"))


def test_discovery_sync_execution_and_errors(terrafuse_server: ServerProcess) -> None:
    with OGCClient(f"{terrafuse_server.url}/acme/ogc-api") as client:
        assert "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core" in client.conformance()
        ids = [p.id for p in client.processes()]
        assert {"water-bodies", "echo"} <= set(ids)
        description = client.describe("water-bodies")
        assert description.required_inputs() == ["stac_items", "aoi"]
        assert "stac_catalog" in description.outputs

        echo = client.execute("echo", {"string_input": "hello"}, asynchronous=False)
        assert echo.status == "successful" and echo.results().value("string_input") == "hello"
        assert client.job(echo.id).status == "successful"

        with pytest.raises(terrafuse.NotFoundError, match="water-lilies"):
            client.describe("water-lilies")
        with pytest.raises(terrafuse.BadRequestError) as caught:
            client.execute("water-bodies", {"aoi": "1,2,3,4"})
        assert "stac_items" in caught.value.message


def test_a_failed_job_says_why(terrafuse_server: ServerProcess, inputs: dict[str, object]) -> None:
    client = OGCClient(f"{terrafuse_server.url}/acme/ogc-api")
    job = client.execute("water-bodies", {**inputs, "aoi": "10,10,10.1,10.1"})
    with pytest.raises(terrafuse.JobFailedError) as caught:
        job.wait(timeout=300)
    assert caught.value.status == "failed" and "does not intersect" in caught.value.message
    assert job.dismiss().id == job.id


def test_credentials_reach_a_private_namespace(terrafuse_server: ServerProcess) -> None:
    """A namespace without anonymous access takes HTTP Basic or the SDK session's bearer token."""
    tag = uuid.uuid4().hex[:8]
    email, namespace = f"ogc-{tag}@example.com", f"private-{tag}"
    admin(terrafuse_server, "user", "create", "--email", email, "--password", PASSWORD)
    admin(terrafuse_server, "org", "create", "--name", f"Private {tag}", "--namespace", namespace)
    admin(terrafuse_server, "org", "add-member", "--org", namespace, "--email", email, "--privileges", "view")
    url = f"{terrafuse_server.url}/{namespace}/ogc-api"
    with pytest.raises(terrafuse.AuthenticationError):
        OGCClient(url).processes()
    user = terrafuse.login(email=email, password=PASSWORD, api_url=f"{terrafuse_server.url}/api")
    for client in (OGCClient(url, auth=(email, PASSWORD)), OGCClient(url, token=user.session.access_token)):
        assert "echo" in [p.id for p in client.processes()]
