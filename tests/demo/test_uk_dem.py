"""The synthetic Copernicus-DEM-like tiles: naming, grids, seams, plausible terrain, flat water."""

from __future__ import annotations

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.windows import from_bounds
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import box, shape

from terrafuse.algorithms.terrain import slope_degrees
from terrafuse.demo import uk, uk_world
from terrafuse.demo.catalog import DemoCatalog


def _tile(demo_catalog: DemoCatalog, south: int, west: int) -> tuple[np.ndarray, rasterio.Affine]:
    path = demo_catalog.item_paths[uk.dem_item_id(south, west)].parent / f"{uk.DEM_ASSET}.tif"
    with rasterio.open(path) as ds:
        return ds.read(1), ds.transform


def _mosaic_window(demo_catalog: DemoCatalog, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """The DEM over ``bbox`` (which must lie in one tile)."""
    south, west = int(np.floor(bbox[1])), int(np.floor(bbox[0]))
    path = demo_catalog.item_paths[uk.dem_item_id(south, west)].parent / f"{uk.DEM_ASSET}.tif"
    with rasterio.open(path) as ds:
        return ds.read(1, window=from_bounds(*bbox, transform=ds.transform).round_offsets())


@pytest.mark.parametrize("item_id", uk.DEM_ITEM_IDS)
def test_items_and_cogs(demo_catalog: DemoCatalog, item_id: str) -> None:
    path = demo_catalog.item_paths[item_id]
    assert path.relative_to(demo_catalog.root).parts[0] == uk.DEM_COLLECTION
    item = pystac.Item.from_file(str(path))
    assert list(item.assets) == [uk.DEM_ASSET]
    asset = item.assets[uk.DEM_ASSET]
    assert asset.roles == ["data"] and asset.media_type.endswith("profile=cloud-optimized")
    band = asset.extra_fields["raster:bands"][0]
    assert (band["data_type"], band["nodata"], band["unit"]) == ("float32", -32767, "metre")
    south, west = (int(item_id.split("_")[4][1:]), -int(item_id.split("_")[6][1:]))
    assert item.bbox == [west, south, west + 1, south + 1]
    assert shape(item.geometry).equals(box(west, south, west + 1, south + 1))
    tif = path.parent / f"{uk.DEM_ASSET}.tif"
    assert cog_validate(str(tif), quiet=True)[0]
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.shape == (1200, 800) and ds.nodata == -32767
        assert ds.bounds == (west, south, west + 1, south + 1)
        assert ds.res == pytest.approx((4.5 / 3600, 3 / 3600))
        data = ds.read(1)
    assert (data != -32767).all() and data.min() >= 0.0 and data.max() < 1200.0


def test_the_tiles_cover_both_regions() -> None:
    tiles = {(s, w): box(w, s, w + 1, s + 1) for s, w in uk.DEM_TILES}
    assert tiles[(55, -5)].contains(box(*uk.GLASGOW_BBOX))
    assert tiles[(54, -4)].union(tiles[(54, -3)]).contains(box(*uk.LAKE_DISTRICT_BBOX))


def test_tiles_join_without_seams(demo_catalog: DemoCatalog) -> None:
    pairs = [((55, -5), (55, -4), "east"), ((54, -4), (54, -3), "east"), ((55, -4), (54, -4), "south")]
    for a, b, side in pairs:
        first, _ = _tile(demo_catalog, *a)
        second, _ = _tile(demo_catalog, *b)
        if side == "east":
            across, within = np.abs(first[:, -1] - second[:, 0]), np.abs(first[:, -1] - first[:, -2])
        else:
            across, within = np.abs(first[-1] - second[0]), np.abs(first[-1] - first[-2])
        # Neighbours across the edge differ no more than neighbours inside a tile.
        assert across.mean() < 1.5 * within.mean() + 0.5, (a, b, across.mean(), within.mean())
        assert across.max() < 150.0


def test_plausible_terrain(demo_catalog: DemoCatalog) -> None:
    lakes = _mosaic_window(demo_catalog, (-3.45, 54.2, -2.6, 54.75))
    assert 800.0 < lakes.max() < 1100.0  # the fells
    assert np.percentile(lakes, 50) < 300.0
    glasgow = _mosaic_window(demo_catalog, uk.GLASGOW_BBOX)
    assert glasgow.max() < 450.0 and np.percentile(glasgow, 10) < 40.0  # the Clyde valley
    sea = _mosaic_window(demo_catalog, (-3.9, 54.3, -3.7, 54.4))  # the Irish Sea
    assert (sea == 0.0).all()


def test_lakes_lie_flat_at_their_level(demo_catalog: DemoCatalog) -> None:
    for spec in uk_world.LAKES[:14]:  # the Lake District's
        south, west = int(np.floor(spec.lat)), int(np.floor(spec.lon))
        dem, transform = _tile(demo_catalog, south, west)
        col, row = ~transform @ (spec.lon, spec.lat)
        r, c = int(row), int(col)
        block = dem[r - 1 : r + 2, c - 1 : c + 2]
        np.testing.assert_allclose(block, spec.level, atol=0.01, err_msg=spec.name)
        widths = 111_320.0 * np.cos(np.radians(spec.lat)) * transform.a
        assert slope_degrees(block, widths, 111_320.0 * -transform.e)[1, 1] < 0.01
