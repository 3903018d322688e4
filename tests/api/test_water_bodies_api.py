"""water-bodies through the OGC API: results, and bad input that fails clearly with nothing left behind."""

from __future__ import annotations

import time

import pytest
import rasterio
from fastapi.testclient import TestClient

from terrafuse.demo.catalog import SEED_AOI, SEED_ITEM_IDS
from terrafuse.usecases.executions import Platform
from tests.support.ogc import validate

ROOT = "/acme/ogc-api"
PREFER = {"Prefer": "respond-async;return=representation"}


def run(client: TestClient, inputs: dict) -> dict:
    r = client.post(f"{ROOT}/processes/water-bodies/execution", json={"inputs": inputs}, headers=PREFER)
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 120
    while (info := client.get(r.headers["Location"]).json())["status"] not in ("successful", "failed"):
        assert time.monotonic() < deadline, info
        time.sleep(0.1)
    validate(info, "statusInfo")
    return info


@pytest.fixture
def items(demo_catalog) -> list[str]:  # type: ignore[no-untyped-def]
    return [demo_catalog.item_paths[i].as_uri() for i in SEED_ITEM_IDS]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_results_are_fetchable_cogs(client: TestClient, platform: Platform, items: list[str]) -> None:
    info = run(client, {"stac_items": items, "aoi": SEED_AOI})
    assert info["status"] == "successful" and info["progress"] == 100
    results = client.get(f"{ROOT}/jobs/{info['jobID']}/results").json()
    validate(results, "results")
    features = results["stac_catalog"]["value"]["features"]
    assert [f["id"] for f in features] == list(SEED_ITEM_IDS)
    href = features[0]["assets"]["data"]["href"]
    assert href.startswith("http://testserver/objects/")
    # The signed URL serves the stored COG (ranges too).
    head = client.get(href, headers={"Range": "bytes=0-3"})
    assert head.status_code == 206 and head.content in (b"II*\x00", b"MM\x00*")
    key = f"{info['jobID']}/{info['jobID']}/{SEED_ITEM_IDS[0]}/otsu.tif"
    with rasterio.open(platform.rt.storage.gdal_path(key)) as mask:
        assert mask.nodata == 255 and mask.count == 1
    logs = client.get(f"{ROOT}/jobs/{info['jobID']}/logs").json()["logs"]
    assert any("Otsu threshold" in line["message"] for line in logs)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"bands": ["green", "swir99"]}, "no asset for band 'swir99'"),
        ({"aoi": "10.0,45.0,10.1,45.1"}, "does not intersect"),
        ({"stac_items": ["http://127.0.0.1:9/nothing.json"]}, "127.0.0.1:9"),
        ({"stac_items": "collection"}, "not a STAC Item"),
    ],
)
def test_bad_data_fails_the_job_with_a_clear_message(
    client: TestClient, platform: Platform, items: list[str], demo_catalog, change: dict, expected: str
) -> None:  # type: ignore[no-untyped-def]
    inputs = {"stac_items": items[:1], "aoi": SEED_AOI, **change}
    if inputs["stac_items"] == "collection":  # a STAC document that is not an Item
        inputs["stac_items"] = [
            (demo_catalog.item_paths[SEED_ITEM_IDS[0]].parent.parent / "collection.json").as_uri()
        ]
    info = run(client, inputs)
    assert info["status"] == "failed"
    assert expected in info["message"], info["message"]
    results = client.get(f"{ROOT}/jobs/{info['jobID']}/results")
    assert results.status_code == 400 and expected in results.json()["detail"]
    # Nothing half-written: no object under the job's prefix.
    root = platform.rt.storage.local_path(info["jobID"])
    assert root is not None and not root.exists()


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"aoi": "1,2,3"}, "aoi"),
        ({"aoi": "0,0,1,1", "epsg": "EPSG:999999"}, "EPSG:999999"),
        ({"aoi": "0,0,1,1", "bands": ["green"]}, "bands"),
        ({"aoi": "0,0,1,1", "stac_items": []}, "stac_items"),
    ],
)
def test_invalid_inputs_are_refused_before_a_job_exists(
    client: TestClient, items: list[str], inputs: dict, expected: str
) -> None:
    body = {"inputs": {"stac_items": items, **inputs}}
    r = client.post(f"{ROOT}/processes/water-bodies/execution", json=body, headers=PREFER)
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert expected in r.json()["detail"]
    assert client.get(f"{ROOT}/jobs").json()["jobs"] == []
