"""Region parsing, AOI windows, block iteration and raster reads (local and HTTP range)."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.windows import Window

from terrafuse.errors import DataUnavailable, InvalidInput
from terrafuse.ingest.raster import (
    Bounds,
    aoi_window,
    block_windows,
    check_bounds_in_crs,
    gdal_path,
    on_grid_of,
    open_raster,
    parse_aoi,
    parse_crs,
    raster_env,
    read_blocks,
    same_grid,
)

ORIGIN = (600_000.0, 4_420_000.0)  # UTM 10N, northern California


def write_raster(path: Path, data: np.ndarray, res: float = 10.0, crs: str = "EPSG:32610", **kw) -> Path:
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype,
        "crs": crs,
        "transform": from_origin(*ORIGIN, res, res),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        **kw,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture
def raster(tmp_path) -> Path:
    data = (np.arange(800 * 1000, dtype=np.uint32) % 65521).astype(np.uint16).reshape(800, 1000)
    return write_raster(tmp_path / "band.tif", data, nodata=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "4 comma-separated"),
        ("a,b,c,d", "4 comma-separated numbers"),
        ("1,2,nan,4", "finite"),
        ("3,2,1,4", "minx < maxx"),
        ("1,4,3,4", "miny < maxy"),
    ],
)
def test_parse_aoi_errors(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_aoi(text)


def test_parse_aoi_and_crs():
    assert parse_aoi(" -121.399, 39.834,-120.74,40.472") == Bounds(-121.399, 39.834, -120.74, 40.472)
    assert parse_crs("EPSG:4326") == "EPSG:4326"
    assert parse_crs("epsg:32610") == "EPSG:32610"
    assert parse_crs("http://www.opengis.net/def/crs/EPSG/0/3857") == "EPSG:3857"
    with pytest.raises(InvalidInput, match="not a known coordinate reference system"):
        parse_crs("EPSG:999999")
    with pytest.raises(InvalidInput, match="epsg must be"):
        parse_crs("")


def test_geographic_aoi_range_is_checked():
    check_bounds_in_crs(Bounds(-121.4, 39.8, -120.7, 40.5), "EPSG:4326")
    check_bounds_in_crs(Bounds(500_000, 4_000_000, 600_000, 4_100_000), "EPSG:32610")
    with pytest.raises(InvalidInput, match="latitude"):
        check_bounds_in_crs(Bounds(39.8, -121.4, 40.5, -120.7), "EPSG:4326")


def test_window_in_the_raster_crs_is_exact(raster):
    with rasterio.open(raster) as ds:
        # Pixel 100..350 (cols) x 50..200 (rows); edges inside pixels are grown outwards.
        box = Bounds(ORIGIN[0] + 1000, ORIGIN[1] - 2000, ORIGIN[0] + 3500, ORIGIN[1] - 500)
        assert aoi_window(ds, box, "EPSG:32610") == Window(100, 50, 250, 150)
        grown = Bounds(box.minx + 5, box.miny - 3, box.maxx + 0.1, box.maxy)
        assert aoi_window(ds, grown, "EPSG:32610") == Window(100, 50, 251, 151)


def test_window_of_a_geographic_aoi_uses_densified_edges(raster):
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32610", always_xy=True)
    to_ll = Transformer.from_crs("EPSG:32610", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(ORIGIN[0] + 1500, ORIGIN[1] - 6000)
    lon1, lat1 = to_ll.transform(ORIGIN[0] + 8000, ORIGIN[1] - 1200)
    box = Bounds(lon0, lat0, lon1, lat1)
    # Expected: extreme UTM coordinates over many points of the box's edges.
    t = np.linspace(0, 1, 2001)
    xs = np.concatenate(
        [lon0 + (lon1 - lon0) * t, np.full_like(t, lon1), lon1 - (lon1 - lon0) * t, np.full_like(t, lon0)]
    )
    ys = np.concatenate(
        [np.full_like(t, lat0), lat0 + (lat1 - lat0) * t, np.full_like(t, lat1), lat1 - (lat1 - lat0) * t]
    )
    ux, uy = to_utm.transform(xs, ys)
    col0, col1 = math.floor((ux.min() - ORIGIN[0]) / 10), math.ceil((ux.max() - ORIGIN[0]) / 10)
    row0, row1 = math.floor((ORIGIN[1] - uy.max()) / 10), math.ceil((ORIGIN[1] - uy.min()) / 10)
    with rasterio.open(raster) as ds:
        win = aoi_window(ds, box, "EPSG:4326")
    assert abs(win.col_off - col0) <= 1 and abs(win.row_off - row0) <= 1
    assert abs(win.col_off + win.width - col1) <= 1 and abs(win.row_off + win.height - row1) <= 1
    # The two-corner transform of the original package misses part of the box; ours covers it.
    cx, _ = to_utm.transform([lon0, lon1], [lat0, lat1])
    corner_cols = (math.floor((min(cx) - ORIGIN[0]) / 10), math.ceil((max(cx) - ORIGIN[0]) / 10))
    assert win.col_off <= corner_cols[0] and win.col_off + win.width >= corner_cols[1]


def test_window_is_clipped_and_outside_is_an_error(raster):
    with rasterio.open(raster) as ds:
        partial = Bounds(ORIGIN[0] - 5000, ORIGIN[1] - 1000, ORIGIN[0] + 1000, ORIGIN[1] + 5000)
        assert aoi_window(ds, partial, "EPSG:32610") == Window(0, 0, 100, 100)
        with pytest.raises(DataUnavailable, match="does not intersect item X1"):
            aoi_window(ds, Bounds(0, 0, 1, 1), "EPSG:4326", what="item X1")


def test_block_windows_cover_the_window_once_and_align_to_tiles():
    window = Window(300, 100, 2500, 1700)
    blocks = list(block_windows(window, (256, 256), max_pixels=1 << 20))
    covered = np.zeros((2000, 3000), dtype=np.uint8)
    for b in blocks:
        covered[b.row_off : b.row_off + b.height, b.col_off : b.col_off + b.width] += 1
        assert b.width * b.height <= 1 << 20
        # Interior edges fall on tile boundaries so no tile is decoded twice.
        assert b.row_off == window.row_off or b.row_off % 256 == 0
        assert b.col_off == window.col_off or b.col_off % 256 == 0
    inside = covered[100:1800, 300:2800]
    assert (inside == 1).all() and covered.sum() == inside.size
    # Striped files (1-row blocks) still get large reads.
    assert all(b.height >= 256 or b.row_off + b.height == 1800 for b in block_windows(window, (1, 3000)))


def test_read_over_http_range_requests_equals_local_read(static_server, raster):
    served = static_server.root / "band.tif"
    served.write_bytes(raster.read_bytes())
    window = Window(123, 45, 300, 200)
    with (
        raster_env(timeout=5),
        rasterio.open(raster) as local,
        open_raster(static_server.url("band.tif")) as remote,
    ):
        assert np.array_equal(remote.read(1, window=window), local.read(1, window=window))
    gets = [r for r in static_server.requests if r[0] == "GET"]
    assert gets and all(rng is not None and status == 206 for _, _, rng, status in gets)


def test_unreadable_raster_is_data_unavailable(static_server, tmp_path):
    with raster_env(timeout=5):
        with pytest.raises(DataUnavailable, match="cannot open the raster"):
            open_raster(static_server.url("nothing.tif"))
        (tmp_path / "junk.tif").write_text("not a tiff")
        with pytest.raises(DataUnavailable, match=r"junk\.tif"):
            open_raster(str(tmp_path / "junk.tif"))


def test_file_urls_become_paths(tmp_path):
    assert gdal_path((tmp_path / "a b.tif").as_uri()) == str(tmp_path / "a b.tif")
    assert gdal_path("https://h/x.tif") == "https://h/x.tif"


def test_bands_on_other_grids_are_resampled(tmp_path):
    fine = write_raster(tmp_path / "fine.tif", np.full((400, 400), 7, np.uint16), nodata=0)
    coarse = write_raster(tmp_path / "coarse.tif", np.full((150, 150), 9, np.uint16), res=20.0, nodata=0)
    with rasterio.open(fine) as f, rasterio.open(coarse) as c:
        assert same_grid(f, f) and not same_grid(f, c)
        with on_grid_of(c, f, nodata=0) as view:
            inside = view.read(1, window=Window(0, 0, 200, 200))
            edge = view.read(1, window=Window(380, 380, 20, 20))
    assert (inside == 9).all()
    assert (edge == 0).all()  # beyond the coarse raster's 3000 m: nodata
    # A finer band onto a coarser grid is averaged.
    checker = np.indices((400, 400)).sum(axis=0) % 2 * 100 + 100
    fine_var = write_raster(tmp_path / "fine_var.tif", checker.astype(np.uint16), nodata=0)
    with rasterio.open(fine_var) as f, rasterio.open(coarse) as c, on_grid_of(f, c, nodata=0) as view:
        assert (view.read(1, window=Window(0, 0, 150, 150))[:-1, :-1] == 150).all()


def test_read_blocks_yields_every_block_in_order_and_stops_cleanly(raster, tmp_path):
    other = write_raster(tmp_path / "other.tif", np.full((800, 1000), 3, np.uint16), nodata=0)
    window = Window(10, 20, 900, 700)
    blocks = list(block_windows(window, (256, 256), max_pixels=256 * 512))
    with raster_env() as env, rasterio.open(raster) as a, rasterio.open(other) as b:
        seen = []
        for block, (x, y) in read_blocks([(a, 1), (b, 1)], blocks, env, read_ahead=2):
            assert np.array_equal(x, a.read(1, window=block)) and (y == 3).all()
            seen.append(block)
        assert seen == blocks
        # Leaving early (an error, a dismissal) shuts the reader threads down.
        reader = read_blocks([(a, 1), (b, 1)], blocks, env)
        next(reader)
        reader.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("terrafuse-read")]
