"""The worker side: ``run_execution(execution_id, settings)`` is what Dask runs.

A worker builds its own runtime from settings (cached per process) — never a live session or
closure from the server. Parallel units of one execution (``RunContext.map``) become Dask tasks
too; their progress goes through the ``execution_tasks`` table and is combined by the parent.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from terrafuse.core.executions import Execution, ExecutionStatus
from terrafuse.engine.components import ExecutionComponents, group_members, input_data_ids
from terrafuse.engine.inline import output_key
from terrafuse.engine.runner import Heartbeat, Runtime, run_claimed
from terrafuse.errors import ExecutionCancelled
from terrafuse.services.base import ComponentContext, GroupMember
from terrafuse.storage.base import ObjectStore

T = TypeVar("T")
R = TypeVar("R")

# A worker normally serves one deployment (one settings); a few are kept for workers shared by
# several (tests), the least recently used one is closed beyond that.
_RUNTIMES: OrderedDict[str, Runtime] = OrderedDict()
_RUNTIMES_LOCK = threading.Lock()
_MAX_RUNTIMES = 4
# How often units write their progress and look for a dismissal.
_UNIT_REPORT_SECONDS = 0.5


def worker_runtime(settings: dict[str, Any]) -> Runtime:
    """The runtime for these settings, built once per process."""
    key = json.dumps(settings, sort_keys=True)
    with _RUNTIMES_LOCK:
        rt = _RUNTIMES.get(key)
        if rt is not None:
            _RUNTIMES.move_to_end(key)
        else:
            from terrafuse.bootstrap import build_runtime  # composition root, imported lazily
            from terrafuse.config import Settings

            # The server migrated the schema before dispatching anything.
            rt = _RUNTIMES[key] = build_runtime(Settings.model_validate(settings), migrate=False)
            while len(_RUNTIMES) > _MAX_RUNTIMES:
                _, old = _RUNTIMES.popitem(last=False)
                old.db.dispose()
        return rt


def prepare_worker(settings: dict[str, Any]) -> bool:
    """Build this worker's runtime ahead of the first job (imports, database connection).

    Without it the first job on each worker pays about a second of imports.
    """
    worker_runtime(settings)
    return True


def run_execution(execution_id: str, settings: dict[str, Any]) -> str:
    """Claim and run one execution; returns its final status (or ``skipped``).

    Safe to call more than once for the same id: only the caller that wins the claim runs it.
    """
    rt = worker_runtime(settings)
    if _waits_for_group(rt, execution_id):
        return "waiting"  # the last slice of its group to end runs it
    execution = rt.executions.claim(execution_id)
    if execution is None:
        return "skipped"

    def make_context(ex: Execution, heartbeat: Heartbeat) -> ClusterRunContext:
        return ClusterRunContext(ex, settings, rt, heartbeat)

    status = run_claimed(rt, execution, make_context).value
    due = rt.ended(execution.id)
    if due is not None:
        run_execution(due, settings)  # the group's aggregator, now that every slice has ended
    return status


def _waits_for_group(rt: Runtime, execution_id: str) -> bool:
    """Whether this is an aggregator whose group still has slices to run."""
    from terrafuse.store.processes import group_execution_ids

    execution = rt.executions.get(execution_id)
    if execution is None or not execution.aggregator or execution.group_id is None:
        return False
    for member_id in group_execution_ids(rt.db, execution.group_id):
        member = rt.executions.get(member_id)
        if member is not None and not member.aggregator and not member.status.finished:
            return True
    return False


class _WorkerContext:
    """What both worker contexts share: storage, logs, scratch and output keys."""

    execution_id: str
    _scratch: Path | None

    @property
    def _rt(self) -> Runtime:
        raise NotImplementedError

    def _scratch_prefix(self) -> str:
        return f"{self.execution_id}-"

    @property
    def storage(self) -> ObjectStore:
        """The object store."""
        return self._rt.storage

    @property
    def catalog_url(self) -> str:
        """The STAC catalog services search for imagery."""
        return self._rt.settings.resolved_stac_catalog

    def log(self, message: str) -> None:
        """Append a log line to the execution."""
        self._rt.executions.add_log(self.execution_id, message)

    def scratch_dir(self) -> Path:
        """A private scratch folder on this worker, removed by ``close``."""
        if self._scratch is None:
            root = self._rt.settings.scratch_dir
            root.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix=self._scratch_prefix(), dir=root))
        return self._scratch

    def output_key(self, *parts: str) -> str:
        """``<execution>/<execution>/<parts...>``."""
        return output_key(self.execution_id, *parts)

    def close(self) -> None:
        """Remove the scratch folder."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


