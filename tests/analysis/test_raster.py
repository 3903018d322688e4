"""Raster uploads: GeoTIFF, DEM and JPEG2000 — georeferencing, resolution and band statistics."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.transform import from_origin
from rasterio.windows import Window

from terrafuse.analysis import AnalysisLimits, analyse_file
from tests.analysis.makers import write_raster


def test_geotiff_statistics_leave_out_nodata(tmp_path: Path) -> None:
    data = np.array([[1, 2, 255], [4, 5, 255]], dtype=np.uint8)
    path = write_raster(tmp_path / "a.tif", data, nodata=255)

    analysis = analyse_file(path, "GeoTIFF", "a.tif")

    assert analysis.publishable and analysis.error is None
    assert analysis.file_type == "GeoTIFF"
    assert analysis.crs == "EPSG:32630"
    assert analysis.resolution == 10.0
    (band,) = analysis.selectors
    assert band.selector == "band_1"
    assert (band.minimum, band.maximum, band.mean) == (1.0, 5.0, 3.0)
    assert band.sd is not None and math.isclose(band.sd, np.std([1, 2, 4, 5]))
    assert (band.histogram_minimum, band.histogram_maximum) == (1.0, 5.0)
    assert band.histogram == [1, 0, 1, 0, 0, 0, 0, 1, 0, 1]
    assert analysis.notes == ()
    assert [item.name for item in tmp_path.iterdir()] == ["a.tif"]  # no .aux.xml left beside the upload
    # 500 000 E is UTM 30N's central meridian, 3° W; 6 000 000 N is about 54.14° N.
    assert analysis.bounds is not None
    west, south, east, north = analysis.bounds
    assert math.isclose(west, -3.0, abs_tol=1e-9) and east > west
    assert 54.1 < south < north < 54.2


def test_float_raster_statistics_leave_out_nan(tmp_path: Path) -> None:
    data = np.array([[0.5, np.nan], [1.5, np.nan]], dtype=np.float32)
    path = write_raster(tmp_path / "f.tif", data)

    (band,) = analyse_file(path, "GeoTIFF", "f.tif").selectors

    assert (band.minimum, band.maximum, band.mean, band.sd) == (0.5, 1.5, 1.0, 0.5)
    assert band.histogram == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_four_class_raster_fills_bins_0_3_6_9(tmp_path: Path) -> None:
    classes = np.repeat(np.array([0, 1, 2, 3], dtype=np.uint8), [4, 3, 2, 1]).reshape(2, 5)
    path = write_raster(tmp_path / "classes.tif", classes)

    (band,) = analyse_file(path, "GeoTIFF", "classes.tif").selectors

    assert (band.histogram_minimum, band.histogram_maximum) == (0.0, 3.0)
    assert band.histogram == [4, 0, 0, 3, 0, 0, 2, 0, 0, 1]


def test_band_descriptions_name_the_selectors(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "two.tif", np.ones((2, 3, 3), dtype=np.uint16))
    with rasterio.open(path, "r+") as dataset:
        dataset.set_band_description(2, "nir")
        dataset.set_band_unit(2, "reflectance")

    selectors = analyse_file(path, "GeoTIFF", "two.tif").selectors

    assert [(s.selector, s.unit) for s in selectors] == [("band_1", None), ("nir", "reflectance")]
    assert selectors[0].histogram == [9, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # a constant lands in the first bin


def test_dem_is_a_single_band_geotiff(tmp_path: Path) -> None:
    elevations = np.linspace(10.0, 978.0, 100, dtype=np.float32).reshape(10, 10)
    path = write_raster(tmp_path / "dem.tif", elevations, nodata=-9999.0)

    dem = analyse_file(path, "DEM", "dem.tif")
    as_geotiff = analyse_file(path, "GeoTIFF", "dem.tif")
    two_bands = analyse_file(
        write_raster(tmp_path / "two.tif", np.ones((2, 2, 2), np.float32)), "DEM", "t.tif"
    )

    assert dem.publishable and dem.file_type == "DEM"
    assert as_geotiff.publishable and as_geotiff.file_type == "GeoTIFF"
    (band,) = dem.selectors
    assert band.minimum is not None and math.isclose(band.minimum, 10.0)
    assert band.maximum is not None and math.isclose(band.maximum, 978.0)
    assert not two_bands.publishable
    assert two_bands.error == "a DEM must have exactly one band of elevations; this raster has 2"


def test_jpeg2000(tmp_path: Path) -> None:
    data = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    path = write_raster(tmp_path / "a.jp2", data, driver="JP2OpenJPEG", reversible="YES", quality=100)

    analysis = analyse_file(path, "JPEG2000", "a.jp2")

    assert analysis.publishable, analysis.error
    assert analysis.file_type == "JPEG2000"
    assert analysis.crs == "EPSG:32630"
    assert analysis.resolution == 10.0
    (band,) = analysis.selectors
    assert (band.minimum, band.maximum) == (0.0, 4095.0)
    assert band.histogram == [410, 409, 410, 409, 410, 409, 410, 409, 410, 410]


def test_geographic_resolution_is_converted_to_metres_at_the_centre(tmp_path: Path) -> None:
    transform = from_origin(10.0, 60.5, 0.0001, 0.0001)  # centre at 60.45° N
    path = write_raster(
        tmp_path / "g.tif", np.zeros((1000, 1000), np.uint8), crs="EPSG:4326", transform=transform
    )

    analysis = analyse_file(path, "GeoTIFF", "g.tif")

    # 0.0001° is ~5.5 m east-west and ~11.1 m north-south at 60.45° N.
    assert analysis.resolution is not None
    assert 8.2 < analysis.resolution < 8.4
    assert analysis.bounds == pytest.approx((10.0, 60.4, 10.1, 60.5))


def test_big_raster_statistics_come_from_a_decimated_read(tmp_path: Path) -> None:
    size = 12_000
    path = tmp_path / "big.tif"
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:32630",
        "transform": from_origin(500_000, 6_000_000, 10, 10),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    ramp = np.broadcast_to((np.arange(size) * 200 // size).astype(np.uint8), (1000, size))
    with rasterio.open(path, "w", **profile) as dataset:
        for row in range(0, size, 1000):
            dataset.write(ramp, 1, window=Window(0, row, size, 1000))

    started = time.perf_counter()
    analysis = analyse_file(path, "GeoTIFF", "big.tif")
    elapsed = time.perf_counter() - started
    limited = analyse_file(path, "GeoTIFF", "big.tif", AnalysisLimits(max_raster_pixels=10_000))

    print(f"\n144 Mpixel GeoTIFF analysed in {elapsed:.3f} s")
    assert elapsed < 2.0
    for result in (analysis, limited):
        assert any("estimated from a decimated read" in note for note in result.notes)
        (band,) = result.selectors
        # Nearest-neighbour decimation samples pixel centres: extremes may be one step in.
        assert band.minimum is not None and band.minimum <= 1.0
        assert band.maximum is not None and band.maximum >= 198.0
        assert band.mean is not None and abs(band.mean - 99.5) < 1.0
        assert band.histogram is not None
        assert abs(sum(band.histogram) - size * size) < size * size * 1e-3  # scaled to full resolution
        assert all(abs(count - size * size / 10) < size * size / 100 for count in band.histogram)


def test_ungeoreferenced_raster_is_not_publishable(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "plain.tif", np.zeros((4, 4), np.uint8), crs=None)

    analysis = analyse_file(path, "GeoTIFF", "plain.tif")

    assert not analysis.publishable
    assert analysis.error == "the raster is not georeferenced: it has no coordinate reference system"


def test_raster_georeferenced_by_ground_control_points(tmp_path: Path) -> None:
    path = tmp_path / "gcps.tif"
    gcps = [
        GroundControlPoint(row=0, col=0, x=-3.2, y=54.6),
        GroundControlPoint(row=0, col=100, x=-3.1, y=54.6),
        GroundControlPoint(row=100, col=0, x=-3.2, y=54.5),
    ]
    with rasterio.open(
        path, "w", driver="GTiff", width=100, height=100, count=1, dtype="uint8", gcps=gcps, crs="EPSG:4326"
    ) as dataset:
        dataset.write(np.ones((1, 100, 100), np.uint8))

    analysis = analyse_file(path, "GeoTIFF", "gcps.tif")

    assert analysis.publishable, analysis.error
    assert analysis.crs == "EPSG:4326"
    assert analysis.bounds == pytest.approx((-3.2, 54.5, -3.1, 54.6))


def test_truncated_geotiff_is_not_publishable(tmp_path: Path) -> None:
    data = np.random.default_rng(1).integers(0, 255, (512, 512), dtype=np.uint8)
    path = write_raster(tmp_path / "cut.tif", data)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])

    analysis = analyse_file(path, "GeoTIFF", "cut.tif")

    assert not analysis.publishable
    assert analysis.error is not None and "truncated or corrupt" in analysis.error
    assert str(tmp_path) not in analysis.error
