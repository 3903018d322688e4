"""The seed notebook (OGC API - Processes water-bodies job), run against a real server process.

Only the endpoint and the two ``stac_items`` URLs differ from the notebook (and the poll
interval, 1 s instead of 10 s).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import rasterio
import requests
from pystac.item_collection import ItemCollection

from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

SEED_IDS = ["S2B_10TFK_20210713_0_L2A", "S2A_10TFK_20220524_0_L2A"]


def test_seed_notebook_flow(demo_server: ServerProcess, demo_items: dict[str, str]) -> None:
    namespace = "acme"
    ogc_api_endpoint = f"{demo_server.url}/{namespace}/ogc-api"
    data = {
        "inputs": {
            "stac_items": [demo_items[i] for i in SEED_IDS],
            "aoi": "-121.399,39.834,-120.74,40.472",
            "epsg": "EPSG:4326",
            "bands": ["green", "nir"],
        }
    }
    headers = {
        "accept": "*/*",
        "Prefer": "respond-async;return=representation",
        "Content-Type": "application/json",
    }
    process_id = "water-bodies"
    response = requests.post(
        f"{ogc_api_endpoint}/processes/{process_id}/execution", headers=headers, json=data
    )
    assert response.status_code == 201, response.text
    job_id = response.json().get("jobID")
    assert response.headers["Location"] == f"{ogc_api_endpoint}/jobs/{job_id}"

    job_url = f"{ogc_api_endpoint}/jobs/{job_id}"
    headers = {"accept": "application/json"}
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status_response = requests.get(job_url, headers=headers)
        assert status_response.status_code == 200
        info = status_response.json()
        seen.append((info["status"], info["progress"]))
        if info["status"] in ["successful", "failed"]:
            break
        time.sleep(1)
    job_status = seen[-1][0]
    assert job_status == "successful", f"{seen[-3:]} {info.get('message')}\n{demo_server.logs()[-3000:]}"

    results_response = requests.get(f"{ogc_api_endpoint}/jobs/{job_id}/results", headers=headers)
    assert results_response.status_code == 200
    results = results_response.json()
    stac_catalog_uri = results.get("stac_catalog", {}).get("value")
    feature_collection = ItemCollection.from_dict(stac_catalog_uri).items

    assert [item.id for item in feature_collection] == SEED_IDS
    assert all(f["properties"]["proj:epsg"] == 32610 for f in stac_catalog_uri["features"])
    for item in feature_collection:
        asset = item.get_assets()["data"]
        assert asset.roles == ["data", "visual"]
        assert asset.media_type == "image/tiff; application=geotiff"
        assert f"/{job_id}/{job_id}/{item.id}/otsu.tif" in asset.href
        # pystac migrates projection v1 (proj:epsg, as the seed shows) to v2 (proj:code) on read.
        assert item.properties.get("proj:code", item.properties.get("proj:epsg")) in ("EPSG:32610", 32610)
        with rasterio.open(asset.href) as mask:
            assert mask.dtypes[0] == "uint8" and mask.nodata == 255
            assert mask.crs.to_epsg() == 32610
            assert list(mask.shape) == item.properties["proj:shape"]
            values = np.unique(mask.read(1, out_shape=(mask.height // 8, mask.width // 8)))
            assert set(values.tolist()) <= {0, 1, 255} and {0, 1} <= set(values.tolist())
