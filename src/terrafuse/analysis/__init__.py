"""Analysis of uploaded files: what a file really is, whether it can be used, and its metadata.

A pure library (no HTTP, no database): ``analyse_file`` looks at the magic bytes first, refuses
content that is not what was declared, vets zip archives from their central directory, and only then
hands the file to the raster (rasterio), vector (pyogrio) or CSV analyser. Bad content never raises:
it comes back as ``publishable=False`` with a user-readable ``error``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from terrafuse.analysis import archives, detect
from terrafuse.analysis.model import (
    FILE_TYPES,
    RASTER_TYPES,
    VECTOR_TYPES,
    AnalysisLimits,
    ContentError,
    FileAnalysis,
    Selector,
    failed,
    size_only,
)

__all__ = ["FILE_TYPES", "AnalysisLimits", "FileAnalysis", "Selector", "analyse_file"]

logger = logging.getLogger(__name__)

# Bugs in this package, not bad content: let them surface.
_PROGRAMMER_ERRORS = (AttributeError, NameError, ImportError, AssertionError, TypeError)
_TEMP_PATH = re.compile(r"(/vsizip/)?\S*terrafuse-analysis-[^/\s]+/upload\.\w+(/[^\s)]*)?")
_ZIP_WITHOUT = {
    "KMZ": "a ZIP archive without a .kml file",
    "ESRI Shapefile": "a ZIP archive without a .shp file",
}


def analyse_file(
    path: Path, declared_type: str, original_name: str, limits: AnalysisLimits = AnalysisLimits()
) -> FileAnalysis:
    """Analyse one uploaded file declared as ``declared_type`` (one of ``FILE_TYPES``).

    ``original_name`` is the name the user uploaded it under; it replaces server paths in error
    messages. Never raises for bad content: returns ``publishable=False`` with ``error`` set. Raises
    ValueError for an unknown declared type and OSError when ``path`` cannot be read.
    """
    if declared_type not in FILE_TYPES:
        raise ValueError(f"unknown file type {declared_type!r}; expected one of {FILE_TYPES}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    size = path.stat().st_size
    if size == 0:
        return failed(declared_type, 0, "the file is empty")
    try:
        return _analyse(path, declared_type, size, limits)
    except ContentError as exc:
        return failed(declared_type, size, _user_safe(str(exc), path, original_name))
    except _PROGRAMMER_ERRORS:
        raise
    except Exception as exc:
        # Parsers and GDAL raise many kinds of errors on hostile input; none may escape as a crash.
        logger.warning("analysis of %s (%s) failed", original_name, declared_type, exc_info=True)
        message = _user_safe(str(exc), path, original_name)
        return failed(declared_type, size, f"the file could not be analysed ({message})")


def _analyse(path: Path, declared_type: str, size: int, limits: AnalysisLimits) -> FileAnalysis:
    if declared_type == "Other":
        return size_only("Other", size)
    label = detect.sniff(detect.read_head(path))
    if label not in detect.ACCEPTED[declared_type]:
        return failed(
            detect.file_type_of(label) or declared_type, size, detect.mismatch(declared_type, label)
        )

    members: tuple[archives.ZipMember, ...] = ()
    if label == detect.ZIP:
        members = archives.inspect_zip(path, limits)
        kind = archives.content_kind(members)
        if declared_type in _ZIP_WITHOUT and kind != declared_type:
            described = _ZIP_WITHOUT[declared_type] if kind == "ZIP" else kind
            return failed(kind, size, f"declared {declared_type} but the content is {described}")

    if declared_type in RASTER_TYPES:
        from terrafuse.analysis.raster import analyse_raster

        return analyse_raster(path, declared_type, size, limits)
    if declared_type in VECTOR_TYPES:
        from terrafuse.analysis.vector import analyse_vector

        return analyse_vector(path, declared_type, size, limits, members)
    if declared_type == "CSV":
        from terrafuse.analysis.tabular import analyse_csv

        return analyse_csv(path, size, limits)
    # PNG, JPEG, PDF, GZIP, ZIP: the magic bytes (and the zip's central directory) are all we check.
    return size_only(declared_type, size)


def _user_safe(message: str, path: Path, original_name: str) -> str:
    """The message with server-side paths replaced by the name the user knows the file by."""
    message = _TEMP_PATH.sub(original_name, message)
    for server_path in {str(path.resolve()), str(path)}:
        message = message.replace(server_path, original_name)
    return message
