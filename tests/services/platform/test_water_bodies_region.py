"""Water Bodies over a region: the mask matches the generated lake; same algorithm as the OGC process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import shape

from terrafuse.algorithms.otsu import Histogram
from terrafuse.algorithms.water import MASK_NODATA
from terrafuse.core.refs import object_ref
from terrafuse.errors import DataUnavailable
from terrafuse.ingest.mosaic import TargetGrid, project_region, region_mask
from terrafuse.ingest.search import clear_cache
from terrafuse.services.platform.water_bodies import WATER_BODIES_REGION
from tests.services.platform.catalog_maker import ORIGIN, utm_polygon
from tests.services.platform.context import TestRunContext
from tests.services.platform.scenes import (
    RES,
    SCALE,
    SIZE,
    S2Scene,
    band_values,
    lake_truth,
    s2_catalog,
    scene_region,
)

SCENE = S2Scene("S2_20210328", datetime(2021, 3, 28, 11, 20, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _run(tmp_path: Path, region: dict) -> tuple[TestRunContext, dict]:
    catalog = s2_catalog(tmp_path / "stac", [SCENE])
    ctx = TestRunContext(tmp_path / "run", str(catalog))
    return ctx, WATER_BODIES_REGION.run(ctx, {"region": region, "resolution": 20})


def _on_scene_grid(transform, shape_: tuple[int, int], full: np.ndarray) -> np.ndarray:
    col0 = round((transform.c - ORIGIN[0]) / RES)
    row0 = round((ORIGIN[1] - transform.f) / RES)
    return full[row0 : row0 + shape_[0], col0 : col0 + shape_[1]]


def test_water_mask_matches_the_lake(tmp_path: Path) -> None:
    region = scene_region()
    ctx, result = _run(tmp_path, region)
    assert ctx.component_names() == ["Sentinel-2 Ingestion", "Water Bodies"]
    out = ctx.components[1].outputs[0]
    assert result == {"water_mask": object_ref(out.key)}
    assert out.file_name == "water_mask.tif"
    with rasterio.open(ctx.output_path(out)) as ds:
        assert ds.crs.to_epsg() == 32630 and ds.dtypes[0] == "uint8" and ds.nodata == MASK_NODATA
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        mask = ds.read(1)
        grid = TargetGrid("EPSG:32630", ds.transform, ds.width, ds.height)
    inside = region_mask(
        grid,
        project_region(shape(region), "EPSG:32630"),
        rasterio.windows.Window(0, 0, grid.width, grid.height),
    )
    truth = _on_scene_grid(grid.transform, mask.shape, lake_truth())
    assert (mask[~inside] == MASK_NODATA).all()
    assert set(np.unique(mask[inside])) == {0, 1}
    accuracy = np.mean(mask[inside] == truth[inside])
    assert accuracy > 0.99
    assert any("Otsu threshold" in line for line in ctx.components[1].logs)
    assert ctx.components[1].histogram_ranges == [{1: (0.0, 1.0)}]


def test_threshold_is_otsu_of_the_region_ndwi(tmp_path: Path) -> None:
    """The logged threshold is Otsu's over the region's NDWI values, computed independently here."""
    region = scene_region()
    ctx, _ = _run(tmp_path, region)
    values = band_values(SCENE, seed=0)
    green, nir = values["green"] * np.float32(SCALE), values["nir"] * np.float32(SCALE)
    ndwi = (green - nir) / (green + nir)
    with rasterio.open(ctx.output_path(ctx.components[1].outputs[0])) as ds:
        grid = TargetGrid("EPSG:32630", ds.transform, ds.width, ds.height)
    inside = region_mask(
        grid,
        project_region(shape(region), "EPSG:32630"),
        rasterio.windows.Window(0, 0, grid.width, grid.height),
    )
    hist = Histogram()
    hist.add(_on_scene_grid(grid.transform, grid.shape, ndwi)[inside])
    line = next(line for line in ctx.components[1].logs if "Otsu threshold" in line)
    assert f"{hist.otsu_threshold():.4f}" in line


def test_region_of_only_nodata_is_data_unavailable(tmp_path: Path) -> None:
    # A region beside the scene but overlapping its footprint's bbox only by a sliver of no pixels.
    x0, y1 = ORIGIN
    size = SIZE * RES
    beside = utm_polygon(
        [
            (x0 + size - 5, y1 - 100),
            (x0 + size + 500, y1 - 100),
            (x0 + size + 500, y1 - 600),
            (x0 + size - 5, y1 - 600),
        ]
    )
    with pytest.raises(DataUnavailable, match="no data over the region"):
        _run(tmp_path, beside)
