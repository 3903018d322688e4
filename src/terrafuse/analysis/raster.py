"""Raster analysis (GeoTIFF, DEM, JPEG2000): CRS, WGS84 bounds, resolution and per-band statistics.

Statistics read at most ``AnalysisLimits.max_raster_pixels`` per band: bigger rasters are read
decimated with ``out_shape`` (GDAL serves such reads from overviews when the file has them), so a
huge GeoTIFF costs bounded time and memory; the result then says the statistics are approximate.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import rasterio
from pyproj import CRS, Geod
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.transform import from_gcps
from rasterio.warp import transform_bounds

from terrafuse.analysis.geometry import crs_name
from terrafuse.analysis.model import AnalysisLimits, ContentError, FileAnalysis, Selector
from terrafuse.analysis.stats import HISTOGRAM_BINS, summarise

_DRIVERS = {"GeoTIFF": "GTiff", "DEM": "GTiff", "JPEG2000": "JP2OpenJPEG"}

# Read the upload alone: no sidecar files from its folder, and never write .aux.xml next to it.
_GDAL_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "GDAL_PAM_ENABLED": "NO"}


def analyse_raster(path: Path, declared_type: str, size: int, limits: AnalysisLimits) -> FileAnalysis:
    """Analyse a GeoTIFF, DEM or JPEG2000 file; ContentError when it cannot be used."""
    try:
        with (
            rasterio.Env(**_GDAL_OPTIONS),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path, driver=_DRIVERS[declared_type]) as dataset:
                return _analyse_dataset(dataset, declared_type, size, limits)
    except RasterioError as exc:
        raise ContentError(f"the raster could not be read; it may be truncated or corrupt ({exc})") from None


def _analyse_dataset(
    dataset: rasterio.io.DatasetReader, declared_type: str, size: int, limits: AnalysisLimits
) -> FileAnalysis:
    crs, transform = _georeferencing(dataset)
    if declared_type == "DEM" and dataset.count != 1:
        raise ContentError(f"a DEM must have exactly one band of elevations; this raster has {dataset.count}")
    bounds = _wgs84_bounds(dataset.width, dataset.height, transform, crs)
    selectors, approximate = _band_selectors(dataset, limits)
    notes: tuple[str, ...] = ()
    if approximate:
        notes = (
            f"band statistics were estimated from a decimated read of at most {limits.max_raster_pixels} "
            f"pixels per band ({dataset.width} x {dataset.height} in full); histogram counts are scaled "
            "to the full resolution",
        )
    return FileAnalysis(
        file_type=declared_type,
        size=size,
        publishable=True,
        error=None,
        crs=crs_name(crs),
        bounds=bounds,
        area=None,
        length=None,
        points=None,
        lines=None,
        polygons=None,
        resolution=_resolution_m(dataset.width, dataset.height, transform, crs),
        selectors=selectors,
        columns=None,
        rows=None,
        geojson=None,
        valid=None,
        notes=notes,
    )


def _georeferencing(dataset: rasterio.io.DatasetReader) -> tuple[CRS, rasterio.Affine]:
    """The CRS and pixel-to-CRS transform, from the geotransform or else from ground control points."""
    if dataset.crs is not None and not dataset.transform.is_identity:
        return CRS.from_user_input(dataset.crs.to_wkt()), dataset.transform
    gcps, gcp_crs = dataset.gcps
    if gcps and gcp_crs is not None and len(gcps) >= 3:
        return CRS.from_user_input(gcp_crs.to_wkt()), from_gcps(gcps)
    if dataset.crs is None:
        raise ContentError("the raster is not georeferenced: it has no coordinate reference system")
    raise ContentError("the raster is not georeferenced: it has no geotransform placing its pixels")


def _wgs84_bounds(
    width: int, height: int, transform: rasterio.Affine, crs: CRS
) -> tuple[float, float, float, float]:
    columns = np.array([0, width, width, 0])
    rows = np.array([0, 0, height, height])
    xs, ys = transform @ (columns, rows)
    try:
        west, south, east, north = transform_bounds(
            rasterio.crs.CRS.from_wkt(crs.to_wkt()),
            "EPSG:4326",
            float(np.min(xs)),
            float(np.min(ys)),
            float(np.max(xs)),
            float(np.max(ys)),
            densify_pts=21,
        )
    except RasterioError as exc:
        raise ContentError(f"the raster's extent cannot be converted to longitude/latitude ({exc})") from None
    bounds = (west, south, east, north)
    if not all(math.isfinite(value) for value in bounds) or not (-90.0 <= south <= north <= 90.0):
        raise ContentError("the raster's extent cannot be converted to longitude/latitude")
    return bounds


def _resolution_m(width: int, height: int, transform: rasterio.Affine, crs: CRS) -> float:
    """Mean of the pixel's width and height in metres.

    Projected CRS: the nominal size in CRS units converted to metres. Geographic CRS: the geodesic
    size of the centre pixel on the CRS's own ellipsoid.
    """
    pixel_x = math.hypot(transform.a, transform.d)
    pixel_y = math.hypot(transform.b, transform.e)
    if not crs.is_geographic:
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        return (pixel_x + pixel_y) / 2 * factor
    geod: Geod = crs.get_geod() or Geod(ellps="WGS84")
    centre_x, centre_y = transform @ (width / 2, height / 2)
    right_x, right_y = transform @ (width / 2 + 1, height / 2)
    down_x, down_y = transform @ (width / 2, height / 2 + 1)
    # rasterio's transform is in (x=lon, y=lat) order even for EPSG:4326.
    _, _, across = geod.inv(centre_x, centre_y, right_x, right_y)
    _, _, along = geod.inv(centre_x, centre_y, down_x, down_y)
    return (abs(across) + abs(along)) / 2


def _band_selectors(
    dataset: rasterio.io.DatasetReader, limits: AnalysisLimits
) -> tuple[tuple[Selector, ...], bool]:
    """One selector per band, and whether the statistics came from a decimated read."""
    pixels = dataset.width * dataset.height
    out_shape: tuple[int, int] | None = None
    scale = 1.0
    if pixels > limits.max_raster_pixels:
        shrink = math.sqrt(pixels / limits.max_raster_pixels)
        out_shape = (max(1, int(dataset.height / shrink)), max(1, int(dataset.width / shrink)))
        scale = pixels / (out_shape[0] * out_shape[1])
    selectors = []
    for index in range(1, dataset.count + 1):
        summary = None
        if not np.issubdtype(np.dtype(dataset.dtypes[index - 1]), np.complexfloating):
            # masked=True drops nodata and masked pixels; summarise() drops NaN and infinities.
            data = dataset.read(index, out_shape=out_shape, masked=True, resampling=Resampling.nearest)
            summary = summarise(np.ma.compressed(data), scale=scale)
        description = dataset.descriptions[index - 1]
        unit = dataset.units[index - 1]
        selectors.append(
            Selector(
                selector=description or f"band_{index}",
                category="band",
                data_type="numeric",
                unit=unit or None,
                minimum=summary.minimum if summary else None,
                maximum=summary.maximum if summary else None,
                mean=summary.mean if summary else None,
                sd=summary.sd if summary else None,
                histogram_minimum=summary.minimum if summary else None,
                histogram_maximum=summary.maximum if summary else None,
                histogram=summary.histogram if summary else None,
            )
        )
    return tuple(selectors), out_shape is not None


def fixed_range_histogram(path: Path, band: int, minimum: float, maximum: float) -> list[int]:
    """The 10-bin histogram of one band over a fixed range (values outside it are not counted).

    For class rasters: with the range (0, 3), classes 0-3 land in bins 0, 3, 6 and 9 of every
    file, so histograms of the slices of one region add up.
    """
    with rasterio.open(path) as dataset:
        data = dataset.read(band, masked=True)
    values = np.ma.compressed(data).astype(np.float64)
    counts, _ = np.histogram(values[np.isfinite(values)], bins=HISTOGRAM_BINS, range=(minimum, maximum))
    return [int(c) for c in counts]
