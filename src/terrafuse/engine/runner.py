"""Running one claimed execution: the part shared by workers and inline runs.

The runner owns the execution's lifecycle after the claim: a heartbeat thread that keeps the
lease fresh, flushes progress and notices dismissal; the service's run; recording outputs or a
user-readable failure; removing partial outputs; and telling the notifier.
"""

from __future__ import annotations

import functools
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terrafuse.config import Settings
from terrafuse.core.executions import Execution, ExecutionStatus
from terrafuse.engine.base import Notifier
from terrafuse.errors import ExecutionCancelled, TerrafuseError
from terrafuse.services.registry import ServiceRegistry
from terrafuse.storage.base import ObjectStore
from terrafuse.store.components import Components
from terrafuse.store.credits import Credits
from terrafuse.store.data import DataStore
from terrafuse.store.db import Database
from terrafuse.store.executions import Executions
from terrafuse.store.organisations import Organisations
from terrafuse.store.processes import Processes

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What running executions needs: built from settings by ``terrafuse.bootstrap``."""

    settings: Settings
    db: Database
    executions: Executions
    organisations: Organisations
    storage: ObjectStore
    registry: ServiceRegistry
    credits: Credits
    notifier: Notifier | None = None
    # Called with an execution's id once it has ended (settles credits, chains the group's
    # aggregator, notifies); returns the id of an execution now due to run here, if any.
    after_end: Callable[[str], str | None] | None = None

    def ended(self, execution_id: str) -> str | None:
        """Run the ``after_end`` hook; its failures are logged, never raised."""
        if self.after_end is None:
            return None
        try:
            return self.after_end(execution_id)
        except Exception:
            log.exception("after-end steps of execution %s failed", execution_id)
            return None

    @functools.cached_property
    def components(self) -> Components:
        """The components repository."""
        return Components(self.db)

    @functools.cached_property
    def processes(self) -> Processes:
        """The process repository."""
        return Processes(self.db)

    @functools.cached_property
    def data_store(self) -> DataStore:
        """The data repository (component outputs are data items)."""
        return DataStore(self.db)

    def notify(self, execution: Execution) -> None:
        """Tell the notifier; its failures never break the run."""
        if self.notifier is None:
            return
        try:
            self.notifier.execution_changed(execution)
        except Exception:  # a bad callback URL must not fail the execution
            log.exception("notification for execution %s failed", execution.id)


class Heartbeat:
    """Keeps a running execution's lease fresh, flushes progress, and watches for dismissal."""

    def __init__(self, executions: Executions, execution_id: str, lease_seconds: float) -> None:
        self._executions = executions
        self._id = execution_id
        self._flush_every = 0.5
        self._beat_every = max(lease_seconds / 4, self._flush_every)
        self._progress: int = 0
        self._flushed: int = 0
        self._stop = threading.Event()
        self.cancelled = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{execution_id[:8]}", daemon=True)

    def start(self) -> Heartbeat:
        """Start the background thread."""
        self._thread.start()
        return self

    def set_progress(self, fraction: float) -> None:
        """Remember the newest progress (written at the next flush)."""
        # Never show 100 before the outputs are recorded: finish() sets it.
        self._progress = max(self._progress, min(int(fraction * 100), 99))

    def _loop(self) -> None:
        waited = 0.0
        while not self._stop.wait(self._flush_every):
            waited += self._flush_every
            if self._progress == self._flushed and waited < self._beat_every:
                continue
            waited = 0.0
            progress = self._progress
            try:
                alive = self._executions.heartbeat(self._id, progress=progress)
            except Exception:  # database hiccup: try again at the next beat
                log.warning("heartbeat of %s failed", self._id, exc_info=True)
                continue
            self._flushed = progress
            if not alive:
                self.cancelled.set()
                return

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout=5)


ContextFactory = Callable[[Execution, Heartbeat], Any]


def discard_outputs(rt: Runtime, execution_id: str) -> None:
    """Delete what an execution wrote: its output data items and its files (results, logs)."""
    from terrafuse.core.data import data_prefix

    for data in rt.data_store.of_execution(execution_id):
        rt.data_store.delete(data.organisation_id, data.id)
        rt.storage.delete_prefix(data_prefix(data.organisation_id, data.id))
    rt.storage.delete_prefix(f"{execution_id}/")


def run_claimed(rt: Runtime, execution: Execution, make_context: ContextFactory) -> ExecutionStatus:
    """Run an execution this process has claimed (status ``running``) to its end.

    Returns the final status. Never raises for failures of the service itself.
    """
    rt.notify(execution)
    if execution.attempts > 1:
        # A lost worker's attempt may have recorded components and outputs: this run starts clean.
        rt.components.discard_of_execution(execution.id)
        discard_outputs(rt, execution.id)
    heartbeat = Heartbeat(rt.executions, execution.id, rt.settings.job_lease_seconds).start()
    ctx = make_context(execution, heartbeat)
    status = ExecutionStatus.FAILED
    try:
        service = rt.registry.resolve(execution.service_id)
        outputs = service.run(ctx, dict(execution.inputs))
        ctx.check_cancelled()
        status = ExecutionStatus.SUCCESSFUL
        if not rt.executions.finish(execution.id, status, outputs=outputs):
            status = ExecutionStatus.DISMISSED
    except ExecutionCancelled:
        status = ExecutionStatus.DISMISSED
    except TerrafuseError as exc:
        rt.executions.finish(execution.id, ExecutionStatus.FAILED, message=exc.detail, error_code=exc.code)
    except Exception as exc:
        if rt.executions.status(execution.id) is None:
            # Deleted while it ran (its process was deleted): what it wrote has nowhere to go.
            log.info("execution %s was deleted while it ran (%s)", execution.id, type(exc).__name__)
            discard_outputs(rt, execution.id)
            status = ExecutionStatus.DISMISSED
        else:
            # Unexpected: keep the traceback in the server log, give the user a short, safe reason.
            log.exception("execution %s (%s) crashed", execution.id, execution.service_id)
            rt.executions.finish(
                execution.id,
                ExecutionStatus.FAILED,
                message=f"internal error in process {execution.service_id!r} ({type(exc).__name__}); "
                "the operators have the details",
                error_code="internal-error",
            )
    finally:
        heartbeat.stop()
        close = getattr(ctx, "close", None)
        if close is not None:
            close()
    if status is not ExecutionStatus.SUCCESSFUL:
        # Nothing half-written stays behind: drop whatever the run stored.
        rt.storage.delete_prefix(f"{execution.id}/")
    rt.notify(execution)
    return status


def remove_scratch(path: Path | None) -> None:
    """Delete a scratch folder, ignoring errors."""
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
