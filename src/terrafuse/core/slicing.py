"""Cutting a region into slices that run as a group of executions.

A region no larger than the slice limit is one slice. A larger one is cut on a square grid in the
UTM zone of its centroid: the fewest columns and rows whose square cells (each at most the limit,
with a 1 % margin for the projection's scale error) cover the region's UTM bounds, centred on them.
Each cell's part of the region is a slice; empty cells are dropped, and slivers (less than 5 % of a
cell, e.g. a headland just over a cell's edge) are merged into the neighbouring slice they share
the longest border with, so no execution runs for a scrap of land. A slice that absorbed slivers can
therefore exceed the limit by a little. Slices are numbered 0..n-1 row by row, north to south, and
west to east within a row.

Areas are geodesic (WGS84 ellipsoid), so they do not depend on the projection used for cutting.
Pure geometry (shapely, pyproj); no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Geod, Transformer

from terrafuse.errors import InvalidInput

SLIVER_FRACTION = 0.05
"""Slices smaller than this share of a grid cell are merged into a neighbour."""
# Cells are 2 % smaller in area than the limit: within a zone, UTM areas are within about 0.2 % of
# the true (geodesic) ones, and a region reaching beyond its zone drifts further.
_CELL_MARGIN = 0.99
# Vertices every km (0.01° in lon/lat) on long edges, so they keep their shape in the other CRS.
_SEGMENT_M = 1000.0
_SEGMENT_DEG = 0.01
_GEOD = Geod(ellps="WGS84")
_POLYGON = 3


@dataclass(frozen=True)
class Slice:
    """One slice of a region: its geometry (WGS84 lon/lat), geodesic area and UTM bounds.

    ``bounds_utm`` is (minx, miny, maxx, maxy) in metres of the UTM zone ``epsg``.
    """

    index: int
    geometry: shapely.Geometry
    area_km2: float
    bounds_utm: tuple[float, float, float, float]
    epsg: int


def utm_epsg(geometry_wgs84: shapely.Geometry) -> int:
    """The EPSG code of the UTM zone of the geometry's centroid: 326xx north, 327xx south.

    Plain 6-degree zones (no Norway or Svalbard exceptions).
    """
    return _zone(_polygons(geometry_wgs84))


def region_area_km2(geometry_wgs84: shapely.Geometry) -> float:
    """The geodesic area of a WGS84 region in km² (holes subtracted, ring orientation ignored).

    Edges are taken as geodesics between vertices; for the dense polygons of real regions this is
    indistinguishable from straight lon/lat edges.
    """
    return _area_km2(_polygons(geometry_wgs84))


def slice_region(geometry_wgs84: shapely.Geometry, max_km2: float) -> list[Slice]:
    """Cut a WGS84 region into slices of at most about ``max_km2`` (see the module notes).

    Invalid geometries are made valid first; points and lines are ignored. Raises InvalidInput when
    the region has no area, ValueError when ``max_km2`` is not positive.
    """
    if not max_km2 > 0 or not math.isfinite(max_km2):
        raise ValueError(f"max_km2 must be a positive number, not {max_km2!r}")
    region = _polygons(geometry_wgs84)
    epsg = _zone(region)
    to_utm, to_wgs84 = _transformers(epsg)
    # Edges straight in lon/lat are curves in UTM: give long ones vertices before projecting.
    region_utm = _transform(shapely.segmentize(region, _SEGMENT_DEG), to_utm)
    area = _area_km2(region)
    if area <= max_km2:
        return [Slice(0, region, area, _bounds(region_utm), epsg)]

    xs, ys, side = _grid(region_utm, math.sqrt(max_km2) * 1000.0 * _CELL_MARGIN)
    pieces = _merge_slivers(_cut(region_utm, xs, ys), SLIVER_FRACTION * side * side)
    slices = []
    for index, piece in enumerate(pieces):
        # Likewise cell edges, straight in UTM, get vertices before going back to lon/lat.
        geometry = _transform(shapely.segmentize(piece, _SEGMENT_M), to_wgs84)
        slices.append(Slice(index, geometry, _area_km2(geometry), _bounds(piece), epsg))
    return slices


def _zone(region: shapely.Geometry) -> int:
    centroid = region.centroid
    zone = min(max(math.floor((centroid.x + 180.0) / 6.0) + 1, 1), 60)
    return (32600 if centroid.y >= 0 else 32700) + zone


def _area_km2(geometry: shapely.Geometry) -> float:
    total = 0.0
    for polygon in _polygon_parts(geometry):
        area = _ring_area(polygon.exterior) - sum(_ring_area(ring) for ring in polygon.interiors)
        total += max(area, 0.0)
    return total / 1e6


def _polygons(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry, 2D and valid; InvalidInput when it has no area."""
    if geometry is None or not isinstance(geometry, shapely.Geometry):
        raise InvalidInput("the region is not a geometry")
    geometry = shapely.force_2d(geometry)
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    parts = _polygon_parts(geometry)
    if not parts:
        raise InvalidInput("the region has no polygon with an area")
    west, south, east, north = shapely.total_bounds(parts)
    if not (-180.0 <= west <= east <= 180.0 and -90.0 <= south <= north <= 90.0):
        raise InvalidInput("the region's coordinates are not WGS84 longitude/latitude")
    if len(parts) == 1:
        return parts[0]
    return shapely.MultiPolygon(parts)


