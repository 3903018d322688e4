"""The platform's names for file types, option data types and run types (wire values)."""

from __future__ import annotations

__all__ = [
    "DATA_TYPES",
    "DATA_TYPE_BOOLEAN",
    "DATA_TYPE_CONSTRAINED",
    "DATA_TYPE_CURRENCY",
    "DATA_TYPE_DATETIME",
    "DATA_TYPE_NUMERIC",
    "DATA_TYPE_STRING",
    "FILE_TYPES",
    "FILE_TYPE_CSV",
    "FILE_TYPE_DEM",
    "FILE_TYPE_ESRI_SHAPEFILE",
    "FILE_TYPE_GEOJSON",
    "FILE_TYPE_GEOTIFF",
    "FILE_TYPE_GZIP",
    "FILE_TYPE_JPEG",
    "FILE_TYPE_JPEG2000",
    "FILE_TYPE_KML",
    "FILE_TYPE_KMZ",
    "FILE_TYPE_OTHER",
    "FILE_TYPE_PDF",
    "FILE_TYPE_PNG",
    "FILE_TYPE_ZIP",
    "RUN_TYPES",
    "RUN_TYPE_RUN_ONCE",
    "RUN_TYPE_RUN_SCHEDULE",
    "compatible_file_types",
]

# -- file types (a Data item's files, a process input's expected type) -----------------------
FILE_TYPE_GEOTIFF = "GeoTIFF"
FILE_TYPE_JPEG2000 = "JPEG2000"
FILE_TYPE_DEM = "DEM"
FILE_TYPE_GEOJSON = "GeoJSON"
FILE_TYPE_KML = "KML"
FILE_TYPE_KMZ = "KMZ"
FILE_TYPE_CSV = "CSV"
FILE_TYPE_ESRI_SHAPEFILE = "ESRI Shapefile"
"""A zip of a shapefile's parts, with no folders inside."""
FILE_TYPE_JPEG = "JPEG"
FILE_TYPE_PNG = "PNG"
FILE_TYPE_PDF = "PDF"
FILE_TYPE_GZIP = "GZIP"
FILE_TYPE_ZIP = "ZIP"
FILE_TYPE_OTHER = "Other"
FILE_TYPES = (
    FILE_TYPE_GEOTIFF,
    FILE_TYPE_JPEG2000,
    FILE_TYPE_DEM,
    FILE_TYPE_GEOJSON,
    FILE_TYPE_KML,
    FILE_TYPE_KMZ,
    FILE_TYPE_CSV,
    FILE_TYPE_ESRI_SHAPEFILE,
    FILE_TYPE_JPEG,
    FILE_TYPE_PNG,
    FILE_TYPE_PDF,
    FILE_TYPE_GZIP,
    FILE_TYPE_ZIP,
    FILE_TYPE_OTHER,
)

# -- option data types -------------------------------------------------------------------------
DATA_TYPE_NUMERIC = "numeric"
DATA_TYPE_CURRENCY = "currency"
DATA_TYPE_BOOLEAN = "boolean"
DATA_TYPE_DATETIME = "datetime"
DATA_TYPE_STRING = "string"
DATA_TYPE_CONSTRAINED = "constrained"
DATA_TYPES = (
    DATA_TYPE_NUMERIC,
    DATA_TYPE_CURRENCY,
    DATA_TYPE_BOOLEAN,
    DATA_TYPE_DATETIME,
    DATA_TYPE_STRING,
    DATA_TYPE_CONSTRAINED,
)

# -- run types of a process's schedule ---------------------------------------------------------
RUN_TYPE_RUN_ONCE = "run_once"
RUN_TYPE_RUN_SCHEDULE = "run_schedule"
RUN_TYPES = (RUN_TYPE_RUN_ONCE, RUN_TYPE_RUN_SCHEDULE)

_RASTERS = frozenset({FILE_TYPE_GEOTIFF, FILE_TYPE_DEM, FILE_TYPE_JPEG2000})
_VECTORS = frozenset({FILE_TYPE_GEOJSON, FILE_TYPE_KML, FILE_TYPE_KMZ, FILE_TYPE_ESRI_SHAPEFILE})


def compatible_file_types(input_type: str) -> frozenset[str]:
    """The file types a process input of ``input_type`` accepts.

    A raster input takes any raster type and a vector input any vector type (the platform
    converts them); other inputs take exactly their own type.
    """
    for family in (_RASTERS, _VECTORS):
        if input_type in family:
            return family
    return frozenset({input_type})
