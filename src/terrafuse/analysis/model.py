"""The results of analysing an uploaded file, and the limits that keep analysis bounded."""

from __future__ import annotations

from dataclasses import dataclass, field

# The Fusion FILE_TYPE_* values: one list, owned by the domain.
from terrafuse.core.data import FILE_TYPES as FILE_TYPES

"""The Fusion ``FILE_TYPE_*`` values, in the SDK's order."""

RASTER_TYPES = frozenset({"GeoTIFF", "DEM", "JPEG2000"})
VECTOR_TYPES = frozenset({"GeoJSON", "KML", "KMZ", "ESRI Shapefile"})


@dataclass(frozen=True)
class AnalysisLimits:
    """Bounds on the work and memory one analysis may use.

    The zip limits are checked against the central directory before anything is decompressed.
    """

    max_uncompressed_bytes: int = 1 << 30
    """Largest total uncompressed size of a zip's members."""
    max_compression_ratio: float = 100.0
    """Largest uncompressed/compressed ratio of a member (or of the whole zip)."""
    ratio_check_min_bytes: int = 1 << 20
    """Members smaller than this are not ratio-checked: tiny files legitimately compress very well."""
    max_zip_members: int = 1000
    """Most members a zip may list."""
    max_vector_features: int = 250_000
    """Most features a vector file may hold."""
    max_raster_pixels: int = 4_000_000
    """Most pixels per band read for statistics; bigger rasters are read decimated (overviews if present)."""
    max_geojson_bytes: int = 100_000
    """Largest serialized WGS84 GeoJSON returned in ``FileAnalysis.geojson``."""
    max_initial_values: int = 20
    """A text attribute with at most this many distinct values gets them listed as ``initial_values``."""


@dataclass(frozen=True)
class Selector:
    """Summary of one raster band or one vector attribute (a Fusion file *selector*).

    ``histogram`` has 10 equal bins between ``histogram_minimum`` and ``histogram_maximum``; the last
    bin includes the maximum, so a raster of classes 0..3 fills bins 0, 3, 6 and 9.
    """

    selector: str
    category: str
    data_type: str
    unit: str | None
    minimum: float | None
    maximum: float | None
    mean: float | None
    sd: float | None
    histogram_minimum: float | None
    histogram_maximum: float | None
    histogram: list[int] | None
    area: float | None = None
    length: float | None = None
    points: int | None = None
    lines: int | None = None
    polygons: int | None = None
    initial_values: list[str] | None = None


@dataclass(frozen=True)
class FileAnalysis:
    """What analysis found out about one uploaded file.

    Counts: a multi-geometry counts each of its parts (a MultiPolygon of 3 parts adds 3 to
    ``polygons``); geometry collections are flattened the same way. ``notes`` carries user-readable
    remarks that do not stop publication (assumed CRS, approximate statistics, invalid geometries).
    """

    file_type: str
    size: int
    publishable: bool
    error: str | None
    crs: str | None
    bounds: tuple[float, float, float, float] | None
    area: float | None
    length: float | None
    points: int | None
    lines: int | None
    polygons: int | None
    resolution: float | None
    selectors: tuple[Selector, ...]
    columns: tuple[str, ...] | None
    rows: int | None
    geojson: dict | None
    valid: bool | None
    notes: tuple[str, ...] = field(default=())


def failed(file_type: str, size: int, error: str, *, crs: str | None = None) -> FileAnalysis:
    """An analysis of a file that cannot be used, with the reason."""
    return FileAnalysis(
        file_type=file_type,
        size=size,
        publishable=False,
        error=error,
        crs=crs,
        bounds=None,
        area=None,
        length=None,
        points=None,
        lines=None,
        polygons=None,
        resolution=None,
        selectors=(),
        columns=None,
        rows=None,
        geojson=None,
        valid=None,
    )


def size_only(file_type: str, size: int) -> FileAnalysis:
    """An analysis of a publishable file whose content is not examined beyond its type."""
    return FileAnalysis(
        file_type=file_type,
        size=size,
        publishable=True,
        error=None,
        crs=None,
        bounds=None,
        area=None,
        length=None,
        points=None,
        lines=None,
        polygons=None,
        resolution=None,
        selectors=(),
        columns=None,
        rows=None,
        geojson=None,
        valid=None,
    )


class ContentError(Exception):
    """Bad content found by an analyser; the message is user-readable and becomes ``error``."""
