"""water-bodies reads assets from ``s3://`` hrefs (a real S3-compatible server on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import rasterio

from terrafuse.demo.catalog import SEED_AOI, SEED_ITEM_IDS
from terrafuse.engine.inline import InlineRunContext
from terrafuse.services.water_bodies import WATER_BODIES
from terrafuse.storage.local import LocalObjectStore
from tests.support.postgres import free_port

BUCKET = "eo-scenes"


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, and the AWS_* variables GDAL and boto3 read."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_S3_ENDPOINT": f"127.0.0.1:{port}",
        "AWS_HTTPS": "NO",
        "AWS_VIRTUAL_HOSTING": "FALSE",
    }.items():
        monkeypatch.setenv(name, value)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_assets_on_s3(s3_endpoint: str, demo_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    item_id = SEED_ITEM_IDS[0]
    item_path = demo_catalog.item_paths[item_id]
    item = json.loads(item_path.read_text())
    for key in ("green", "nir"):
        local = (item_path.parent / item["assets"][key]["href"]).resolve()
        s3.upload_file(str(local), BUCKET, f"{item_id}/{local.name}")
        item["assets"][key]["href"] = f"s3://{BUCKET}/{item_id}/{local.name}"
    for key in [k for k in item["assets"] if k not in ("green", "nir")]:
        del item["assets"][key]  # only the two bands exist on S3
    s3_item = tmp_path / f"{item_id}.json"
    s3_item.write_text(json.dumps(item))

    storage = LocalObjectStore(tmp_path / "objects", b"k")
    inputs = {"aoi": SEED_AOI, "epsg": "EPSG:4326", "bands": ["green", "nir"]}
    from_s3 = WATER_BODIES.run(
        InlineRunContext("exec-s3", storage, tmp_path / "scratch"),
        {**inputs, "stac_items": [s3_item.as_uri()]},
    )
    from_files = WATER_BODIES.run(
        InlineRunContext("exec-file", storage, tmp_path / "scratch"),
        {**inputs, "stac_items": [item_path.as_uri()]},
    )

    feature = from_s3["stac_catalog"]["features"][0]
    assert feature["id"] == item_id
    path = storage.local_path(f"exec-s3/exec-s3/{item_id}/otsu.tif")
    assert path is not None and path.exists()
    with rasterio.open(path) as mask:
        values = set(mask.read(1, out_shape=(mask.height // 16, mask.width // 16)).ravel().tolist())
    assert {0, 1} <= values <= {0, 1, 255}
    # Same pixels, same answer, whichever way they were read.
    reference = from_files["stac_catalog"]["features"][0]["properties"]
    for key in ("terrafuse:threshold", "terrafuse:water_pixels", "terrafuse:valid_pixels", "proj:shape"):
        assert feature["properties"][key] == reference[key]