def _polygon_parts(geometry: shapely.Geometry) -> list[shapely.Polygon]:
    parts = shapely.get_parts(geometry)
    while len(parts) and np.any(shapely.get_type_id(parts) >= 4):  # multi-parts and collections
        parts = shapely.get_parts(parts)
    return [
        part
        for part in parts
        if shapely.get_type_id(part) == _POLYGON and not part.is_empty and part.area > 0
    ]


def _ring_area(ring: shapely.LinearRing) -> float:
    coordinates = shapely.get_coordinates(ring)
    area, _ = _GEOD.polygon_area_perimeter(coordinates[:, 0], coordinates[:, 1])
    return abs(area)


@lru_cache(maxsize=64)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    return (
        Transformer.from_crs(4326, epsg, always_xy=True),
        Transformer.from_crs(epsg, 4326, always_xy=True),
    )


def _transform(geometry: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _bounds(geometry: shapely.Geometry) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = geometry.bounds
    return (float(minx), float(miny), float(maxx), float(maxy))


def _grid(region: shapely.Geometry, max_side: float) -> tuple[list[float], list[float], float]:
    """Column edges (west to east), row edges (north to south) and side of the square cells.

    The fewest cells of at most ``max_side`` that cover the region's bounds, centred on them.
    """
    minx, miny, maxx, maxy = region.bounds
    columns = max(1, math.ceil((maxx - minx) / max_side))
    rows = max(1, math.ceil((maxy - miny) / max_side))
    side = max((maxx - minx) / columns, (maxy - miny) / rows)
    left = (minx + maxx) / 2 - columns * side / 2
    top = (miny + maxy) / 2 + rows * side / 2
    return [left + i * side for i in range(columns + 1)], [top - i * side for i in range(rows + 1)], side


def _cut(region: shapely.Geometry, xs: list[float], ys: list[float]) -> list[shapely.Geometry]:
    """The region's part in each cell, row by row; empty parts dropped."""
    pieces: list[shapely.Geometry] = []
    for band in _split(region, ys, axis=1):
        if band is not None:
            pieces.extend(piece for piece in _split(band, xs, axis=0) if piece is not None)
    repaired = [piece if piece.is_valid else _polygonal(shapely.make_valid(piece)) for piece in pieces]
    return [piece for piece in repaired if piece is not None]


def _split(geometry: shapely.Geometry | None, edges: list[float], axis: int) -> list[shapely.Geometry | None]:
    """The parts of a geometry between consecutive ``edges`` along x (0) or y (1); None when empty.

    Halving recursively makes each vertex take part in about log2(len(edges)) cuts, not one per
    cell. Both sides of a cut are clipped at the same coordinate from the same parent, so
    neighbouring pieces share exactly the same vertices along their common edge.
    """
    if geometry is None or len(edges) == 2:
        return [geometry] * (len(edges) - 1)
    middle = len(edges) // 2
    first = _clip(geometry, edges[0], edges[middle], axis)
    second = _clip(geometry, edges[middle], edges[-1], axis)
    return _split(first, edges[: middle + 1], axis) + _split(second, edges[middle:], axis)


def _clip(geometry: shapely.Geometry, start: float, end: float, axis: int) -> shapely.Geometry | None:
    low, high = min(start, end), max(start, end)
    minx, miny, maxx, maxy = geometry.bounds
    lower, upper = (minx, maxx) if axis == 0 else (miny, maxy)
    if upper <= low or lower >= high:
        return None
    if low <= lower and upper <= high:
        return geometry  # wholly inside: no cut needed
    # clip_by_rect is an order of magnitude faster than a general intersection; its rare invalid
    # results (self-touching rings) are repaired once the pieces are final (``_cut``).
    if axis == 0:
        return _polygonal(shapely.clip_by_rect(geometry, low, miny - 1, high, maxy + 1))
    return _polygonal(shapely.clip_by_rect(geometry, minx - 1, low, maxx + 1, high))


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry | None:
    """Only the areas of an intersection (cuts along an edge leave lines and points)."""
    if geometry.is_empty:
        return None
    parts = _polygon_parts(geometry)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _merge_slivers(pieces: list[shapely.Geometry], min_area: float) -> list[shapely.Geometry]:
    """Merge pieces smaller than ``min_area`` (m²) into neighbours, smallest first, keeping the order.

    A sliver joins the piece it shares the longest border with (and takes its place in the order);
    one that touches none (an islet) joins the nearest piece.
    """
    pieces = list(pieces)
    while len(pieces) > 1:
        areas = [piece.area for piece in pieces]
        smallest = min(range(len(pieces)), key=areas.__getitem__)
        if areas[smallest] >= min_area:
            break
        sliver = pieces.pop(smallest)
        # Only pieces whose boxes touch the sliver's can share a border with it.
        near = shapely.box(*sliver.bounds).buffer(1.0)
        candidates = [
            index for index, piece in enumerate(pieces) if near.intersects(shapely.box(*piece.bounds))
        ]
        borders = [
            shapely.length(shapely.intersection(sliver.boundary, pieces[i].boundary)) for i in candidates
        ]
        if borders and max(borders) > 0:
            target = candidates[int(np.argmax(borders))]
        else:
            target = int(np.argmin([sliver.distance(piece) for piece in pieces]))
        pieces[target] = _polygonal(shapely.union(pieces[target], sliver)) or pieces[target]
    return pieces
