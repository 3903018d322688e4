"""Vector analysis (GeoJSON, ESRI Shapefile zip, KML, KMZ) through pyogrio's numpy-only raw API.

GDAL picks drivers by file name, and LIBKML cannot read a KMZ it wrote from raw bytes, so every
upload is read through a link with the canonical suffix in a private temporary folder (which also
keeps unrelated sidecar files out of sight). Shapefile zips are read in place via ``/vsizip/``
after ``archives.inspect_zip`` has vetted the central directory.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException

from terrafuse.analysis import geometry
from terrafuse.analysis.archives import ZipMember
from terrafuse.analysis.model import AnalysisLimits, ContentError, FileAnalysis, Selector
from terrafuse.analysis.stats import summarise

_SUFFIXES = {"GeoJSON": ".geojson", "KML": ".kml", "KMZ": ".kmz", "ESRI Shapefile": ".zip"}
# Columns LIBKML adds to every KML layer: styling, which is not the author's data, and free text or
# identifiers, which are not worth a selector.
_KML_STYLE_FIELDS = frozenset(
    {"timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon"}
)
_KML_TEXT_FIELDS = frozenset({"id", "description", "snippet"})
_SKIPPED_OGR_TYPES = frozenset({"OFTDate", "OFTDateTime", "OFTTime", "OFTBinary"})
_NUMERIC_KINDS = "iuf"
_SCAN_CHUNK = 1 << 20


def analyse_vector(
    path: Path,
    declared_type: str,
    size: int,
    limits: AnalysisLimits,
    members: tuple[ZipMember, ...] = (),
) -> FileAnalysis:
    """Analyse a vector upload; ``members`` lists a (vetted) Shapefile zip; ContentError when unusable."""
    notes: list[str] = []
    with _canonical_link(path, _SUFFIXES[declared_type]) as link:
        source = str(link)
        if declared_type == "ESRI Shapefile":
            source = f"/vsizip/{link}/{_shapefile_member(members)}"
        try:
            layers = _read_layers(source, limits)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            message = str(exc).replace(source, "the file").replace(str(link), "the file")
            raise ContentError(f"the {declared_type} file could not be read ({message})") from None

    geometries: list[np.ndarray] = []
    kept: list[tuple[dict, list[np.ndarray], np.ndarray, bool]] = []
    crs_names: list[str] = []
    measures: list[geometry.Measures] = []
    for meta, wkb, fields in layers:
        crs = _layer_crs(meta.get("crs"), declared_type, path, notes)
        try:
            shapes = shapely.from_wkb(wkb, on_invalid="raise")
        except GEOSException as exc:
            raise ContentError(f"the file holds a geometry that cannot be decoded ({exc})") from None
        keep = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
        if not keep.any():
            continue
        shapes = shapes[keep]
        try:
            layer_measures = geometry.measure(shapes, crs)
        except geometry.OutOfRange:
            raise ContentError(_out_of_range_error(declared_type, notes)) from None
        if not geometry.bounds_are_lonlat(layer_measures.bounds):
            raise ContentError(_out_of_range_error(declared_type, notes))
        measures.append(layer_measures)
        crs_names.append(geometry.crs_name(crs))
        geometries.append(layer_measures.wgs84)
        kept.append((meta, fields, keep, declared_type in ("KML", "KMZ")))

    if not measures:
        raise ContentError(f"the {declared_type} file contains no geometries")
    invalid = sum(item.invalid for item in measures)
    if invalid:
        reason = next(item.invalid_reason for item in measures if item.invalid_reason)
        notes.append(f"{invalid} geometries are not valid (first: {reason})")
    points = sum(item.points for item in measures)
    lines = sum(item.lines for item in measures)
    polygons = sum(item.polygons for item in measures)
    return FileAnalysis(
        file_type=declared_type,
        size=size,
        publishable=True,
        error=None,
        crs=crs_names[0],
        bounds=_union_bounds([item.bounds for item in measures]),
        area=sum(item.area for item in measures) if polygons else None,
        length=sum(item.length for item in measures) if lines else None,
        points=points,
        lines=lines,
        polygons=polygons,
        resolution=None,
        selectors=_attribute_selectors(layers, declared_type, limits),
        columns=None,
        rows=None,
        geojson=_small_geojson(geometries, kept, limits.max_geojson_bytes),
        valid=invalid == 0,
        notes=tuple(notes),
    )


@contextmanager
def _canonical_link(path: Path, suffix: str) -> Iterator[Path]:
    """The upload under the name ``upload<suffix>`` in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="terrafuse-analysis-") as folder:
        link = Path(folder) / f"upload{suffix}"
        try:
            os.symlink(path.resolve(), link)
        except OSError:  # no symlinks (some Windows setups): a streamed copy
            shutil.copyfile(path, link)
        yield link


