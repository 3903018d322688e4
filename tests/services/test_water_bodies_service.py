"""The water-bodies service on generated scenes: masks, COG, STAC output, errors, cancellation."""

from __future__ import annotations

import pickle
import tracemalloc
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pystac
import pytest
import rasterio
import yaml
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.windows import Window
from rio_cogeo.cogeo import cog_validate

from terrafuse.core.refs import ref_key, resolve_object_refs
from terrafuse.errors import DataUnavailable, ExecutionCancelled, InvalidInput
from terrafuse.services import water_bodies
from terrafuse.services.water_bodies import WATER_BODIES, WaterTask, detect_water_item, parse_inputs
from tests.services.wb_helpers import Scene, make_scene

SCHEMAS = Path("/work/shared/ogcapi-processes-schemas/part1-1.0/core/openapi/schemas")


def inputs_for(scene: Scene, **overrides: Any) -> dict[str, Any]:
    values = {
        "stac_items": [str(scene.item_path)],
        "aoi": ",".join(str(v) for v in scene.bounds),
        "epsg": "EPSG:32610",
        "bands": ["green", "nir"],
    }
    return {**values, **overrides}


def read_mask(store, feature: dict) -> tuple[np.ndarray, Path]:
    path = store.local_path(ref_key(feature["assets"]["data"]["href"]))
    with rasterio.open(path) as ds:
        assert ds.dtypes[0] == "uint8" and ds.nodata == 255
        return ds.read(1), path


def iou(mask: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    a, b = (mask == 1) & valid, (truth == 1) & valid
    return float((a & b).sum() / (a | b).sum())


def test_synthetic_scene(scene, store, make_ctx):
    ctx, rec = make_ctx()
    out = WATER_BODIES.run(ctx, inputs_for(scene))
    features = out["stac_catalog"]["features"]
    assert out["stac_catalog"]["type"] == "FeatureCollection" and len(features) == 1
    feature = features[0]
    assert ref_key(feature["assets"]["data"]["href"]) == "exec1/exec1/SYN_1/otsu.tif"
    mask, path = read_mask(store, feature)
    valid = ~scene.nodata
    assert mask.shape == scene.truth.shape
    assert np.array_equal(mask[valid], scene.truth[valid])  # the classes are well separated
    assert (mask[scene.nodata] == 255).all()
    ok, errors, warnings = cog_validate(str(path), quiet=True)
    assert ok, (errors, warnings)
    with rasterio.open(path) as ds:
        assert ds.block_shapes[0] == (512, 512) and ds.compression.name.lower() == "deflate"
    props = feature["properties"]
    assert -0.5 < props["terrafuse:threshold"] < 0.5
    assert props["terrafuse:water_fraction"] == pytest.approx(scene.truth[valid].mean(), abs=1e-9)
    assert props["terrafuse:valid_pixels"] == valid.sum()
    assert props["proj:epsg"] == 32610 and props["proj:shape"] == [400, 500]
    assert props["proj:bbox"] == list(scene.bounds)
    assert props["datetime"] == "2021-07-13T19:03:24Z"
    assert feature["links"][0]["rel"] == "derived_from"
    assert feature["links"][0]["href"] == scene.item_path.as_uri()
    # With URLs in place of references the collection loads in pystac.
    collection = resolve_object_refs(out["stac_catalog"], lambda k: store.local_path(k).as_uri())
    items = pystac.ItemCollection.from_dict(collection)
    item = next(iter(items))
    assert item.id == "SYN_1" and item.assets["data"].roles == ["data", "visual"]
    lon_min, lat_min, lon_max, lat_max = item.bbox
    assert -123 < lon_min < lon_max < -121.5 and 39.8 < lat_min < lat_max < 40
    # Progress rises to 1 and the milestones are logged.
    assert rec.progress == sorted(rec.progress) and rec.progress[-1] == 1.0
    assert any("Otsu threshold" in line and "water fraction" in line for line in rec.logs)
    # Nothing is left in scratch once the item is done.
    assert not any(p.is_file() for p in (ctx.scratch_dir()).rglob("*"))


def test_geographic_aoi_crops(scene, store, make_ctx):
    ctx, _ = make_ctx()
    left, _, _, top = scene.bounds
    to_lonlat = Transformer.from_crs("EPSG:32610", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_lonlat.transform(left + 1000, top - 3000)
    lon1, lat1 = to_lonlat.transform(left + 3000, top - 1000)
    out = WATER_BODIES.run(ctx, inputs_for(scene, aoi=f"{lon0},{lat0},{lon1},{lat1}", epsg="EPSG:4326"))
    mask, _ = read_mask(store, out["stac_catalog"]["features"][0])
    # About 200 x 200 pixels, a little more because the lon/lat box is skewed in UTM.
    assert 200 <= mask.shape[0] < 215 and 200 <= mask.shape[1] < 215


def test_nir_on_a_coarser_grid_is_resampled(tmp_path, store, make_ctx):
    scene = make_scene(tmp_path / "coarse", item_id="SYN_20M", nir_res=20.0)
    ctx, rec = make_ctx()
    out = WATER_BODIES.run(ctx, inputs_for(scene))
    mask, _ = read_mask(store, out["stac_catalog"]["features"][0])
    valid = ~scene.nodata
    score = iou(mask, scene.truth, valid)
    print(f"IoU with a 20 m nir band resampled onto 10 m green: {score:.4f}")
    assert score >= 0.95
    assert any("resampled" in line for line in rec.logs)


def test_features_come_back_in_input_order(tmp_path, store, make_ctx):
    scenes = [make_scene(tmp_path / f"s{i}", item_id=f"SYN_{i}", seed=i) for i in range(3)]
    ctx, _ = make_ctx()
    out = WATER_BODIES.run(
        ctx, inputs_for(scenes[0], stac_items=[str(s.item_path) for s in reversed(scenes)])
    )
    assert [f["id"] for f in out["stac_catalog"]["features"]] == ["SYN_2", "SYN_1", "SYN_0"]
    assert all(store.exists(f"exec1/exec1/SYN_{i}/otsu.tif") for i in range(3))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aoi": "1,2,3"}, "aoi must be"),
        ({"aoi": "-121,40,-122,41"}, "minx < maxx"),
        ({"epsg": "EPSG:0"}, "not a known coordinate reference system"),
        ({"epsg": "EPSG:4326", "aoi": "40,-121,41,-120"}, "latitude"),
        ({"bands": ["green"]}, "two band names"),
        ({"bands": ["nir", "nir"]}, "two different bands"),
        ({"stac_items": []}, "non-empty list"),
        ({"stac_items": ["s3://bucket/item.json"]}, "s3:// is not supported"),
        ({"stac_items": ["a.json", "a.json"]}, "twice"),
    ],
)
def test_bad_inputs_fail_before_any_work(scene, store, make_ctx, overrides, message):
    ctx, rec = make_ctx()
    with pytest.raises(InvalidInput, match=message):
        WATER_BODIES.run(ctx, inputs_for(scene, **overrides))
    assert rec.progress == [] and store.delete_prefix("exec1") == 0


