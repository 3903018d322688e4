"""NDVI over a region: outputs, component chain, scene selection by date, errors, cancellation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import shape

from terrafuse.core.refs import object_ref
from terrafuse.errors import DataUnavailable, ExecutionCancelled, InvalidInput
from terrafuse.ingest.mosaic import TargetGrid, project_region, region_mask
from terrafuse.ingest.search import clear_cache
from terrafuse.services.platform.ndvi import NDVI
from tests.services.platform.context import TestRunContext
from tests.services.platform.scenes import RES, SCALE, S2Scene, band_values, s2_catalog, scene_region

SCENES = [
    S2Scene("S2_20210301", datetime(2021, 3, 1, 11, 20, tzinfo=UTC), red_land=900),
    S2Scene("S2_20210328", datetime(2021, 3, 28, 11, 20, tzinfo=UTC), red_land=500),
    S2Scene("S2_20210601", datetime(2021, 6, 1, 11, 20, tzinfo=UTC), red_land=200),
]


# Metres given as degrees (a region in UTM numbers).
UTM_NUMBERS = {
    "type": "Polygon",
    "coordinates": [[[500000, 6e6], [500100, 6e6], [500100, 6.1e6], [500000, 6e6]]],
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return s2_catalog(tmp_path / "stac", SCENES)


def _ctx(tmp_path: Path, catalog: Path, **kw) -> TestRunContext:
    return TestRunContext(tmp_path / "run", str(catalog), **kw)


def _land_ndvi(red_land: int) -> float:
    return (3000 - red_land) / (3000 + red_land)


def test_ndvi_is_a_cog_on_the_utm_grid_with_the_right_values(tmp_path: Path, catalog: Path) -> None:
    region = scene_region()
    ctx = _ctx(tmp_path, catalog)
    result = NDVI.run(ctx, {"region": region, "resolution": 20})
    algorithm = ctx.components[1]
    out = algorithm.outputs[0]
    assert result == {"ndvi": object_ref(out.key)}
    assert out.file_name == "ndvi.tif" and out.file_type == "GeoTIFF"
    path = ctx.output_path(out)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32630
        assert ds.res == (20.0, 20.0)
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.overviews(1) or max(ds.width, ds.height) <= 512
        assert ds.dtypes[0] == "float32" and np.isnan(ds.nodata)
        ndvi = ds.read(1)
        transform = ds.transform
    # The newest scene (latest_date defaults to true).
    values = band_values(SCENES[-1], seed=2)
    red, nir = values["red"] * np.float32(SCALE), values["nir"] * np.float32(SCALE)
    expected_full = (nir - red) / (nir + red)
    col0 = round((transform.c - 500_000.0) / RES)
    row0 = round((6_046_000.0 - transform.f) / RES)
    expected = expected_full[row0 : row0 + ndvi.shape[0], col0 : col0 + ndvi.shape[1]]
    grid = TargetGrid("EPSG:32630", transform, ndvi.shape[1], ndvi.shape[0])
    inside = region_mask(grid, project_region(shape(region), "EPSG:32630"), grid_window(grid))
    assert np.isnan(ndvi[~inside]).all()
    np.testing.assert_allclose(ndvi[inside], expected[inside], atol=1e-5)
    assert np.nanmin(ndvi) >= -1 and np.nanmax(ndvi) <= 1
    assert abs(np.nanmedian(ndvi) - _land_ndvi(200)) < 0.02
    # The selector's histogram is fixed to -1..1.
    assert algorithm.histogram_ranges == [{1: (-1.0, 1.0)}]
    assert out.selectors[0]["histogram_minimum"] == -1.0


def grid_window(grid: TargetGrid):
    from rasterio.windows import Window

    return Window(0, 0, grid.width, grid.height)


def test_components_are_chained_and_named(tmp_path: Path, catalog: Path) -> None:
    ctx = _ctx(tmp_path, catalog, input_data_ids=("region-a", "region-b"))
    NDVI.run(ctx, {"region": scene_region()})
    assert ctx.component_names() == ["Sentinel-2 Ingestion", "NDVI"]
    assert list(NDVI.description.platform.chain) == ctx.component_names()
    ingestion, algorithm = ctx.components
    assert ingestion.inputs == ["region-a", "region-b"]
    assert [o.file_name for o in ingestion.outputs] == ["reflectance.tif"]
    assert algorithm.inputs == [ingestion.outputs[0].data_id]
    assert all(c.success for c in ctx.components)
    assert ingestion.progress[-1] == 1.0 and algorithm.progress[-1] == 1.0
    assert ingestion.progress == sorted(ingestion.progress)
    with rasterio.open(ctx.output_path(ingestion.outputs[0])) as ds:
        assert ds.count == 2 and ds.descriptions == ("red", "nir")
        red = ds.read(1)
    # Physical reflectance (scale applied), not digital numbers.
    assert 0 < np.nanmax(red) < 0.2
    assert any("2021-06-01" in line for line in ingestion.logs)


@pytest.mark.parametrize(
    ("options", "scene"),
    [
        ({"latest_date": True}, 2),
        ({"latest_date": False, "start_date": "2021-03-27T00:00:00Z", "end_date": None}, 1),
        ({"latest_date": False, "start_date": "2021-03-28T11:20:00Z"}, 1),  # inclusive
        ({"latest_date": False, "start_date": "2021-03-28T11:21:00Z"}, 2),
        ({"latest_date": False, "start_date": "2020-01-01T00:00:00Z", "end_date": "2021-03-27T00:00:00Z"}, 0),
        (
            {
                "latest_date": "false",
                "start_date": "2021-04-01T00:00:00Z",
                "end_date": "2021-12-31T00:00:00Z",
            },
            2,
        ),
    ],
)
def test_scene_selection_by_date(tmp_path: Path, catalog: Path, options: dict, scene: int) -> None:
    ctx = _ctx(tmp_path, catalog)
    NDVI.run(ctx, {"region": scene_region(), "resolution": 40, **options})
    with rasterio.open(ctx.output_path(ctx.components[1].outputs[0])) as ds:
        ndvi = ds.read(1)
    assert abs(np.nanmedian(ndvi) - _land_ndvi(SCENES[scene].red_land)) < 0.02
    assert any(SCENES[scene].id in line for line in ctx.components[0].logs)


def test_no_scene_in_the_date_range_says_what_was_searched(tmp_path: Path, catalog: Path) -> None:
    ctx = _ctx(tmp_path, catalog)
    inputs = {"region": scene_region(), "latest_date": False, "start_date": "2022-01-01T00:00:00Z"}
    with pytest.raises(DataUnavailable, match=r"sentinel-2-l2a.*on or after 2022-01-01T00:00:00Z"):
        NDVI.run(ctx, inputs)
    assert ctx.components[0].success is False


def test_region_without_imagery_is_data_unavailable(tmp_path: Path, catalog: Path) -> None:
    elsewhere = {"type": "Polygon", "coordinates": [[[10, 45], [10.1, 45], [10.1, 45.1], [10, 45]]]}
    with pytest.raises(DataUnavailable, match="no Sentinel-2 scene"):
        NDVI.run(_ctx(tmp_path, catalog), {"region": elsewhere})


def test_missing_band_is_data_unavailable(tmp_path: Path) -> None:
    catalog = s2_catalog(tmp_path / "stac", SCENES[:1])
    item = tmp_path / "stac" / "sentinel-2-l2a" / SCENES[0].id / f"{SCENES[0].id}.json"
    text = (
        item.read_text().replace('"common_name": "nir"', '"common_name": "nir08"').replace('"nir"', '"nir08"')
    )
    item.write_text(text)
    with pytest.raises(DataUnavailable, match="nir"):
        NDVI.run(_ctx(tmp_path, catalog), {"region": scene_region()})


def test_cancellation_stops_the_run(tmp_path: Path, catalog: Path) -> None:
    ctx = _ctx(tmp_path, catalog, cancel_after_checks=0)
    with pytest.raises(ExecutionCancelled):
        NDVI.run(ctx, {"region": scene_region()})
    assert ctx.components[-1].success is False
    assert not any(c.outputs for c in ctx.components)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "region is required"),
        ({"region": {"type": "Point", "coordinates": [0, 0]}}, "Polygon or MultiPolygon"),
        ({"region": "POLYGON((0 0, 1 0, 1 1, 0 0))"}, "GeoJSON geometry"),
        ({"region": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}}, "region"),
        ({"region": UTM_NUMBERS}, "longitude"),
        ({"start_date": "2021-05-01T00:00:00Z", "end_date": "2021-04-01T00:00:00Z"}, "after end_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"latest_date": "maybe"}, "latest_date"),
        ({"resolution": 5}, "resolution"),
        ({"resolution": "fine"}, "resolution"),
    ],
)
def test_bad_inputs_are_refused(inputs: dict, message: str) -> None:
    full = {"region": scene_region(), **inputs} if "region" not in inputs and inputs else inputs
    with pytest.raises(InvalidInput, match=message):
        NDVI.check_inputs(full)


def test_region_may_be_a_feature_collection(tmp_path: Path, catalog: Path) -> None:
    geometry = scene_region()
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": geometry, "properties": {}}],
    }
    NDVI.check_inputs({"region": collection})
    ctx = _ctx(tmp_path, catalog)
    NDVI.run(ctx, {"region": collection, "resolution": 40})
    assert ctx.components[1].outputs[0].file_name == "ndvi.tif"
