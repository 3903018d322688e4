"""Reading a region of interest from an uploaded vector file, as one WGS84 geometry.

A process's region input is a GeoJSON, KML, KMZ or zipped ESRI Shapefile file. The files are read
the way their analysis reads them (``analysis.vector``: canonical file names, zip vetting, the
legacy GeoJSON ``crs`` member such as EPSG:27700, KML forced to 2D) and reprojected the way it
reprojects them (``analysis.geometry``). The region is the union of all polygons in the file,
repaired in the file's own CRS (where its edges are straight) when invalid; points and lines are
ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.errors
import shapely
from shapely.errors import GEOSException

from terrafuse.analysis import archives, geometry
from terrafuse.analysis.model import AnalysisLimits, ContentError
from terrafuse.analysis.vector import (
    _SUFFIXES,
    _canonical_link,
    _layer_crs,
    _out_of_range_error,
    _read_layers,
    _shapefile_member,
)
from terrafuse.errors import InvalidInput

REGION_TYPES = ("GeoJSON", "KML", "KMZ", "ESRI Shapefile")
"""The file types a region can be read from."""


def read_region(
    path: Path,
    file_type: str,
    limits: AnalysisLimits = AnalysisLimits(),
    *,
    display_name: str | None = None,
) -> shapely.Geometry:
    """The union of all polygons of a vector file, valid, in WGS84 longitude/latitude.

    Raises InvalidInput when the file cannot be read, its coordinates do not fit its CRS, or it
    holds no polygon. Messages name the file as ``display_name`` (the name the user uploaded it
    under; by default the file's own name), never by a server path.
    """
    path = Path(path)
    name = display_name or path.name
    if file_type not in REGION_TYPES:
        raise InvalidInput(f"a region must be one of {', '.join(REGION_TYPES)}, not {file_type!r}")
    try:
        polygons = _read_polygons(path, file_type, limits, name)
    except ContentError as exc:
        raise InvalidInput(f"the region file {name} cannot be used: {exc}") from None
    if not polygons:
        raise InvalidInput(f"the region file {name} contains no polygon")
    region = shapely.union_all(polygons)
    if not region.is_valid:
        region = shapely.make_valid(region)
    parts = geometry.flatten(np.array([region]))
    parts = parts[shapely.get_type_id(parts) == geometry.POLYGON]
    if parts.size == 0:
        raise InvalidInput(f"the region file {name} contains no polygon with an area")
    return parts[0] if parts.size == 1 else shapely.MultiPolygon(list(parts))


def _read_polygons(path: Path, file_type: str, limits: AnalysisLimits, name: str) -> list[shapely.Polygon]:
    """The polygons of every layer, each layer repaired and unioned in its CRS, then in WGS84."""
    members: tuple[archives.ZipMember, ...] = ()
    if file_type in ("KMZ", "ESRI Shapefile"):
        members = archives.inspect_zip(path, limits)
    notes: list[str] = []
    with _canonical_link(path, _SUFFIXES[file_type]) as link:
        source = str(link)
        if file_type == "ESRI Shapefile":
            source = f"/vsizip/{link}/{_shapefile_member(members)}"
        try:
            layers = _read_layers(source, limits)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            message = str(exc).replace(source, name).replace(str(link), name).replace(str(path), name)
            raise ContentError(f"the {file_type} file could not be read ({message})") from None

    polygons: list[shapely.Polygon] = []
    for meta, wkb, _ in layers:
        crs = _layer_crs(meta.get("crs"), file_type, path, notes)
        try:
            shapes = shapely.from_wkb(wkb, on_invalid="raise")
        except GEOSException as exc:
            raise ContentError(f"the file holds a geometry that cannot be decoded ({exc})") from None
        parts = geometry.flatten(shapes[~shapely.is_missing(shapes)])
        parts = parts[shapely.get_type_id(parts) == geometry.POLYGON]
        if parts.size == 0:
            continue
        # Repair and union where the edges are straight: in the file's own CRS.
        merged = shapely.union_all(shapely.make_valid(parts))
        parts = geometry.flatten(np.array([merged]))
        parts = parts[(shapely.get_type_id(parts) == geometry.POLYGON) & (shapely.area(parts) > 0)]
        if parts.size == 0:
            continue
        if not crs.is_geographic:
            # Long straight edges of a projected CRS are curves in lon/lat: give them vertices first.
            parts = shapely.segmentize(parts, geometry._PROJECTED_SEGMENT_M / geometry._unit_factor(crs))
        try:
            wgs84 = geometry._reproject_checked(parts, geometry._transformer(crs), crs)
        except geometry.OutOfRange:
            raise ContentError(_out_of_range_error(file_type, notes)) from None
        if not geometry.bounds_are_lonlat(tuple(shapely.total_bounds(wgs84))):
            raise ContentError(_out_of_range_error(file_type, notes))
        polygons.extend(wgs84)
    return polygons