def test_defaults_are_applied(scene):
    parsed = parse_inputs({"stac_items": [str(scene.item_path)], "aoi": "-121.4,39.8,-120.7,40.5"})
    assert parsed.crs == "EPSG:4326" and parsed.bands == ("green", "nir")


def test_missing_band_and_aoi_outside(scene, make_ctx):
    ctx, _ = make_ctx()
    with pytest.raises(DataUnavailable, match="no asset for band 'swir22'"):
        WATER_BODIES.run(ctx, inputs_for(scene, bands=["green", "swir22"]))
    with pytest.raises(DataUnavailable, match="does not intersect item SYN_1"):
        WATER_BODIES.run(ctx, inputs_for(scene, aoi="10,10,11,11", epsg="EPSG:4326"))


def test_no_valid_pixels(tmp_path, make_ctx):
    scene = make_scene(tmp_path / "edge")
    ctx, _ = make_ctx()
    left, bottom, _, top = scene.bounds
    with pytest.raises(DataUnavailable, match="no valid pixels"):
        WATER_BODIES.run(ctx, inputs_for(scene, aoi=f"{left},{bottom},{left + 250},{top}"))


def test_cancellation_at_any_point_stops_work_and_stores_nothing(scene, store, make_ctx):
    # Count the cancellation checks of a full run, then dismiss at each one in turn.
    calls = 0

    def count() -> bool:
        nonlocal calls
        calls += 1
        return False

    ctx, _ = make_ctx("count", cancelled=count)
    WATER_BODIES.run(ctx, inputs_for(scene))
    total = calls
    assert total >= 8  # checks between blocks and stages, not just around the task
    # The last check is the engine's own, after the task returned; every earlier one must stop
    # the work before anything is stored.
    for allowed in range(total - 1):
        calls = 0

        def cancelled(allowed: int = allowed) -> bool:
            nonlocal calls
            calls += 1
            return calls > allowed

        ctx, _ = make_ctx(f"c{allowed}", cancelled=cancelled)
        with pytest.raises(ExecutionCancelled):
            WATER_BODIES.run(ctx, inputs_for(scene))
        assert calls == allowed + 1  # nothing ran on after the dismissal was noticed
        assert not store.exists(f"c{allowed}/c{allowed}/SYN_1/otsu.tif")
        assert not any(p.is_file() for p in ctx.scratch_dir().rglob("*"))


