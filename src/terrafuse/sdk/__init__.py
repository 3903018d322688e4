"""The terrafuse Python SDK: a light client of the platform API (and of any OGC API - Processes).

It needs only httpx, pydantic and tqdm and imports nothing of the server. Start with
:func:`login`; everything else is reached from the user it returns::

    import terrafuse
    user = terrafuse.login(email="me@org.com", password="...", api_url="http://127.0.0.1:8000/api")
    organisation = next(user.organisations)

The object model: :class:`User` -> :class:`Organisation` (with its :class:`Credit`) -> its
:class:`Data` (with their :class:`File` objects), the :class:`Service` catalogue and its
:class:`Process` objects -> their :class:`Execution` objects -> each execution's
:class:`Component` steps -> their :class:`Log` lines. ``terrafuse.sdk.ogc`` is the OGC API client.
"""

from __future__ import annotations

import logging
from pathlib import Path

from terrafuse.sdk import ogc
from terrafuse.sdk.configuration import Dispatcher, Input, Option
from terrafuse.sdk.constants import (
    DATA_TYPE_BOOLEAN,
    DATA_TYPE_CONSTRAINED,
    DATA_TYPE_CURRENCY,
    DATA_TYPE_DATETIME,
    DATA_TYPE_NUMERIC,
    DATA_TYPE_STRING,
    FILE_TYPE_CSV,
    FILE_TYPE_DEM,
    FILE_TYPE_ESRI_SHAPEFILE,
    FILE_TYPE_GEOJSON,
    FILE_TYPE_GEOTIFF,
    FILE_TYPE_GZIP,
    FILE_TYPE_JPEG,
    FILE_TYPE_JPEG2000,
    FILE_TYPE_KML,
    FILE_TYPE_KMZ,
    FILE_TYPE_OTHER,
    FILE_TYPE_PDF,
    FILE_TYPE_PNG,
    FILE_TYPE_ZIP,
    RUN_TYPE_RUN_ONCE,
    RUN_TYPE_RUN_SCHEDULE,
)
from terrafuse.sdk.data import Data, File
from terrafuse.sdk.errors import (
    AnalysisFailedError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ExecutionFailedError,
    InsufficientCreditsError,
    JobFailedError,
    MissingDependencyError,
    ModelError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ReadOnlyAttributeError,
    RequestError,
    SDKError,
    ServerError,
    TransferError,
    TransportError,
    WaitTimeoutError,
)
from terrafuse.sdk.execution import Component, Execution, Log
from terrafuse.sdk.organisation import Credit, Organisation
from terrafuse.sdk.process import Process
from terrafuse.sdk.progress import get_progress, set_progress
from terrafuse.sdk.service import Service
from terrafuse.sdk.session import DEFAULT_API_URL, Session, SessionOptions, json_default
from terrafuse.sdk.timing import RetryPolicy
from terrafuse.sdk.user import User, login

PACKAGE_DIR = str(Path(__file__).resolve().parent)
"""The folder of the installed SDK."""
EXAMPLE_GLASGOW_FILE = str(Path(PACKAGE_DIR) / "examples" / "glasgow.geojson")
"""A GeoJSON region around Glasgow (about 250 km2): small enough to run in one execution."""
EXAMPLE_LAKE_DISTRICT_FILE = str(Path(PACKAGE_DIR) / "examples" / "lake_district.geojson")
"""A GeoJSON region around the Lake District (about 2,500 km2): large enough to run in slices."""

LOGGER_NAME = "terrafuse.sdk"


def get_log_level() -> int:
    """The level of the SDK's logger (``terrafuse.sdk``)."""
    return logging.getLogger(LOGGER_NAME).getEffectiveLevel()


def set_log_level(level: int | str) -> None:
    """Set the level of the SDK's logger, e.g. ``logging.DEBUG`` to see every request."""
    logging.getLogger(LOGGER_NAME).setLevel(level)


__all__ = [
    "DATA_TYPE_BOOLEAN",
    "DATA_TYPE_CONSTRAINED",
    "DATA_TYPE_CURRENCY",
    "DATA_TYPE_DATETIME",
    "DATA_TYPE_NUMERIC",
    "DATA_TYPE_STRING",
    "DEFAULT_API_URL",
    "EXAMPLE_GLASGOW_FILE",
    "EXAMPLE_LAKE_DISTRICT_FILE",
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
    "PACKAGE_DIR",
    "RUN_TYPE_RUN_ONCE",
    "RUN_TYPE_RUN_SCHEDULE",
    "AnalysisFailedError",
    "AuthenticationError",
    "BadRequestError",
    "Component",
    "ConflictError",
    "Credit",
    "Data",
    "Dispatcher",
    "Execution",
    "ExecutionFailedError",
    "File",
    "Input",
    "InsufficientCreditsError",
    "JobFailedError",
    "Log",
    "MissingDependencyError",
    "ModelError",
    "NotFoundError",
    "Option",
    "Organisation",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Process",
    "RateLimitedError",
    "ReadOnlyAttributeError",
    "RequestError",
    "RetryPolicy",
    "SDKError",
    "ServerError",
    "Service",
    "Session",
    "SessionOptions",
    "TransferError",
    "TransportError",
    "User",
    "WaitTimeoutError",
    "get_log_level",
    "get_progress",
    "json_default",
    "login",
    "ogc",
    "set_log_level",
    "set_progress",
]