def _shapefile_member(members: tuple[ZipMember, ...]) -> str:
    """The one .shp in the zip, once its companions are known to be there."""
    files = [member for member in members if not member.is_junk]
    shapefiles = [member for member in files if member.suffix == ".shp"]
    if not shapefiles:
        raise ContentError("the zip contains no .shp file")
    if len(shapefiles) > 1:
        names = ", ".join(sorted(member.name for member in shapefiles))
        raise ContentError(f"the zip contains several shapefiles ({names}); upload one shapefile per file")
    shp = PurePosixPath(shapefiles[0].name)
    siblings = {
        PurePosixPath(member.name).with_suffix("").as_posix().lower() + member.suffix for member in files
    }
    stem = shp.with_suffix("").as_posix().lower()
    missing = [suffix for suffix in (".shx", ".dbf") if stem + suffix not in siblings]
    if missing:
        raise ContentError(
            f"the shapefile {shp.name} is incomplete: the zip has no {' or '.join(missing)} file"
        )
    if stem + ".prj" not in siblings:
        raise ContentError(
            f"the shapefile {shp.name} has no .prj file, so its coordinate reference system is unknown; "
            "add the .prj file to the zip"
        )
    return shapefiles[0].name


def _read_layers(source: str, limits: AnalysisLimits) -> list[tuple[dict, np.ndarray, list[np.ndarray]]]:
    """(meta, WKB geometries, field arrays) of every layer, refusing more than the feature limit."""
    layers = []
    remaining = limits.max_vector_features
    # GeoJSON and Shapefile hold one layer; listing layers would parse a big GeoJSON twice.
    names = (
        [None] if not source.endswith((".kml", ".kmz")) else [name for name, _ in pyogrio.list_layers(source)]
    )
    for name in names:
        # force_2d: LIBKML reads every KML geometry as 3D, and heights play no part in the analysis.
        meta, _, wkb, fields = pyogrio.raw.read(
            source, layer=name, max_features=remaining + 1, force_2d=True, datetime_as_string=True
        )
        remaining -= len(wkb)
        if remaining < 0:
            raise ContentError(f"the file has more than {limits.max_vector_features} features")
        layers.append((meta, wkb, fields))
    return layers


def _layer_crs(name: str | None, declared_type: str, path: Path, notes: list[str]) -> CRS:
    if name is None:
        if declared_type == "ESRI Shapefile":
            raise ContentError("the shapefile's .prj file does not describe a coordinate reference system")
        note = "the file has no CRS; its coordinates were taken as WGS84 longitude/latitude (RFC 7946)"
        if note not in notes:
            notes.append(note)
        return CRS.from_epsg(4326)
    if declared_type == "GeoJSON" and not _mentions_crs(path):
        # GDAL reports WGS84 for every GeoJSON without a "crs" member; say that it was assumed.
        note = (
            'the file has no "crs" member; its coordinates were taken as WGS84 longitude/latitude (RFC 7946)'
        )
        if note not in notes:
            notes.append(note)
    try:
        return CRS.from_user_input(name)
    except CRSError as exc:
        raise ContentError(f"the file's coordinate reference system is not understood ({exc})") from None


