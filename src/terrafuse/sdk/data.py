"""Data items and their files: uploads, analysis, downloads, STAC descriptions.

Endpoints (``~`` is ``/organisations/{organisation_id}``): ``~/data/{id}`` (GET, PATCH, DELETE),
``~/data/{id}/copy``, ``~/data/{id}/files``, ``~/data/{id}/download_file/{file_id}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from terrafuse.sdk.errors import AnalysisFailedError, ModelError
from terrafuse.sdk.model import Model, parse_datetime
from terrafuse.sdk.progress import ProgressBar
from terrafuse.sdk.session import Session
from terrafuse.sdk.timing import Deadline, poll_until
from terrafuse.sdk.transfer import Download, Upload, wait_all

__all__ = ["Data", "File"]

STAC_VERSION = "1.0.0"


def data_path(organisation_id: str, data_id: str) -> str:
    """``organisations/{org}/data/{id}``."""
    return f"organisations/{organisation_id}/data/{data_id}"


def _timeout(session: Session, timeout: float | None) -> float:
    return session.options.wait_timeout if timeout is None else timeout


class File(Model):
    """One file of a data item, with the platform's analysis of it.

    Files come from :attr:`Data.files` (``GET ~/data/{data_id}/files``). The analysis fields
    (``size``, ``publishable``, ``error``, ``crs``, ``bounds``, ``selectors``...) appear once the
    platform has analysed the file. ``selectors`` describe its bands or attributes, with
    statistics and a 10-bin ``histogram``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    data_id: str
    file_id: str
    preview_file_id: str | None
    file_type: str
    file_name: str
    resolution: int | None
    crs: str | None
    bounds: list[float] | None
    area: float | None
    length: float | None
    points: int | None
    lines: int | None
    polygons: int | None
    size: int
    error: bool
    publishable: bool
    alternative: str | None
    source: str | None
    selectors: list[dict[str, Any]] | None
    number_of_ingesters: int | None
    ingesters: dict[str, Any] | None
    downloads: int | None
    geojson: str | None
    title: str | None
    description: str | None

    def __init__(self, session: Session, values: dict[str, Any]) -> None:
        super().__init__(session, values)
        object.__setattr__(self, "_download", None)

    @property
    def _path(self) -> str:
        return data_path(self._require("organisation_id"), self._require("data_id"))

    # -- analysis ----------------------------------------------------------------------------
    @property
    def analysed(self) -> bool:
        """Whether the platform has finished its basic analysis of the file."""
        return "size" in self._raw and ("publishable" in self._raw or "error" in self._raw)

    @property
    def failure(self) -> str | None:
        """Why the analysis failed, or None (also while it runs)."""
        if not self.analysed or not self._raw.get("error"):
            return None
        return str(self._raw.get("error_message") or self._raw.get("description") or "unknown reason")

    def extended_analysis_complete(self) -> bool:
        """Whether the extended analysis (the ingesters' reports) is complete."""
        wanted = self._raw.get("number_of_ingesters") or 0
        return len(self._raw.get("ingesters") or {}) >= wanted

    def get(self) -> File:
        """Reload the file (``GET ~/data/{data_id}/files?filter[id__eq]=...``); itself."""
        for values in self._session.pages(f"{self._path}/files", {"filter[id__eq]": self._require("id")}):
            self._load(values)
            return self
        raise ModelError(f"file {self.id} no longer exists")

    # -- downloads ---------------------------------------------------------------------------
    def download_url(self, preview: bool = False) -> str:
        """A signed URL of the file's bytes, valid for an hour
        (``GET ~/data/{data_id}/download_file/{file_id}?preview=``)."""
        _, extras = self._session.model(
            "GET", f"{self._path}/download_file/{self._require('id')}", {"preview": preview}
        )
        url = extras.get("url")
        if not isinstance(url, str) or not url:
            raise ModelError(f"the platform gave no download URL for {self.file_name!r}")
        return url

    def download(
        self,
        path: str | os.PathLike[str] | None = None,
        preview: bool = False,
        wait: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Download the file (or its PNG preview) to ``path`` (default: its name, here).

        Returns at once unless ``wait``: the bytes arrive in a background thread (see
        :meth:`download_complete`). Folders on the way are created. The file appears under
        ``path`` only when complete; until then the bytes go to ``path + ".part"``. A refused
        request (no such file, no preview) raises here, at once.
        """
        current = self._download
        if current is not None and not current.done:
            raise ModelError(f"{self.file_name!r} is already downloading to {current.path}")
        target = os.fspath(path) if path is not None else str(self._require("file_name"))
        url = self.download_url(preview)
        session = self._session
        transfer = Download(session.files, session.options, url, target, lambda: self.download_url(preview))
        object.__setattr__(self, "_download", transfer.open().start())
        if wait:
            self.download_complete(wait=True, timeout=timeout)

    def download_complete(self, wait: bool = False, timeout: float | None = None) -> bool:
        """Whether the download has finished; raises ``TransferError`` if it failed.

        With ``wait``, blocks until it finishes (at most ``timeout`` seconds, default the
        session's ``wait_timeout``; then ``WaitTimeoutError``).
        """
        transfer = self._download
        if transfer is None:
            raise ModelError(f"no download of {self._value('file_name')!r} was started")
        if wait:
            deadline = Deadline(
                self._session.clock, _timeout(self._session, timeout), f"the download of {transfer.path}"
            )
            transfer.wait(deadline)
        if not transfer.done:
            return False
        transfer.raise_error()
        return True

    def download_progress(self) -> tuple[str, str, int]:
        """``(url, path, bytes received so far)`` of the current download."""
        transfer = self._download
        if transfer is None:
            raise ModelError(f"no download of {self._value('file_name')!r} was started")
        return transfer.url, transfer.path, transfer.transferred

    # -- STAC ---------------------------------------------------------------------------------
    def get_stac_item(self) -> tuple[dict[str, Any], str]:
        """A STAC Item (a dict) describing the file, and the file name to write it to.

        Built from the file's analysis: bounds, CRS, resolution, size and the selectors'
        statistics. The asset's ``href`` is the file's name, so the item belongs next to it.
        """
        bounds = self._value("bounds")
        item: dict[str, Any] = {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "id": self._require("id"),
            "geometry": _bbox_polygon(bounds) if bounds else None,
            "properties": {
                "datetime": _iso(self._value("created_at")),
                "title": self._value("title") or self._value("file_name"),
                "description": self._value("description"),
                "terrafuse:file_type": self._value("file_type"),
                "terrafuse:size": self._value("size"),
                "terrafuse:selectors": [dict(s) for s in self._value("selectors") or ()],
            },
            "links": [],
            "assets": {
                "data": {
                    "href": self._value("file_name"),
                    "type": _MEDIA_TYPES.get(self._value("file_type"), "application/octet-stream"),
                    "roles": ["data"],
                }
            },
        }
        if bounds:
            item["bbox"] = list(bounds)
        crs = self._value("crs")
        if crs:
            item["stac_extensions"] = ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"]
            item["properties"]["proj:code"] = crs
        if self._value("resolution"):
            item["properties"]["gsd"] = self._value("resolution")
        return item, f"{self._value('file_name')}.json"


_MEDIA_TYPES = {
    "GeoTIFF": "image/tiff; application=geotiff",
    "DEM": "image/tiff; application=geotiff",
    "JPEG2000": "image/jp2",
    "GeoJSON": "application/geo+json",
    "KML": "application/vnd.google-earth.kml+xml",
    "KMZ": "application/vnd.google-earth.kmz",
    "CSV": "text/csv",
    "ESRI Shapefile": "application/zip",
    "ZIP": "application/zip",
    "GZIP": "application/gzip",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "PDF": "application/pdf",
}


def _bbox_polygon(bounds: Sequence[float]) -> dict[str, Any]:
    west, south, east, north = bounds[:4]
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _iso(value: Any) -> str | None:
    parsed = parse_datetime(value)
    return parsed.isoformat() if parsed else None


class Data(Model):
    """A data item: a named set of files, uploaded or made by an execution.

    Uploaded items come from ``organisation.data``, ``find_data`` or ``create_data``; an
    execution's come from ``component.inputs``/``outputs``. Endpoint: ``~/data/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    name: str
    unlinked: str | None
    unfulfilled: bool | None
    bounds: list[float] | None
    file_with_preview: str | None
    uploaded_organisation_id: str | None
    deletable: bool | None

    def __init__(self, session: Session, values: dict[str, Any], uploads: Sequence[Upload] = ()) -> None:
        super().__init__(session, values)
        object.__setattr__(self, "_uploads", list(uploads))

    @property
    def _path(self) -> str:
        return data_path(self._require("organisation_id"), self._require("id"))

    @property
    def files(self) -> Iterator[File]:
        """The item's files (``GET ~/data/{id}/files``), lazily."""
        session = self._session
        return (File(session, values) for values in session.pages(f"{self._path}/files"))

    def get(self) -> Data:
        """Reload the item (``GET ~/data/{id}``); itself."""
        model, _ = self._session.model("GET", self._path)
        self._load(model)
        return self

    def update(self, **fields: Any) -> Data:
        """Change the item, e.g. ``update(name='Other Region')`` (``PATCH ~/data/{id}``); itself."""
        if not fields:
            raise ModelError("update needs at least one field, e.g. update(name='Other Region')")
        body = {f"Data[{name}]": value for name, value in fields.items()}
        model, _ = self._session.model("PATCH", self._path, body=body)
        self._load(model)
        return self

    def delete(self) -> None:
        """Delete the item and its files (``DELETE ~/data/{id}``); refused while a process uses it."""
        self._session.request("DELETE", self._path)

    def copy(self, name: str) -> Data:
        """A copy of the item and its files under ``name``, kept as if uploaded
        (``POST ~/data/{id}/copy``)."""
        model, _ = self._session.model("POST", f"{self._path}/copy", body={"Data": {"name": name}})
        return Data(self._session, model)

    # -- uploads and analysis ------------------------------------------------------------------
    def upload_progress(self) -> list[tuple[str, int]]:
        """``(path, bytes sent)`` of each upload started by ``create_data``."""
        return [(upload.path, upload.transferred) for upload in self._uploads]

    def create_complete(
        self, wait: bool = False, extended_analysis: bool = False, timeout: float | None = None
    ) -> bool:
        """Whether the uploads and the platform's analysis of every file have finished.

        Raises ``TransferError`` if an upload failed and ``AnalysisFailedError`` if the platform
        could not analyse a file. With ``wait``, blocks until done (at most ``timeout`` seconds,
        default the session's ``wait_timeout``; then ``WaitTimeoutError``). With
        ``extended_analysis``, also waits for the extended analysis.
        """
        session = self._session
        if not wait:
            if not all(upload.done for upload in self._uploads):
                return False
            for upload in self._uploads:
                upload.raise_error()
            return self._analysis_done(extended_analysis)
        deadline = Deadline(
            session.clock, _timeout(session, timeout), f"the files of {self._value('name')!r}"
        )
        wait_all(self._uploads, deadline)
        return self.check_analysis_complete(True, extended_analysis, deadline.remaining())

    def check_analysis_complete(
        self, wait: bool = False, extended_analysis: bool = False, timeout: float | None = None
    ) -> bool:
        """Whether the platform has analysed every file (``GET ~/data/{id}/files``).

        Same errors and waiting as :meth:`create_complete`, without looking at uploads.
        """
        if not wait:
            return self._analysis_done(extended_analysis)
        session = self._session
        deadline = Deadline(
            session.clock, _timeout(session, timeout), f"the analysis of {self._value('name')!r}"
        )
        with ProgressBar(f"analysing {self._value('name')}", None, "file", session.options.progress) as bar:
            counted = [-1]

            def check() -> bool | None:
                files = list(self.files)
                if len(files) != counted[0]:
                    counted[0] = len(files)
                    bar.reset(len(files))
                bar.set(sum(1 for f in files if f.analysed))
                return True if self._analysed(files, extended_analysis) else None

            return poll_until(check, session.clock, deadline, session.options.poll_interval)

    def _analysis_done(self, extended: bool) -> bool:
        return self._analysed(list(self.files), extended)

    def _analysed(self, files: list[File], extended: bool) -> bool:
        if not files:
            return False  # no file has been added yet
        for file in files:
            failure = file.failure
            if failure is not None:
                raise AnalysisFailedError(file.file_name, failure)
        if not all(file.analysed for file in files):
            return False
        return not extended or all(file.extended_analysis_complete() for file in files)

    # -- STAC ---------------------------------------------------------------------------------
    def get_stac_collection(self, items: Sequence[tuple[dict[str, Any], str]]) -> tuple[dict[str, Any], str]:
        """A STAC Collection (a dict) for the item's files, and the file name to write it to.

        ``items`` are the ``(item, file name)`` pairs of :meth:`File.get_stac_item`; the
        collection links them as siblings.
        """
        boxes = [item["bbox"] for item, _ in items if item.get("bbox")]
        bbox = [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ] if boxes else [-180.0, -90.0, 180.0, 90.0]  # fmt: skip
        times = sorted(t for item, _ in items if (t := item["properties"].get("datetime")))
        collection = {
            "type": "Collection",
            "stac_version": STAC_VERSION,
            "id": self._require("id"),
            "title": self._value("name"),
            "description": f"The files of the data item {self._value('name')!r}.",
            "license": "other",
            "extent": {
                "spatial": {"bbox": [bbox]},
                "temporal": {"interval": [[times[0] if times else None, times[-1] if times else None]]},
            },
            "links": [{"rel": "item", "href": f"./{name}", "type": "application/json"} for _, name in items],
        }
        return collection, f"{self._require('id')}.json"
