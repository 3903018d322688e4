"""The STAC Item that describes one water mask produced by the ``water-bodies`` service.

Mirrors what ``rio_stac.create_stac_item`` gives the original package (projection extension,
footprint in WGS84, source datetime, asset ``data``), plus the threshold and water fraction.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from terrafuse.algorithms.water import MASK_LAND, MASK_NODATA, MASK_WATER
from terrafuse.core.refs import object_ref
from terrafuse.ingest.stac import StacItemRef

STAC_VERSION = "1.0.0"
PROJECTION_EXT = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
CLASSIFICATION_EXT = "https://stac-extensions.github.io/classification/v1.1.0/schema.json"
MASK_MEDIA_TYPE = "image/tiff; application=geotiff"
# Points per footprint edge: a UTM rectangle is curved in longitude/latitude.
_DENSIFY = 21


@dataclass(frozen=True)
class MaskResult:
    """What pass 1 found out about a mask: its grid and figures.

    Attributes:
        crs: CRS of the mask (the first band's).
        transform: affine transform of the mask's top-left pixel grid.
        shape: ``(rows, cols)``.
        threshold: Otsu's NDWI threshold (water is NDWI > threshold).
        valid_pixels: pixels where both bands have data.
        water_pixels: valid pixels classified as water.
        bands: the two band names of the normalized difference.
    """

    crs: CRS
    transform: Affine
    shape: tuple[int, int]
    threshold: float
    valid_pixels: int
    water_pixels: int
    bands: tuple[str, str]

    @property
    def water_fraction(self) -> float:
        """Share of the valid pixels that are water."""
        return self.water_pixels / self.valid_pixels if self.valid_pixels else 0.0

    @property
    def valid_fraction(self) -> float:
        """Share of the mask's pixels that have data."""
        return self.valid_pixels / (self.shape[0] * self.shape[1])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the mask's CRS."""
        rows, cols = self.shape
        xs = (self.transform.c, self.transform.c + self.transform.a * cols)
        ys = (self.transform.f, self.transform.f + self.transform.e * rows)
        return (min(xs), min(ys), max(xs), max(ys))


def mask_item(source: StacItemRef, mask: MaskResult, key: str) -> dict[str, Any]:
    """The STAC Item (1.0, projection/raster/classification extensions) of a stored mask.

    Args:
        source: the input Item (id, datetime and the ``derived_from`` link come from it).
        mask: the mask's grid and figures.
        key: object-store key of the mask COG (referenced with :func:`object_ref`).
    """
    left, bottom, right, top = mask.bounds
    epsg = mask.crs.to_epsg()
    ring = _densified_ring(left, bottom, right, top)
    to_wgs84 = Transformer.from_crs(mask.crs.to_wkt(), "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform([p[0] for p in ring], [p[1] for p in ring])
    bbox = transform_bounds(mask.crs, "EPSG:4326", left, bottom, right, top, densify_pts=_DENSIFY)
    properties: dict[str, Any] = {
        **_datetimes(source.item.get("properties") or {}),
        "proj:epsg": epsg,
        "proj:shape": list(mask.shape),
        "proj:transform": list(mask.transform)[:6],
        "proj:bbox": [left, bottom, right, top],
        "proj:geometry": {
            "type": "Polygon",
            "coordinates": [[list(p) for p in _corners(left, bottom, right, top)]],
        },
        "terrafuse:threshold": mask.threshold,
        "terrafuse:water_fraction": mask.water_fraction,
        "terrafuse:valid_fraction": mask.valid_fraction,
        "terrafuse:water_pixels": mask.water_pixels,
        "terrafuse:valid_pixels": mask.valid_pixels,
        "terrafuse:index": f"NDWI ({mask.bands[0]} - {mask.bands[1]}) / ({mask.bands[0]} + {mask.bands[1]})",
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if epsg is None:
        properties["proj:wkt2"] = mask.crs.to_wkt()
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [PROJECTION_EXT, RASTER_EXT, CLASSIFICATION_EXT],
        "id": source.id,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[_r(x), _r(y)] for x, y in zip(lon, lat, strict=True)]],
        },
        "bbox": [_r(v) for v in bbox],
        "properties": properties,
        "links": [
            {
                "rel": "derived_from",
                "href": _link_href(source.url),
                "type": "application/geo+json",
                "title": f"Source STAC Item {source.id}",
            }
        ],
        "assets": {
            "data": {
                "href": object_ref(key),
                "type": MASK_MEDIA_TYPE,
                "roles": ["data", "visual"],
                "title": "Water mask (1 water, 0 land, 255 no data)",
                "raster:bands": [
                    {"data_type": "uint8", "nodata": MASK_NODATA, "spatial_resolution": abs(mask.transform.a)}
                ],
                "classification:classes": [
                    {"value": MASK_LAND, "name": "land", "description": "NDWI at or below the threshold"},
                    {"value": MASK_WATER, "name": "water", "description": "NDWI above the threshold"},
                    {"value": MASK_NODATA, "name": "nodata", "nodata": True},
                ],
            }
        },
    }


def _datetimes(props: dict[str, Any]) -> dict[str, Any]:
    """The source's datetime (or its range); now when the source has none."""
    out = {k: props[k] for k in ("start_datetime", "end_datetime") if props.get(k)}
    out["datetime"] = props.get("datetime") or (
        None if out else dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return out


def _corners(left: float, bottom: float, right: float, top: float) -> list[tuple[float, float]]:
    # Counter-clockwise exterior ring (GeoJSON right-hand rule), closed.
    return [(left, bottom), (right, bottom), (right, top), (left, top), (left, bottom)]


def _densified_ring(left: float, bottom: float, right: float, top: float) -> list[tuple[float, float]]:
    corners = _corners(left, bottom, right, top)
    ring: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        ring += [(x0 + (x1 - x0) * i / _DENSIFY, y0 + (y1 - y0) * i / _DENSIFY) for i in range(_DENSIFY)]
    return [*ring, corners[0]]


def _link_href(url: str) -> str:
    return url if "://" in url else Path(url).as_uri()


def _r(value: float) -> float:
    # 1e-7 degree is about 1 cm: enough for a footprint, and keeps the JSON short.
    return round(float(value), 7)