def _mentions_crs(path: Path) -> bool:
    """Whether the text ``"crs"`` occurs anywhere in the file (streamed, constant memory)."""
    needle = b'"crs"'
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _out_of_range_error(declared_type: str, notes: list[str]) -> str:
    if any("taken as WGS84" in note for note in notes):
        return (
            f"the {declared_type} file's coordinates are not longitude/latitude; a file without a CRS "
            "must use WGS84 (RFC 7946), so reproject it or declare its CRS"
        )
    return f"the {declared_type} file's coordinates fall outside the area of its coordinate reference system"


def _union_bounds(bounds: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    stacked = np.array(bounds)
    return (
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    )


def _small_geojson(
    geometries: list[np.ndarray], kept: list[tuple[dict, list[np.ndarray], np.ndarray, bool]], max_bytes: int
) -> dict | None:
    """The WGS84 FeatureCollection when it fits in ``max_bytes``; properties are only built if it may."""
    if not geometry.may_fit(geometries, max_bytes):
        return None
    properties = [_feature_properties(meta, fields, keep, is_kml) for meta, fields, keep, is_kml in kept]
    return geometry.feature_collection(geometries, properties, max_bytes)


def _feature_properties(meta: dict, fields: list[np.ndarray], keep: np.ndarray, is_kml: bool) -> list[dict]:
    wanted = [
        (str(name), column)
        for name, column in zip(meta["fields"], fields, strict=True)
        if not (is_kml and name in _KML_STYLE_FIELDS)
    ]
    names = [name for name, _ in wanted]
    columns = [[_json_value(value) for value in column[keep]] for _, column in wanted]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)] or [
        {} for _ in range(int(keep.sum()))
    ]


def _json_value(value: object) -> object:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, bytes):
        return None  # binary fields have no JSON form
    return str(value)


def _attribute_selectors(
    layers: list[tuple[dict, np.ndarray, list[np.ndarray]]], declared_type: str, limits: AnalysisLimits
) -> tuple[Selector, ...]:
    """One selector per numeric attribute, and per text/boolean attribute with few distinct values."""
    columns: dict[str, list[np.ndarray]] = {}
    for meta, _, fields in layers:
        ogr_types = meta.get("ogr_types") or [None] * len(fields)
        for name, ogr_type, values in zip(meta["fields"], ogr_types, fields, strict=True):
            if ogr_type in _SKIPPED_OGR_TYPES:
                continue
            if declared_type in ("KML", "KMZ") and name in _KML_STYLE_FIELDS | _KML_TEXT_FIELDS:
                continue
            columns.setdefault(str(name), []).append(values)
    selectors = []
    for name, parts in columns.items():
        values = np.concatenate(parts)
        if values.dtype.kind in _NUMERIC_KINDS:
            summary = summarise(values)
            if summary is None:
                continue
            selectors.append(
                Selector(
                    selector=name,
                    category="attribute",
                    data_type="numeric",
                    unit=None,
                    minimum=summary.minimum,
                    maximum=summary.maximum,
                    mean=summary.mean,
                    sd=summary.sd,
                    histogram_minimum=summary.minimum,
                    histogram_maximum=summary.maximum,
                    histogram=summary.histogram,
                )
            )
            continue
        distinct = _distinct_values(values, limits.max_initial_values)
        if distinct:
            data_type = "boolean" if values.dtype.kind == "b" else "string"
            selectors.append(
                Selector(
                    selector=name,
                    category="attribute",
                    data_type=data_type,
                    unit=None,
                    minimum=None,
                    maximum=None,
                    mean=None,
                    sd=None,
                    histogram_minimum=None,
                    histogram_maximum=None,
                    histogram=None,
                    initial_values=distinct,
                )
            )
    return tuple(selectors)


def _distinct_values(values: np.ndarray, limit: int) -> list[str] | None:
    """The sorted distinct non-empty values as text, or None when there are none or more than ``limit``."""
    distinct: set[str] = set()
    for value in values:
        if value is None or value == "" or isinstance(value, bytes):
            continue
        distinct.add(str(bool(value)).lower() if isinstance(value, bool | np.bool_) else str(value))
        if len(distinct) > limit:
            return None
    return sorted(distinct) or None
