"""Getting accepted executions to the executor, also after crashes.

Nothing here is the source of truth: the database is. The dispatcher (re)submits accepted
executions and settles running ones whose worker stopped sending heartbeats. Submitting an id
twice is harmless: only one worker can claim it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from terrafuse.core.clock import utcnow
from terrafuse.core.executions import ExecutionStatus
from terrafuse.engine.base import Executor
from terrafuse.engine.runner import Runtime

log = logging.getLogger(__name__)

LOST_MESSAGE = (
    "the worker running this job stopped responding (the server or worker was restarted); "
    "it was run {n} time(s) and is not retried again"
)


@dataclass
class _Periodic:
    """A job the sweep runs at most once every ``every`` seconds, first once ``due`` is reached."""

    name: str
    every: float
    fn: Callable[[], object]
    due: float = 0.0


class Dispatcher:
    """Submits executions and recovers lost ones, periodically in a background thread."""

    def __init__(self, rt: Runtime, executor: Executor, sweep_seconds: float = 5.0) -> None:
        self.rt = rt
        self.executor = executor
        self.sweep_seconds = sweep_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._periodic: list[_Periodic] = []

    def dispatch(self, execution_id: str) -> None:
        """Hand an accepted execution to the executor."""
        self.executor.submit(execution_id)

    def recover(self, all_running_lost: bool = False) -> dict[str, int]:
        """Settle lost running executions and (re)submit accepted ones.

        Args:
            all_running_lost: every ``running`` row is known to be orphaned (the previous
                server owned the only cluster), so there is no need to wait for its lease to expire.
        """
        settings = self.rt.settings
        executions = self.rt.executions
        cutoff = utcnow() if all_running_lost else utcnow() - timedelta(seconds=settings.job_lease_seconds)
        counts = {"requeued": 0, "failed": 0, "dispatched": 0}
        for eid in executions.stale_running(cutoff):
            ex = executions.get(eid)
            attempts = ex.attempts if ex else settings.max_attempts
            status = executions.requeue_or_fail(eid, settings.max_attempts, LOST_MESSAGE.format(n=attempts))
            if status is ExecutionStatus.ACCEPTED:
                counts["requeued"] += 1
            elif status is ExecutionStatus.FAILED:
                counts["failed"] += 1
                self.rt.storage.delete_prefix(f"{eid}/")
                if ex is not None:
                    self.rt.notify(ex)
        in_flight = getattr(self.executor, "in_flight", None)
        for eid in executions.ids_with_status(ExecutionStatus.ACCEPTED):
            if in_flight is not None and in_flight(eid):
                continue
            self.dispatch(eid)
            counts["dispatched"] += 1
        if any(counts.values()):
            log.info("recovery: %s", counts)
        return counts

    def every(self, seconds: float, name: str, fn: Callable[[], object], first_after: float = 0.0) -> None:
        """Also run ``fn`` from the sweep, at most once every ``seconds``, the first time
        ``first_after`` seconds from now (a cheap clock check; such jobs must be idempotent,
        since every server runs them)."""
        self._periodic.append(_Periodic(name, seconds, fn, time.monotonic() + first_after))

    def run_periodic(self, monotonic: float | None = None) -> list[str]:
        """Run the periodic jobs that are due (one failing does not stop the others); their names."""
        now = time.monotonic() if monotonic is None else monotonic
        ran = []
        for job in self._periodic:
            if now < job.due:
                continue
            job.due = now + job.every
            ran.append(job.name)
            try:
                job.fn()
            except Exception:
                log.exception("periodic job %s failed", job.name)
        return ran

    def start(self) -> None:
        """Sweep in the background every ``sweep_seconds``."""
        self._thread = threading.Thread(target=self._loop, name="dispatcher-sweep", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_sweep = time.monotonic() + self.sweep_seconds
        # Wake often enough for the most frequent periodic job (the scheduler's tick).
        tick = min([self.sweep_seconds, *(job.every for job in self._periodic)])
        while not self._stop.wait(tick):
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_seconds
                try:
                    self.recover()
                except Exception:
                    log.exception("dispatcher sweep failed")
            self.run_periodic()

    def stop(self) -> None:
        """Stop the background sweep."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