@dataclass
class UnitContext(_WorkerContext):
    """The picklable context of one parallel unit (a :class:`TaskContext`)."""

    execution_id: str
    settings: dict[str, Any]
    index: int

    def __post_init__(self) -> None:
        self._last_report = 0.0
        self._last_check = 0.0
        self._scratch: Path | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"execution_id": self.execution_id, "settings": self.settings, "index": self.index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @property
    def _rt(self) -> Runtime:
        return worker_runtime(self.settings)

    def _scratch_prefix(self) -> str:
        return f"{self.execution_id}-{self.index}-"

    def check_cancelled(self) -> None:
        """Raise if the execution is no longer running (dismissed or settled elsewhere).

        Looks at the database at most every half second: units call this once per block.
        """
        now = time.monotonic()
        if now - self._last_check < _UNIT_REPORT_SECONDS:
            return
        self._last_check = now
        if self._rt.executions.status(self.execution_id) is not ExecutionStatus.RUNNING:
            raise ExecutionCancelled(f"execution {self.execution_id} was dismissed")

    def progress(self, fraction: float) -> None:
        """Record this unit's progress (throttled) and check for dismissal."""
        now = time.monotonic()
        if now - self._last_report < _UNIT_REPORT_SECONDS and fraction < 1.0:
            return
        self._last_report = now
        self.check_cancelled()
        self._rt.executions.set_task_progress(self.execution_id, self.index, min(max(fraction, 0.0), 1.0))


def run_unit(fn: Callable[[UnitContext, T], R], ctx: UnitContext, item: T) -> R:
    """Dask task wrapper of one unit: runs it and always cleans its scratch."""
    try:
        return fn(ctx, item)
    finally:
        ctx.close()


class ClusterRunContext(_WorkerContext):
    """The :class:`RunContext` of an execution running on a Dask worker."""

    def __init__(
        self, execution: Execution, settings: dict[str, Any], rt: Runtime, heartbeat: Heartbeat
    ) -> None:
        self.execution_id = execution.id
        self._execution = execution
        self._settings = settings
        self._runtime = rt
        self._heartbeat = heartbeat
        self._scratch: Path | None = None
        self._components = ExecutionComponents(rt, execution, self.progress)

    def component(self, name: str, share: float) -> AbstractContextManager[ComponentContext]:
        """Record one component of the chain (see ``RunContext.component``)."""
        return self._components.component(name, share)

    @property
    def input_data_ids(self) -> tuple[str, ...]:
        """Data items bound to the process's file inputs."""
        return input_data_ids(self._rt, self._execution)

    def group_members(self) -> list[GroupMember]:
        """The slice executions of this execution's group."""
        return group_members(self._rt, self._execution)

    @property
    def _rt(self) -> Runtime:
        return self._runtime

    def check_cancelled(self) -> None:
        """Raise once the heartbeat saw that the execution was dismissed."""
        if self._heartbeat.cancelled.is_set():
            raise ExecutionCancelled(f"execution {self.execution_id} was dismissed")

    def progress(self, fraction: float) -> None:
        """Report overall progress (flushed by the heartbeat)."""
        self.check_cancelled()
        self._heartbeat.set_progress(fraction)

    def map(self, fn: Callable[[UnitContext, T], R], items: Sequence[T]) -> list[R]:
        """Run the units as Dask tasks (seceding from this worker's thread pool while waiting)."""
        from distributed import get_worker, wait, worker_client

        try:
            get_worker()
        except ValueError:  # not inside a Dask worker (e.g. a direct call): run here, in order
            return [
                run_unit(fn, UnitContext(self.execution_id, self._settings, i), it)
                for i, it in enumerate(items)
            ]

        n = max(len(items), 1)
        with worker_client() as client:
            futures = [
                client.submit(
                    run_unit,
                    fn,
                    UnitContext(self.execution_id, self._settings, i),
                    item,
                    key=f"unit-{self.execution_id}-{i}-{time.monotonic_ns()}",
                    pure=False,
                )
                for i, item in enumerate(items)
            ]
            try:
                while True:
                    for future in futures:
                        if future.status == "error":
                            future.result()  # raises the unit's exception (the first failure wins)
                    pending = [f for f in futures if not f.done()]
                    parts = self._rt.executions.task_progress(self.execution_id)
                    running = sum(p for i, p in parts.items() if not futures[i].done())
                    self.progress((len(futures) - len(pending) + running) / n)
                    if not pending:
                        return [f.result() for f in futures]
                    with contextlib.suppress(TimeoutError):
                        wait(pending, timeout=_UNIT_REPORT_SECONDS, return_when="FIRST_COMPLETED")
            finally:
                client.cancel([f for f in futures if not f.done()])
