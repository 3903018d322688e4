"""STAC metadata shared by the demo scenes: band tables, extension URLs, footprints, asset dicts.

Items are plain dicts here (written as JSON next to their assets); ``catalog.py`` links them into
the catalog with pystac. Band tables and asset keys follow Earth Search v1 (``sentinel-2-l2a``,
``sentinel-2-l1c``, ``landsat-c2-l2``), so code written against Earth Search works on the demo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import mapping

from terrafuse.demo.cogs import COG_MEDIA_TYPE

STAC_VERSION = "1.1.0"
EO_EXTENSION = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
# Projection v2 names the CRS ``proj:code``; items also carry Earth Search's (v1.1) ``proj:epsg`` so
# readers of either convention find it (pystac would rewrite a v1.1 item on load and drop it).
PROJECTION_EXTENSION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER_EXTENSION = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
VIEW_EXTENSION = "https://stac-extensions.github.io/view/v1.0.0/schema.json"
SCIENTIFIC_EXTENSION = "https://stac-extensions.github.io/scientific/v1.0.0/schema.json"
ITEM_EXTENSIONS = (EO_EXTENSION, PROJECTION_EXTENSION, RASTER_EXTENSION)

SENTINEL_ATTRIBUTION = "Contains modified Copernicus Sentinel data"
LANDSAT_ATTRIBUTION = "Landsat-8 image courtesy of the U.S. Geological Survey"
SENTINEL_LICENSE_URL = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"
LANDSAT_LICENSE_URL = "https://www.usgs.gov/core-science-systems/hdds/data-policy"


@dataclass(frozen=True)
class BandSpec:
    """One spectral band: the source band id, Earth Search's description and the eo fields."""

    band: str
    description: str
    common_name: str
    center_wavelength: float
    full_width_half_max: float
    gsd: float

    def eo_band(self, key: str) -> dict[str, Any]:
        """The ``eo:bands`` entry (Earth Search v1 names the band after its asset key)."""
        return {
            "name": key,
            "common_name": self.common_name,
            "description": self.description,
            "center_wavelength": self.center_wavelength,
            "full_width_half_max": self.full_width_half_max,
        }


SENTINEL2_BANDS: dict[str, BandSpec] = {
    "coastal": BandSpec("B01", "Coastal aerosol (band 1)", "coastal", 0.443, 0.027, 60),
    "blue": BandSpec("B02", "Blue (band 2)", "blue", 0.49, 0.098, 10),
    "green": BandSpec("B03", "Green (band 3)", "green", 0.56, 0.045, 10),
    "red": BandSpec("B04", "Red (band 4)", "red", 0.665, 0.038, 10),
    "rededge1": BandSpec("B05", "Red edge 1 (band 5)", "rededge", 0.704, 0.019, 20),
    "rededge2": BandSpec("B06", "Red edge 2 (band 6)", "rededge", 0.74, 0.018, 20),
    "rededge3": BandSpec("B07", "Red edge 3 (band 7)", "rededge", 0.783, 0.028, 20),
    "nir": BandSpec("B08", "NIR 1 (band 8)", "nir", 0.842, 0.145, 10),
    "nir08": BandSpec("B8A", "NIR 2 (band 8A)", "nir08", 0.865, 0.033, 20),
    "nir09": BandSpec("B09", "NIR 3 (band 9)", "nir09", 0.945, 0.026, 60),
    "cirrus": BandSpec("B10", "SWIR - Cirrus (band 10)", "cirrus", 1.3735, 0.075, 60),
    "swir16": BandSpec("B11", "SWIR 1 (band 11)", "swir16", 1.61, 0.143, 20),
    "swir22": BandSpec("B12", "SWIR 2 (band 12)", "swir22", 2.19, 0.242, 20),
}

# Earth Search ``landsat-c2-l2`` keys; B5 keeps the common name ``nir`` so NIR lookups by common
# name work on both sensors. ``pan`` and ``cirrus`` only exist at level 1 (which this sample is).
LANDSAT8_BANDS: dict[str, BandSpec] = {
    "coastal": BandSpec("B1", "Coastal/Aerosol (band 1)", "coastal", 0.44, 0.02, 30),
    "blue": BandSpec("B2", "Visible blue (band 2)", "blue", 0.48, 0.06, 30),
    "green": BandSpec("B3", "Visible green (band 3)", "green", 0.56, 0.06, 30),
    "red": BandSpec("B4", "Visible red (band 4)", "red", 0.65, 0.04, 30),
    "nir08": BandSpec("B5", "Near infrared (band 5)", "nir", 0.86, 0.03, 30),
    "swir16": BandSpec("B6", "Short-wave infrared (band 6)", "swir16", 1.6, 0.08, 30),
    "swir22": BandSpec("B7", "Short-wave infrared (band 7)", "swir22", 2.2, 0.2, 30),
    "pan": BandSpec("B8", "Panchromatic (band 8)", "pan", 0.59, 0.18, 15),
    "cirrus": BandSpec("B9", "Cirrus (band 9)", "cirrus", 1.37, 0.02, 30),
    "lwir11": BandSpec("B10", "Long-wave infrared (band 10)", "lwir11", 10.9, 0.8, 100),
    "lwir12": BandSpec("B11", "Long-wave infrared (band 11)", "lwir12", 12.0, 1.0, 100),
}


