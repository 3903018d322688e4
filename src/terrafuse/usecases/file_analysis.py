"""The analysis of an uploaded file, as a task on a Dask worker (or any thread).

:func:`run_file_analysis` is what the data use cases submit: a module-level function given a file
id, the token of the run and the settings, never a live connection. It builds the worker's own
runtime, analyses the stored bytes with :func:`terrafuse.analysis.analyse_file` and records the
result, if the run still holds the file. Bad content and crashes alike end as an unpublishable
file with a reason; a heartbeat keeps the run's lease while it works.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terrafuse.core.clock import utcnow
from terrafuse.core.data import DataFile, FileResult, FileState, finite
from terrafuse.errors import NotFound
from terrafuse.storage.base import ObjectStore
from terrafuse.store.data import DataStore

if TYPE_CHECKING:
    from terrafuse.analysis import FileAnalysis
    from terrafuse.config import Settings

log = logging.getLogger(__name__)

_COPY_CHUNK = 1 << 20


def run_file_analysis(file_id: str, token: str, settings: dict[str, Any]) -> str:
    """The worker task: analyse one stored upload and record the result (never raises for bad
    content). Returns ``analysed``, ``skipped`` (another run holds the file) or ``superseded``."""
    from terrafuse.engine.worker import worker_runtime

    rt = worker_runtime(settings)
    return analyse_stored_file(DataStore(rt.db), rt.storage, rt.settings, file_id, token)


def analyse_stored_file(
    store: DataStore,
    storage: ObjectStore,
    settings: Settings,
    file_id: str,
    token: str,
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """Analyse the file if the run holding ``token`` still owns it; see :func:`run_file_analysis`."""
    found = store.file_by_id(file_id)
    if found is None or found.state is not FileState.ANALYSING or found.analysis_token != token:
        return "skipped"
    beat = _Heartbeat(store, file_id, token, settings.job_lease_seconds / 4, clock)
    beat.start()
    try:
        result = _analyse(storage, settings, found)
    finally:
        beat.stop()
    return "analysed" if store.finish_analysis(file_id, token, result, clock()) else "superseded"


def _analyse(storage: ObjectStore, settings: Settings, found: DataFile) -> FileResult:
    from terrafuse.analysis import analyse_file

    size = found.stored_bytes or 0
    try:
        with readable_copy(storage, found.object_key, settings.scratch_dir) as path:
            return result_of(analyse_file(path, found.file_type, found.file_name), found.file_type)
    except (NotFound, FileNotFoundError):
        return FileResult(size=size, publishable=False, error="the uploaded file is missing from storage")
    except Exception:
        log.exception("analysis of file %s (%s) crashed", found.id, found.file_type)
        return FileResult(
            size=size,
            publishable=False,
            error="the file could not be analysed (internal error); the operators have the details",
        )


@contextlib.contextmanager
def readable_copy(storage: ObjectStore, key: str, scratch: Path) -> Iterator[Path]:
    """A local path of the object: the stored file itself, or a scratch copy."""
    local = storage.local_path(key)
    if local is not None:
        if not local.is_file():
            raise NotFound(f"no object {key!r}")
        yield local
        return
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="analysis-", dir=scratch))
    try:
        target = folder / "upload"
        with storage.open(key) as reader, open(target, "wb") as out:
            shutil.copyfileobj(reader, out, _COPY_CHUNK)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def result_of(analysis: FileAnalysis, declared_type: str) -> FileResult:
    """The stored form of an analysis (JSON-safe: non-finite numbers become None)."""
    selectors = tuple(
        finite(
            {
                "selector": s.selector,
                "category": s.category,
                "data_type": s.data_type,
                "unit": s.unit,
                "validation": None,
                "area": s.area,
                "length": s.length,
                "points": s.points,
                "lines": s.lines,
                "polygons": s.polygons,
                "initial_values": list(s.initial_values) if s.initial_values is not None else None,
                "minimum": s.minimum,
                "maximum": s.maximum,
                "mean": s.mean,
                "sd": s.sd,
                "histogram_minimum": s.histogram_minimum,
                "histogram_maximum": s.histogram_maximum,
                "histogram": list(s.histogram) if s.histogram is not None else None,
            }
        )
        for s in analysis.selectors
    )
    bounds = finite(list(analysis.bounds)) if analysis.bounds else None
    return FileResult(
        size=analysis.size,
        publishable=analysis.publishable,
        error=analysis.error,
        detected_type=analysis.file_type if analysis.file_type != declared_type else None,
        crs=analysis.crs,
        bounds=tuple(bounds) if bounds and None not in bounds else None,  # type: ignore[arg-type]
        area=finite(analysis.area),
        length=finite(analysis.length),
        points=analysis.points,
        lines=analysis.lines,
        polygons=analysis.polygons,
        resolution=finite(analysis.resolution),
        selectors=selectors,
        geojson=json.dumps(finite(analysis.geojson)) if analysis.geojson is not None else None,
        columns=analysis.columns,
        rows=analysis.rows,
        valid=analysis.valid,
        notes=analysis.notes,
    )


class _Heartbeat:
    """Keeps an analysis run's lease while it works (analysing a big raster takes a while)."""

    def __init__(
        self, store: DataStore, file_id: str, token: str, every: float, clock: Callable[[], datetime]
    ) -> None:
        self._store, self._file_id, self._token = store, file_id, token
        self._every = max(every, 0.5)
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"analysis-{file_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                if not self._store.heartbeat(self._file_id, self._token, self._clock()):
                    return  # given up for lost, or the file is gone: the result will not count
            except Exception:  # a database hiccup: beat again later
                log.warning("heartbeat of the analysis of %s failed", self._file_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
