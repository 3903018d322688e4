"""Geometry measures: part counts, validity, WGS84 bounds, geodesic area and length, small GeoJSON.

Geodesic measures use ``pyproj.Geod`` on WGS84 longitude/latitude. Geod joins vertices with
geodesics, while a file's edges are straight in its own CRS, so geometries are first segmentized in
the source CRS (1 km in projected CRSs, 0.01° in geographic ones) and only then reprojected: edges
then follow the source projection closely (a 10-degree-wide box at 60° N is 0.3 % too small without it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.enums import TransformDirection

_GEOD = Geod(ellps="WGS84")
_WGS84 = CRS.from_epsg(4326)
_PROJECTED_SEGMENT_M = 1000.0
_GEOGRAPHIC_SEGMENT_DEG = 0.01
_MAX_ADDED_VERTICES = 2_000_000
# Rough lower bound of the bytes one coordinate pair takes in GeoJSON, to skip hopeless serializations.
_BYTES_PER_COORDINATE = 20

POINT, LINESTRING, LINEARRING, POLYGON = 0, 1, 2, 3
_COLLECTIONS = (4, 5, 6, 7)  # Multi* and GeometryCollection


class OutOfRange(ValueError):
    """Coordinates that cannot be in the CRS they claim (degrees beyond ±180/±90, infinities)."""


@dataclass(frozen=True)
class Measures:
    """What the geometries of one layer add up to."""

    points: int
    lines: int
    polygons: int
    invalid: int
    invalid_reason: str | None
    area: float
    length: float
    bounds: tuple[float, float, float, float]
    wgs84: np.ndarray
    """The (non-densified) geometries in WGS84 lon/lat, aligned with the input."""


def flatten(geometries: np.ndarray) -> np.ndarray:
    """The non-empty simple parts of geometries: multi-geometries and collections are split, recursively."""
    parts = shapely.get_parts(geometries)
    while parts.size and np.isin(shapely.get_type_id(parts), _COLLECTIONS).any():
        parts = shapely.get_parts(parts)
    return parts[~shapely.is_empty(parts)]


def measure(geometries: np.ndarray, crs: CRS) -> Measures:
    """Counts, validity, WGS84 bounds and geodesic measures of non-null 2D geometries in ``crs``."""
    parts = flatten(geometries)
    types = shapely.get_type_id(parts)
    validity = shapely.is_valid(geometries)
    invalid = int((~validity).sum())
    reason = str(shapely.is_valid_reason(geometries[~validity][0])) if invalid else None

    to_wgs84 = _transformer(crs)
    if crs.is_geographic and parts.size and not bounds_are_lonlat(tuple(shapely.total_bounds(parts))):
        # Checked before densifying: grid metres read as degrees would densify into millions of vertices.
        raise OutOfRange("coordinates out of the longitude/latitude range")
    polygons = parts[types == POLYGON]
    if invalid:
        # A self-intersecting ring would make Geod's signed areas cancel; measure the repaired shape.
        polygons = flatten(shapely.make_valid(polygons))
        polygons = polygons[shapely.get_type_id(polygons) == POLYGON]
    lines = parts[np.isin(types, (LINESTRING, LINEARRING))]
    segment = _GEOGRAPHIC_SEGMENT_DEG if crs.is_geographic else _PROJECTED_SEGMENT_M / _unit_factor(crs)
    # Bound the vertices densification may add, whatever the coordinates' magnitude.
    perimeter = float(shapely.length(polygons).sum() + shapely.length(lines).sum())
    if not math.isfinite(perimeter):
        raise OutOfRange("coordinates are not finite numbers")
    segment = max(segment, perimeter / _MAX_ADDED_VERTICES)
    wgs84 = _reproject_checked(geometries, to_wgs84, crs)
    dense_polygons = _reproject(shapely.segmentize(polygons, segment), to_wgs84)
    dense_lines = _reproject(shapely.segmentize(lines, segment), to_wgs84)
    points = _reproject(parts[types == POINT], to_wgs84)

    extents = [shapely.total_bounds(group) for group in (dense_polygons, dense_lines, points) if group.size]
    stacked = np.array(extents)
    bounds = (
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    )
    return Measures(
        points=int((types == POINT).sum()),
        lines=int(np.isin(types, (LINESTRING, LINEARRING)).sum()),
        polygons=int((types == POLYGON).sum()),
        invalid=invalid,
        invalid_reason=reason,
        area=_polygons_area(dense_polygons),
        length=_lines_length(dense_lines),
        bounds=bounds,
        wgs84=wgs84,
    )


def crs_name(crs: CRS) -> str:
    """``AUTHORITY:CODE`` when the CRS has one (e.g. "EPSG:27700"), else its WKT."""
    authority = crs.to_authority(min_confidence=90)
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


def bounds_are_lonlat(bounds: tuple[float, float, float, float]) -> bool:
    """Whether bounds are finite longitude/latitude (a little slack for rounding at the edges)."""
    west, south, east, north = bounds
    return (
        all(math.isfinite(value) for value in bounds)
        and -180.000001 <= west <= east <= 180.000001
        and -90.000001 <= south <= north <= 90.000001
    )


def _unit_factor(crs: CRS) -> float:
    axes = crs.axis_info
    return axes[0].unit_conversion_factor if axes and axes[0].unit_conversion_factor else 1.0


def _transformer(crs: CRS) -> Transformer | None:
    """None when the CRS already is WGS84 lon/lat (the common GeoJSON and KML case)."""
    if crs.equals(_WGS84, ignore_axis_order=True):
        return None
    return Transformer.from_crs(crs, _WGS84, always_xy=True)


def _reproject(geometries: np.ndarray, transformer: Transformer | None) -> np.ndarray:
    if transformer is None or geometries.size == 0:
        return geometries
    return shapely.transform(
        geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def _reproject_checked(geometries: np.ndarray, transformer: Transformer | None, crs: CRS) -> np.ndarray:
    """Geometries in WGS84; OutOfRange when a vertex does not survive the round trip back.

    PROJ wraps longitudes and clamps latitudes instead of failing, so coordinates far outside a
    projection's domain come out as plausible lon/lat; transforming them back exposes them.
    """
    if transformer is None:
        return geometries
    tolerance = 1e-6 if crs.is_geographic else 1.0 / _unit_factor(crs)  # a micro-degree, or a metre
    outside = False

    def forward(xy: np.ndarray) -> np.ndarray:
        nonlocal outside
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        back_x, back_y = transformer.transform(lon, lat, direction=TransformDirection.INVERSE)
        with np.errstate(invalid="ignore"):
            drift = np.maximum(np.abs(back_x - xy[:, 0]), np.abs(back_y - xy[:, 1]))
        outside = outside or not bool(np.all(drift <= tolerance))
        return np.column_stack([lon, lat])

    projected = shapely.transform(geometries, forward)
    if outside:
        raise OutOfRange("coordinates outside the domain of their coordinate reference system")
    return projected


def _polygons_area(polygons: np.ndarray) -> float:
    """Total geodesic area in m²: each outer ring minus its holes, whatever their orientation in the file."""
    if polygons.size == 0:
        return 0.0
    rings, owners = shapely.get_rings(polygons, return_index=True)  # each polygon's exterior comes first
    is_exterior = np.r_[True, owners[1:] != owners[:-1]]
    coordinates, ring_index = shapely.get_coordinates(rings, return_index=True)
    starts = np.r_[0, np.flatnonzero(np.diff(ring_index)) + 1]
    ends = np.r_[starts[1:], len(ring_index)]
    areas = np.empty(len(rings))
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        ring = coordinates[start:end]
        areas[number] = abs(_GEOD.polygon_area_perimeter(ring[:, 0], ring[:, 1])[0])
    per_polygon = np.zeros(len(polygons))
    np.add.at(per_polygon, owners, np.where(is_exterior, areas, -areas))
    return float(np.clip(per_polygon, 0.0, None).sum())


def _lines_length(lines: np.ndarray) -> float:
    """Total geodesic length in m, from one vectorised inverse-geodesic call over all segments."""
    if lines.size == 0:
        return 0.0
    coordinates, index = shapely.get_coordinates(lines, return_index=True)
    same_line = index[1:] == index[:-1]  # skip the jump from one line's end to the next line's start
    _, _, distances = _GEOD.inv(
        coordinates[:-1, 0][same_line],
        coordinates[:-1, 1][same_line],
        coordinates[1:, 0][same_line],
        coordinates[1:, 1][same_line],
    )
    return float(np.sum(distances))


def may_fit(geometries: list[np.ndarray], max_bytes: int) -> bool:
    """Whether the geometries have few enough coordinates to be serialized within ``max_bytes``."""
    coordinates = sum(int(shapely.get_num_coordinates(group).sum()) for group in geometries)
    return coordinates * _BYTES_PER_COORDINATE <= max_bytes


def feature_collection(
    geometries: list[np.ndarray], properties: list[list[dict]], max_bytes: int
) -> dict | None:
    """A WGS84 GeoJSON FeatureCollection of all layers, or None when it would exceed ``max_bytes``."""
    features = []
    for group, group_properties in zip(geometries, properties, strict=True):
        for geometry, feature_properties in zip(group, group_properties, strict=True):
            features.append(
                {
                    "type": "Feature",
                    "properties": feature_properties,
                    "geometry": None if geometry is None else json.loads(shapely.to_geojson(geometry)),
                }
            )
    collection = {"type": "FeatureCollection", "features": features}
    if len(json.dumps(collection, separators=(",", ":"))) > max_bytes:
        return None
    return collection