def epsg_of(crs: Any) -> int:
    """The EPSG code of a CRS (rasterio or pyproj object, or a string)."""
    code = CRS.from_user_input(str(crs) if not isinstance(crs, CRS) else crs).to_epsg()
    if code is None:
        raise ValueError(f"CRS has no EPSG code: {crs}")
    return int(code)


def proj_fields(epsg: int, shape: tuple[int, int], transform: Affine) -> dict[str, Any]:
    """Projection fields of a grid: code (both conventions), shape, 6-term transform, bbox."""
    height, width = shape
    left, top = transform @ (0, 0)
    right, bottom = transform @ (width, height)
    return {
        "proj:epsg": epsg,
        "proj:code": f"EPSG:{epsg}",
        "proj:shape": [int(height), int(width)],
        "proj:transform": [float(v) for v in tuple(transform)[:6]],
        "proj:bbox": [
            float(min(left, right)),
            float(min(top, bottom)),
            float(max(left, right)),
            float(max(top, bottom)),
        ],
    }


def footprint(epsg: int, polygon: shapely.Geometry) -> tuple[list[float], dict[str, Any]]:
    """WGS84 ``bbox`` and ``geometry`` of a polygon given in a projected CRS.

    Edges are densified before the transform: a straight UTM edge is curved in lon/lat, and a
    4-corner polygon would cut off slivers of the raster.
    """
    to_wgs84 = Transformer.from_crs(epsg, 4326, always_xy=True)
    # About 8 vertices per edge of a rectangle: plenty for the slight curvature of UTM edges.
    dense = shapely.segmentize(polygon, max(polygon.length / 32.0, 100.0))
    geographic = shapely.transform(dense, lambda xy: _stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))
    geographic = shapely.set_precision(geographic, 1e-7)
    return [round(v, 7) for v in geographic.bounds], mapping(geographic)


def _stack(xy: tuple[Any, Any]) -> np.ndarray:
    return np.column_stack(xy)


def band_asset(
    key: str,
    spec: BandSpec,
    *,
    href: str,
    epsg: int,
    shape: tuple[int, int],
    transform: Affine,
    dtype: str = "uint16",
    nodata: float | None = 0,
    scale: float | None = 0.0001,
    roles: tuple[str, ...] = ("data", "reflectance"),
    gsd: float | None = None,
) -> dict[str, Any]:
    """An Earth-Search-like COG asset of one spectral band, with its own grid fields.

    ``gsd`` defaults to the pixel size; pass the sensor's when the file was resampled (Landsat
    thermal bands are 100 m data on a 30 m grid).
    """
    pixel = abs(float(transform.a))
    raster_band: dict[str, Any] = {"data_type": dtype, "spatial_resolution": pixel}
    if nodata is not None:
        raster_band["nodata"] = nodata
    if scale is not None:
        raster_band.update(scale=scale, offset=0.0)
    asset = {
        "href": href,
        "type": COG_MEDIA_TYPE,
        "title": f"{spec.description} - {pixel:g}m",
        "eo:bands": [spec.eo_band(key)],
        "gsd": float(gsd if gsd is not None else pixel),
        "raster:bands": [raster_band],
        "roles": list(roles),
    }
    grid = proj_fields(epsg, shape, transform)
    asset.update({k: grid[k] for k in ("proj:shape", "proj:transform")})
    return asset


def plain_asset(
    href: str,
    title: str,
    *,
    roles: tuple[str, ...],
    dtype: str,
    nodata: float | None,
    transform: Affine,
    shape: tuple[int, int],
    epsg: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A COG asset without ``eo:bands`` (masks, class bands, quality bands)."""
    raster_band: dict[str, Any] = {"data_type": dtype, "spatial_resolution": abs(float(transform.a))}
    if nodata is not None:
        raster_band["nodata"] = nodata
    asset = {"href": href, "type": COG_MEDIA_TYPE, "title": title, "raster:bands": [raster_band]}
    asset["roles"] = list(roles)
    grid = proj_fields(epsg, shape, transform)
    asset.update({k: grid[k] for k in ("proj:shape", "proj:transform")})
    asset.update(extra or {})
    return asset


def item_dict(
    item_id: str,
    *,
    bbox: list[float],
    geometry: dict[str, Any],
    properties: dict[str, Any],
    assets: dict[str, dict[str, Any]],
    extensions: tuple[str, ...] = ITEM_EXTENSIONS,
) -> dict[str, Any]:
    """A STAC Item as a dict (no links: the catalog adds them when it links the item)."""
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(extensions),
        "id": item_id,
        "bbox": bbox,
        "geometry": geometry,
        "properties": properties,
        "links": [],
        "assets": assets,
    }


def write_item(item: dict[str, Any], path: Path) -> Path:
    """Write an item dict as pretty JSON (stable key order, so rebuilds give identical files)."""
    path.write_text(json.dumps(item, indent=2) + "\n", encoding="utf-8")
    return path
