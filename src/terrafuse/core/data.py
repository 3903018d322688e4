"""Data items and their files: names, types, object keys, the upload/analysis life cycle. No I/O.

A data item is a named set of files owned by one organisation (uploads now; component inputs and
outputs later). A file goes through three states:

``awaiting_upload``
    ``add_file`` created it and handed out a signed PUT URL; no bytes are stored yet (a failed
    or oversized PUT leaves it here).
``analysing``
    the bytes are stored and one analysis task holds the file's ``analysis_token``. Only the
    holder of the current token may record a result, so a task that lost its lease (its worker or
    server died) and was started again cannot overwrite the newer run.
``analysed``
    the result is recorded: ``publishable`` and, when the file cannot be used, ``error``.
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from terrafuse.errors import InvalidInput

FILE_TYPES: tuple[str, ...] = (
    "GeoTIFF",
    "JPEG2000",
    "DEM",
    "GeoJSON",
    "KML",
    "KMZ",
    "CSV",
    "ESRI Shapefile",
    "JPEG",
    "PNG",
    "Other",
    "PDF",
    "GZIP",
    "ZIP",
)
"""The Fusion ``FILE_TYPE_*`` values (``terrafuse.analysis`` uses this same tuple)."""

MAX_NAME_LENGTH = 200
MAX_FILE_NAME_LENGTH = 255
MAX_FILES_PER_DATA = 1000
UPLOAD_URL_TTL = 3600
"""Seconds a signed PUT URL stays valid: the upload must *start* within this time."""
DOWNLOAD_URL_TTL = 3600
"""Seconds a signed GET URL stays valid (the SDK documents "up to 1 hour")."""
MAX_ANALYSIS_ATTEMPTS = 3
"""Analysis runs started for one upload before a file whose runs keep getting lost is failed."""
ANALYSIS_LOST = (
    "the analysis of this file did not finish after {n} attempts (the server or its workers were "
    "restarted); delete the data item and upload the file again"
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class FileState(enum.StrEnum):
    """Where a file is in its life cycle (see the module notes)."""

    AWAITING_UPLOAD = "awaiting_upload"
    ANALYSING = "analysing"
    ANALYSED = "analysed"


@dataclass(frozen=True)
class FileResult:
    """What analysis recorded about a file (a stored, JSON-safe form of ``FileAnalysis``).

    ``selectors`` are plain dicts with the keys of the Fusion selector record; non-finite numbers
    are already replaced by None.
    """

    size: int
    publishable: bool
    error: str | None = None
    detected_type: str | None = None
    crs: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    area: float | None = None
    length: float | None = None
    points: int | None = None
    lines: int | None = None
    polygons: int | None = None
    resolution: float | None = None
    selectors: tuple[dict[str, Any], ...] = ()
    geojson: str | None = None
    columns: tuple[str, ...] | None = None
    rows: int | None = None
    valid: bool | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataFile:
    """One file of a data item; ``result`` is set once the file is analysed."""

    id: str
    data_id: str
    organisation_id: str
    file_name: str
    file_type: str
    object_key: str
    state: FileState
    created_at: datetime
    updated_at: datetime
    stored_bytes: int | None = None
    downloads: int = 0
    analysis_token: str | None = None
    analysis_heartbeat_at: datetime | None = None
    analysis_attempts: int = 0
    result: FileResult | None = None


@dataclass(frozen=True)
class Data:
    """A named set of files owned by an organisation.

    ``bounds`` is the union of its analysed files' WGS84 bounds (None when none has bounds);
    ``uploaded`` is False for items the platform creates (component outputs).
    """

    id: str
    organisation_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    uploaded: bool = True
    bounds: tuple[float, float, float, float] | None = None
    files: tuple[DataFile, ...] = field(default=())


# -- validation -----------------------------------------------------------------------------------
def check_data_name(name: Any) -> str:
    """A data item's name: text, 1-200 characters after trimming, no control characters."""
    if not isinstance(name, str):
        raise InvalidInput("the data item's name must be text")
    name = name.strip()
    if not name:
        raise InvalidInput("the data item needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"the data item's name is longer than {MAX_NAME_LENGTH} characters")
    if _CONTROL.search(name):
        raise InvalidInput("the data item's name contains control characters")
    return name


def check_data_id(value: Any) -> str:
    """A client-chosen data id: a UUID, returned in canonical (lower-case, hyphenated) form."""
    if not isinstance(value, str):
        raise InvalidInput("the data item's id must be a UUID")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidInput(f"the data item's id {value!r} is not a UUID") from None


def check_file_name(name: Any) -> str:
    """The name a file was uploaded under: the last path component only (clients may send paths)."""
    if not isinstance(name, str):
        raise InvalidInput("the file's name must be text")
    base = re.split(r"[\\/]", name.strip())[-1].strip()
    if not base or base in (".", ".."):
        raise InvalidInput("the file needs a name")
    if len(base) > MAX_FILE_NAME_LENGTH:
        raise InvalidInput(f"the file's name is longer than {MAX_FILE_NAME_LENGTH} characters")
    if _CONTROL.search(base):
        raise InvalidInput("the file's name contains control characters")
    return base


def check_file_type(file_type: Any) -> str:
    """One of :data:`FILE_TYPES` (exact spelling, as the SDK's ``FILE_TYPE_*`` constants)."""
    if file_type not in FILE_TYPES:
        raise InvalidInput(f"unknown file type {file_type!r}; use one of: {', '.join(FILE_TYPES)}")
    return str(file_type)


# -- object keys ----------------------------------------------------------------------------------
def organisation_prefix(organisation_id: str) -> str:
    """The object-key prefix of every data item an organisation stores."""
    return f"data/{organisation_id}/"


def data_prefix(organisation_id: str, data_id: str) -> str:
    """The object-key prefix of everything stored for a data item."""
    return f"{organisation_prefix(organisation_id)}{data_id}/"


def file_key(organisation_id: str, data_id: str, file_id: str, file_name: str) -> str:
    """The object key of a file: ``data/<org>/<data>/<file>/<safe name>``.

    The name only makes keys readable (and gives served objects a media type): the ids make the
    key unique, so unsafe characters are simply replaced.
    """
    safe = _UNSAFE_KEY_CHARS.sub("_", file_name).strip("._") or "file"
    if len(safe) > 120:  # keep the suffix: it gives the served object its media type
        stem, dot, suffix = safe.rpartition(".")
        safe = f"{stem[:100]}.{suffix[:19]}" if dot and stem else safe[:120]
    return f"{data_prefix(organisation_id, data_id)}{file_id}/{safe}"


_KEY = re.compile(r"^data/([0-9a-f-]{36})/([0-9a-f-]{36})/([0-9a-f-]{36})/[^/]+$")


def parse_file_key(key: str) -> tuple[str, str, str] | None:
    """(organisation, data, file) ids of a file's object key, or None for any other key."""
    match = _KEY.match(key)
    return (match.group(1), match.group(2), match.group(3)) if match else None


# -- analysis -------------------------------------------------------------------------------------
def analysis_is_stale(file: DataFile, now: datetime, lease: timedelta) -> bool:
    """Whether an ``analysing`` file's task stopped reporting (its worker or server is gone)."""
    if file.state is not FileState.ANALYSING:
        return False
    return file.analysis_heartbeat_at is None or file.analysis_heartbeat_at < now - lease


def finite(value: Any) -> Any:
    """``value`` with non-finite floats (NaN, infinities) replaced by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def union_bounds(
    boxes: list[tuple[float, float, float, float]],
) -> tuple[float, float, float, float] | None:
    """The box holding every (west, south, east, north) box; None for none."""
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
