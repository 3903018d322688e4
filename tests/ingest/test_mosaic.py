"""Reading bands onto a region's grid: grid snapping, region masks, priority, reprojection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window
from shapely.geometry import Polygon, box, shape

from terrafuse.errors import DataUnavailable, ExecutionCancelled
from terrafuse.ingest.mosaic import Layer, TargetGrid, project_region, read_mosaic, region_mask, write_mosaic
from terrafuse.ingest.stac import BandAsset
from tests.services.platform.catalog_maker import UTM30, utm_polygon, utm_transform, write_cog

TO_WGS84 = Transformer.from_crs(UTM30, "EPSG:4326", always_xy=True)


def _lonlat_of_utm_box(left: float, bottom: float, right: float, top: float, inset: float = 0.5) -> Polygon:
    """A UTM box as a lon/lat polygon, inset a little: its edges are straight in lon/lat, so they
    sag by centimetres in UTM, which must not add a row of pixels to the grids under test."""
    left, bottom, right, top = left + inset, bottom + inset, right - inset, top - inset
    return shape(utm_polygon([(left, bottom), (right, bottom), (right, top), (left, top)]))


def test_grid_is_snapped_to_whole_pixels_and_covers_the_region() -> None:
    region = _lonlat_of_utm_box(500_013.0, 6_040_007.0, 503_991.0, 6_045_002.0)
    grid = TargetGrid.covering(region, UTM30, 20.0)
    left, bottom, right, top = grid.bounds
    assert all(v % 20.0 == 0 for v in (left, bottom, right, top))
    projected = project_region(region, UTM30)
    assert box(*grid.bounds).contains(projected)
    # Snapping adds less than a pixel on each side.
    pl, pb, pr, pt = projected.bounds
    assert 0 <= pl - left < 20 and 0 <= top - pt < 20 and 0 <= right - pr < 20 and 0 <= pb - bottom < 20
    assert (grid.width, grid.height) == (round((right - left) / 20), round((top - bottom) / 20))


def test_neighbouring_slices_share_the_pixel_lattice_and_no_pixel() -> None:
    west = _lonlat_of_utm_box(500_000.0, 6_040_000.0, 502_010.0, 6_042_000.0, inset=0)
    east = _lonlat_of_utm_box(502_010.0, 6_040_000.0, 504_000.0, 6_042_000.0, inset=0)
    whole = _lonlat_of_utm_box(500_000.0, 6_040_000.0, 504_000.0, 6_042_000.0, inset=0)
    grids = [TargetGrid.covering(r, UTM30, 20.0) for r in (west, east, whole)]
    g_whole = grids[2]
    counts = np.zeros(g_whole.shape, dtype=int)
    for region, grid in zip((west, east), grids[:2], strict=True):
        # Offsets of each slice grid within the whole grid are whole pixels.
        col = (grid.transform.c - g_whole.transform.c) / 20
        row = (g_whole.transform.f - grid.transform.f) / 20
        assert col == int(col) and row == int(row)
        mask = region_mask(grid, project_region(region, UTM30), Window(0, 0, grid.width, grid.height))
        r0, c0 = int(row), int(col)
        counts[r0 : r0 + grid.height, c0 : c0 + grid.width] += mask
    inside_whole = region_mask(
        g_whole, project_region(whole, UTM30), Window(0, 0, g_whole.width, g_whole.height)
    )
    assert counts.max() == 1  # no pixel in two slices
    assert np.array_equal(counts == 1, inside_whole)  # and none lost


def _asset(path: Path, *, nodata: float | None = 0, scale: float = 1.0, offset: float = 0.0) -> BandAsset:
    return BandAsset(key=path.stem, href=str(path), band=1, nodata=nodata, scale=scale, offset=offset)


def test_same_grid_values_scaled_and_masked_to_the_region(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(1, 10_000, size=(100, 100), dtype=np.uint16)
    data[:10, :] = 0  # nodata stripe
    src = write_cog(tmp_path / "red.tif", data, UTM30, utm_transform(20.0), 0)
    # A triangle inside the raster's 2 km x 2 km square.
    tri = [(500_100.0, 6_044_100.0), (501_900.0, 6_044_100.0), (500_100.0, 6_045_900.0)]
    region = shape(utm_polygon(tri))
    grid = TargetGrid.covering(region, UTM30, 20.0)
    result = write_mosaic(
        tmp_path / "out.tif",
        [Layer("red", (_asset(src, scale=0.0001, offset=-0.1),))],
        grid,
        project_region(region, UTM30),
        block_size=16,
    )
    with rasterio.open(result.path) as ds:
        out = ds.read(1)
        assert ds.crs.to_string() == UTM30 and ds.descriptions == ("red",)
        assert np.isnan(ds.nodata)
    col0 = int((grid.transform.c - 500_000.0) / 20)
    row0 = int((6_046_000.0 - grid.transform.f) / 20)
    source = data[row0 : row0 + grid.height, col0 : col0 + grid.width].astype(np.float32)
    expected = np.where(source == 0, np.nan, source * np.float32(0.0001) + np.float32(-0.1))
    inside = region_mask(grid, project_region(region, UTM30), Window(0, 0, grid.width, grid.height))
    expected[~inside] = np.nan
    np.testing.assert_allclose(out, expected, rtol=1e-6, equal_nan=True)
    assert result.region_pixels == int(inside.sum())
    assert result.valid_pixels == int(np.isfinite(expected).sum())
    assert 0 < result.valid_pixels < result.region_pixels  # the stripe is in the triangle


def test_first_source_wins_and_gaps_are_filled_from_the_next(tmp_path: Path) -> None:
    first = np.full((50, 50), 100, dtype=np.uint16)
    first[:, 25:] = 0  # nodata on the east half
    second = np.full((50, 50), 200, dtype=np.uint16)
    a = write_cog(tmp_path / "a.tif", first, UTM30, utm_transform(20.0), 0)
    b = write_cog(tmp_path / "b.tif", second, UTM30, utm_transform(20.0), 0)
    region = _lonlat_of_utm_box(500_000.0, 6_045_000.0, 501_000.0, 6_046_000.0)
    grid = TargetGrid.covering(region, UTM30, 20.0)
    blocks = list(read_mosaic([Layer("x", (_asset(a), _asset(b)))], grid, None))
    out = blocks[0].arrays[0]
    assert grid.shape == (50, 50)
    assert (out[:, :25] == 100).all() and (out[:, 25:] == 200).all()


def test_geographic_dem_tiles_are_reprojected_onto_utm(tmp_path: Path) -> None:
    """Two 4326 tiles of a linear ramp (value = 1000 * lon + 10 * lat): bilinear keeps it exact-ish."""
    res = 1 / 1200  # 3 arc-seconds
    tiles = []
    for lon0 in (-4.0, -3.0):
        cols = rows = 1200
        lons = lon0 + (np.arange(cols) + 0.5) * res
        lats = 55.0 - (np.arange(rows) + 0.5) * res
        ramp = (1000 * lons[None, :] + 10 * lats[:, None]).astype(np.float32)
        ramp[:5, :5] = -32767  # some nodata in a corner far from the region
        transform = Affine(res, 0, lon0, 0, -res, 55.0)
        tiles.append(
            write_cog(tmp_path / f"dem{lon0}.tif", ramp, "EPSG:4326", transform, -32767, overviews=False)
        )
    # A region straddling the tile edge at 3 W.
    region = box(-3.05, 54.5, -2.95, 54.55)
    grid = TargetGrid.covering(region, UTM30, 90.0)
    result = write_mosaic(
        tmp_path / "dem.tif", [Layer("elevation", tuple(_asset(t, nodata=None) for t in tiles))], grid, None
    )
    with rasterio.open(result.path) as ds:
        out = ds.read(1)
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    xs, ys = grid.transform @ (cols + 0.5, rows + 0.5)
    lon, lat = TO_WGS84.transform(xs, ys)
    expected = 1000 * lon + 10 * lat
    assert np.isfinite(out).all()
    # Each tile is warped on its own: within a source pixel of the seam, the interpolation has
    # only one side (an error below one source pixel's step of the ramp); elsewhere it is exact.
    near_seam = np.abs(lon + 3.0) < 1.5 * res
    assert near_seam.any() and (~near_seam).sum() > 0.9 * out.size
    np.testing.assert_allclose(out[~near_seam], expected[~near_seam], atol=0.02)
    np.testing.assert_allclose(out[near_seam], expected[near_seam], atol=1000 * res)


def test_pixels_beyond_a_source_without_nodata_are_nan(tmp_path: Path) -> None:
    data = np.full((20, 20), 7, dtype=np.uint8)
    src = write_cog(tmp_path / "small.tif", data, UTM30, utm_transform(20.0), None)
    # The grid is twice as wide as the source.
    region = _lonlat_of_utm_box(500_000.0, 6_045_600.0, 500_800.0, 6_046_000.0)
    grid = TargetGrid.covering(region, UTM30, 20.0)
    out = next(read_mosaic([Layer("x", (_asset(src, nodata=None),))], grid)).arrays[0]
    assert grid.width == 40
    assert (out[:, :20] == 7).all() and np.isnan(out[:, 20:]).all()


def test_coarser_grid_averages_continuous_and_keeps_classes_categorical(tmp_path: Path) -> None:
    checker = ((np.indices((200, 200)).sum(axis=0) % 2) * 100 + 1).astype(np.uint16)  # 1 / 101
    src = write_cog(tmp_path / "fine.tif", checker, UTM30, utm_transform(10.0), 0)
    region = _lonlat_of_utm_box(500_000.0, 6_044_000.0, 502_000.0, 6_046_000.0)
    grid = TargetGrid.covering(region, UTM30, 40.0)
    asset = _asset(src)
    (block,) = list(read_mosaic([Layer("v", (asset,)), Layer("c", (asset,), categorical=True)], grid))
    smooth, classes = block.arrays
    assert grid.shape == (50, 50)
    np.testing.assert_allclose(smooth, 51.0, atol=1.0)  # the mean of 1 and 101
    assert set(np.unique(classes)) <= {1.0, 101.0}


def test_blocks_are_bounded_and_cancellation_stops_reading(tmp_path: Path) -> None:
    data = np.ones((100, 100), dtype=np.uint16)
    src = write_cog(tmp_path / "one.tif", data, UTM30, utm_transform(20.0), 0)
    region = _lonlat_of_utm_box(500_000.0, 6_044_000.0, 502_000.0, 6_046_000.0)
    grid = TargetGrid.covering(region, UTM30, 20.0)
    windows = [b.window for b in read_mosaic([Layer("x", (_asset(src),))], grid, block_size=32)]
    assert max(max(w.width, w.height) for w in windows) <= 32
    assert sum(w.width * w.height for w in windows) == grid.width * grid.height
    calls = []

    def cancel_on_third() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise ExecutionCancelled("stop")

    with pytest.raises(ExecutionCancelled):
        write_mosaic(
            tmp_path / "x.tif",
            [Layer("x", (_asset(src),))],
            grid,
            block_size=32,
            check_cancelled=cancel_on_third,
        )
    assert len(calls) == 3


def test_unreadable_source_is_data_unavailable(tmp_path: Path) -> None:
    region = _lonlat_of_utm_box(500_000.0, 6_044_000.0, 502_000.0, 6_046_000.0)
    grid = TargetGrid.covering(region, UTM30, 20.0)
    missing = tmp_path / "missing.tif"
    with pytest.raises(DataUnavailable, match=r"missing\.tif"):
        list(read_mosaic([Layer("x", (_asset(missing),))], grid))


def test_source_elsewhere_is_skipped(tmp_path: Path) -> None:
    far = write_cog(
        tmp_path / "far.tif",
        np.ones((10, 10), np.uint16),
        UTM30,
        utm_transform(20.0, (700_000.0, 6_046_000.0)),
        0,
    )
    region = _lonlat_of_utm_box(500_000.0, 6_044_000.0, 502_000.0, 6_046_000.0)
    grid = TargetGrid.covering(region, UTM30, 20.0)
    out = next(read_mosaic([Layer("x", (_asset(far),))], grid)).arrays[0]
    assert np.isnan(out).all()


def test_bad_resolution_is_refused() -> None:
    with pytest.raises(ValueError, match="resolution"):
        TargetGrid.covering(box(0, 0, 1, 1), UTM30, 0.0)


def test_a_coarse_grid_reads_the_source_overview(tmp_path: Path) -> None:
    """The overview (built with nearest: all 1s of a 1/101 checkerboard) is what gets read at 40 m."""
    checker = ((np.indices((512, 512)).sum(axis=0) % 2) * 100 + 1).astype(np.uint16)
    path = tmp_path / "pyramid.tif"
    profile = {
        "driver": "GTiff", "width": 512, "height": 512, "count": 1, "dtype": "uint16", "crs": UTM30,
        "transform": utm_transform(10.0), "nodata": 0, "tiled": True, "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(checker, 1)
        dst.build_overviews([2], rasterio.enums.Resampling.nearest)
    region = _lonlat_of_utm_box(500_000.0, 6_040_880.0, 505_120.0, 6_046_000.0, inset=2.0)
    coarse = TargetGrid.covering(region, UTM30, 40.0)
    fine = TargetGrid.covering(region, UTM30, 10.0)
    (block,) = list(read_mosaic([Layer("v", (_asset(path),))], coarse))
    with rasterio.open(path, overview_level=0) as ov:
        level = np.unique(ov.read(1))
    assert len(level) == 1  # the overview is flat (nearest picks one phase of the checkerboard)
    np.testing.assert_allclose(block.arrays[0], float(level[0]))
    # At the source's own resolution, the full-resolution pixels are read.
    full = next(read_mosaic([Layer("v", (_asset(path),))], fine, block_size=512)).arrays[0]
    assert set(np.unique(full)) == {1.0, 101.0}
