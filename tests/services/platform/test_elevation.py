"""Elevation: DEM tiles mosaicked onto the region's UTM grid, clipped, with slope in degrees."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry import box, mapping

from terrafuse.core.refs import object_ref
from terrafuse.errors import DataUnavailable, InvalidInput
from terrafuse.ingest.mosaic import project_region, region_mask
from terrafuse.ingest.search import clear_cache
from terrafuse.services.platform.elevation import ELEVATION
from tests.services.platform.catalog_maker import AssetSpec, ItemSpec, write_catalog
from tests.services.platform.context import TestRunContext
from tests.services.platform.scenes import DEM_REFERENCE_LON, dem_tile

DEM_NODATA = -32767.0
# Two tiles side by side; the region straddles their seam at 3.75 W.
TILES = ((-4.0, 55.0), (-3.75, 55.0))
REGION = box(-3.80, 54.86, -3.70, 54.92)


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _dem_catalog(root: Path, tiles=TILES) -> Path:
    items = []
    for west, north in tiles:
        heights, transform = dem_tile(west, north)
        heights[:3, :3] = DEM_NODATA  # nodata far from the region
        asset = AssetSpec(heights, transform, crs="EPSG:4326", nodata=DEM_NODATA)
        items.append(ItemSpec(f"DEM_{west}_{north}", datetime(2021, 4, 22, tzinfo=UTC), {"data": asset}))
    return write_catalog(root, {"cop-dem-glo-90": items})


def _expected_heights(transform, shape) -> np.ndarray:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    xs, ys = transform @ (cols + 0.5, rows + 0.5)
    lon, lat = Transformer.from_crs("EPSG:32630", "EPSG:4326", always_xy=True).transform(xs, ys)
    return 100.0 + 50.0 * (lon - DEM_REFERENCE_LON) * 111.32 * np.cos(np.radians(lat))


def test_elevation_and_slope_of_a_tilted_plane(tmp_path: Path) -> None:
    ctx = TestRunContext(tmp_path / "run", str(_dem_catalog(tmp_path / "stac")), input_data_ids=("glasgow",))
    result = ELEVATION.run(ctx, {"region": mapping(REGION), "resolution": 90})
    assert ctx.component_names() == ["DEM Ingestion", "Elevation"]
    ingestion, algorithm = ctx.components
    assert ingestion.inputs == ["glasgow"]
    (dem,) = ingestion.outputs
    assert (dem.file_name, dem.file_type) == ("dem.tif", "DEM")
    assert algorithm.inputs == [dem.data_id]
    assert [o.file_name for o in algorithm.outputs] == ["elevation.tif", "slope.tif"]
    elevation, slope = algorithm.outputs
    assert result == {"elevation": object_ref(elevation.key), "slope": object_ref(slope.key)}
    with rasterio.open(ctx.output_path(elevation)) as ds:
        assert ds.crs.to_epsg() == 32630 and ds.res == (90.0, 90.0)
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.dtypes[0] == "float32" and np.isnan(ds.nodata)
        heights = ds.read(1)
        transform, window = ds.transform, rasterio.windows.Window(0, 0, ds.width, ds.height)
        from terrafuse.ingest.mosaic import TargetGrid

        grid = TargetGrid("EPSG:32630", transform, ds.width, ds.height)
    with rasterio.open(ctx.output_path(slope)) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG" and ds.transform == transform
        slopes = ds.read(1)
    inside = region_mask(grid, project_region(REGION, "EPSG:32630"), window)
    assert np.isnan(heights[~inside]).all() and np.isnan(slopes[~inside]).all()
    assert np.isfinite(heights[inside]).all()
    expected = _expected_heights(transform, heights.shape)
    # Each DEM tile is warped on its own: at the seam the interpolation is one-sided (< 1 m here).
    np.testing.assert_allclose(heights[inside], expected[inside], atol=1.0)
    assert np.median(np.abs(heights[inside] - expected[inside])) < 0.05
    # The plane rises 50 m per km: atan(0.05) = 2.86 degrees (UTM scale and convergence move it little).
    finite = slopes[inside & np.isfinite(slopes)]
    assert finite.size > 0.95 * inside.sum()
    assert abs(np.median(finite) - math.degrees(math.atan(0.05))) < 0.05
    assert np.percentile(np.abs(finite - math.degrees(math.atan(0.05))), 90) < 0.3


def test_dem_ingestion_covers_the_bounding_box_unclipped(tmp_path: Path) -> None:
    ctx = TestRunContext(tmp_path / "run", str(_dem_catalog(tmp_path / "stac")))
    triangle = {
        "type": "Polygon",
        "coordinates": [[[-3.8, 54.86], [-3.7, 54.86], [-3.8, 54.92], [-3.8, 54.86]]],
    }
    ELEVATION.run(ctx, {"region": triangle, "resolution": 100})
    with rasterio.open(ctx.output_path(ctx.components[0].outputs[0])) as ds:
        dem = ds.read(1)
    with rasterio.open(ctx.output_path(ctx.components[1].outputs[0])) as ds:
        clipped = ds.read(1)
    assert np.isfinite(dem).all()  # the whole bounding box has data
    assert 0.3 < np.isfinite(clipped).mean() < 0.7  # about half of it is in the triangle


def test_no_dem_tile_over_the_region(tmp_path: Path) -> None:
    ctx = TestRunContext(tmp_path / "run", str(_dem_catalog(tmp_path / "stac")))
    far = mapping(box(10.0, 45.0, 10.1, 45.1))
    with pytest.raises(DataUnavailable, match=r"no elevation data.*cop-dem-glo-90"):
        ELEVATION.run(ctx, {"region": far})
    assert ctx.components[0].success is False


def test_bad_resolution_and_region_are_refused() -> None:
    with pytest.raises(InvalidInput, match="resolution"):
        ELEVATION.check_inputs({"region": mapping(REGION), "resolution": 2000})
    with pytest.raises(InvalidInput, match="Polygon"):
        ELEVATION.check_inputs({"region": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}})
    ELEVATION.check_inputs({"region": mapping(REGION)})  # resolution defaults to 30


def test_a_slice_is_written_on_its_groups_grid(tmp_path: Path) -> None:
    """A slice carries its group's EPSG (``grid_epsg``): the region lies in UTM zone 30, but a slice
    of a group gridded in zone 31 is written in zone 31, so the group's outputs merge as they are."""
    ctx = TestRunContext(tmp_path / "run", str(_dem_catalog(tmp_path / "stac")))
    ELEVATION.run(ctx, {"region": mapping(REGION), "resolution": 90, "grid_epsg": 32631})
    _, algorithm = ctx.components
    with rasterio.open(ctx.output_path(algorithm.outputs[0])) as ds:
        assert ds.crs.to_epsg() == 32631
        heights = ds.read(1)
    assert np.isfinite(heights).sum() > 100
    with pytest.raises(InvalidInput, match="grid_epsg"):
        ELEVATION.run(ctx, {"region": mapping(REGION), "resolution": 90, "grid_epsg": "32631"})
