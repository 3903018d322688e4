"""The executor protocol: how accepted executions reach compute."""

from __future__ import annotations

from typing import Protocol

from terrafuse.core.executions import Execution


class Executor(Protocol):
    """Submits executions (by id) to where work runs."""

    def submit(self, execution_id: str) -> None:
        """Queue the execution; a worker will claim and run it."""
        ...

    def wait(self, execution_id: str, timeout: float) -> bool:
        """Block until the submitted execution's task ended; False on timeout."""
        ...

    def cancel(self, execution_id: str) -> None:
        """Drop the execution's task if it has not started (running work stops cooperatively)."""
        ...

    def close(self) -> None:
        """Release the cluster connection (and a cluster the executor started)."""
        ...


class Notifier(Protocol):
    """Told about status changes (to send callbacks, e-mails, ...)."""

    def execution_changed(self, execution: Execution) -> None:
        """The execution started or finished (``execution`` may be the state before the change:
        re-read it when its current state matters)."""
        ...