def test_memory_does_not_grow_with_the_aoi(tmp_path, store, make_ctx, monkeypatch):
    # A 2048 x 2048 scene read in 512 x 512 blocks: the peak of Python/numpy allocations stays
    # below one full-window array of one band (8 MiB), let alone codes and mask.
    size = 2048
    scene = make_scene(tmp_path / "big", item_id="BIG")  # its item JSON; rasters replaced below
    rng = np.random.default_rng(5)
    profile = {
        "driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "uint16", "nodata": 0,
        "crs": "EPSG:32610", "transform": from_origin(600_000, 4_420_000, 10, 10),
        "tiled": True, "blockxsize": 512, "blockysize": 512,
    }  # fmt: skip
    for name, water, land in (("green", 1100, 700), ("nir", 250, 2600)):
        with rasterio.open(scene.item_path.parent / f"{name}.tif", "w", **profile) as dst:
            for r in range(0, size, 512):
                rows, cols = np.mgrid[r : r + 512, 0:size]
                lake = (rows - 900) ** 2 + (cols - 1100) ** 2 < 600**2
                block = np.where(lake, water, land) + rng.integers(0, 50, lake.shape)
                dst.write(block.astype(np.uint16), 1, window=Window(0, r, size, 512))
    monkeypatch.setattr(water_bodies, "BLOCK_PIXELS", 512 * 512)
    ctx, _ = make_ctx("big")
    aoi = f"600000,{4_420_000 - 10 * size},{600_000 + 10 * size},4420000"
    tracemalloc.start()
    try:
        out = WATER_BODIES.run(ctx, inputs_for(scene, aoi=aoi))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    props = out["stac_catalog"]["features"][0]["properties"]
    assert props["proj:shape"] == [size, size]
    assert props["terrafuse:water_fraction"] == pytest.approx(np.pi * 600**2 / size**2, rel=0.01)
    print(f"peak Python/numpy memory for a {size}x{size} AOI: {peak / 2**20:.1f} MiB")
    assert peak < 8 * 2**20


def test_tasks_are_plain_picklable_data(scene):
    parsed = parse_inputs(inputs_for(scene, stac_items=[{"href": str(scene.item_path)}]))
    task = WaterTask(parsed.items[0], tuple(parsed.aoi), parsed.crs, parsed.bands)
    assert pickle.loads(pickle.dumps(task)) == task
    assert pickle.loads(pickle.dumps(detect_water_item)) is detect_water_item


def _ogc_schema_validator() -> jsonschema.Validator:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for name in ("schema.yaml", "reference.yaml"):
        doc = yaml.safe_load((SCHEMAS / name).read_text())
        resources.append((name, Resource.from_contents(doc, default_specification=DRAFT4)))
    registry = Registry().with_resources(resources)
    return jsonschema.Draft4Validator({"$ref": "schema.yaml"}, registry=registry)


@pytest.mark.skipif(not SCHEMAS.exists(), reason="OGC schemas not available")
def test_description_schemas_follow_the_ogc_schema_subset():
    validator = _ogc_schema_validator()
    description = WATER_BODIES.description
    assert description.id == "water-bodies" and description.version == "1.0.0"
    assert list(description.inputs) == ["stac_items", "aoi", "epsg", "bands"]
    assert list(description.outputs) == ["stac_catalog"]
    for value in [*description.inputs.values(), *description.outputs.values()]:
        validator.validate(value.schema)
        jsonschema.Draft202012Validator.check_schema(value.schema)
    assert description.inputs["epsg"].min_occurs == 0 and description.inputs["bands"].min_occurs == 0


def test_output_validates_against_its_schema(scene, make_ctx):
    ctx, _ = make_ctx()
    out = WATER_BODIES.run(ctx, inputs_for(scene))
    jsonschema.validate(out["stac_catalog"], WATER_BODIES.description.outputs["stac_catalog"].schema)
