"""Executions of processes, their components (the steps of the chain) and the components' logs.

Endpoints (``~`` is ``/organisations/{organisation_id}``): ``~/process_executions/{id}``,
``~/process_executions/{id}/process_service_executions``, ``~/process_service_executions/{id}``
and its ``/logs``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from terrafuse.sdk.data import Data
from terrafuse.sdk.errors import ExecutionFailedError, ModelError
from terrafuse.sdk.model import Model
from terrafuse.sdk.progress import ProgressBar
from terrafuse.sdk.session import Session
from terrafuse.sdk.timing import Deadline, poll_until

__all__ = ["Component", "Execution", "Log", "wait_for_executions"]


def _org(organisation_id: str) -> str:
    return f"organisations/{organisation_id}"


class Log(Model):
    """One line a component logged while it ran (``~/process_service_executions/{id}/logs``)."""

    id: str
    created_at: datetime
    updated_at: datetime
    process_service_execution_id: str
    logged_at: datetime
    message: str | None


class Component(Model):
    """One step of an execution's chain, e.g. the ingestion of imagery, then the algorithm.

    ``inputs`` and ``outputs`` iterate over its data items; ``logs`` over its log lines.
    Endpoint: ``~/process_service_executions/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    process_execution_id: str
    process_id: str
    service_id: str
    image_id: str
    chain_index: int | None
    name: str
    started_at: datetime
    ended_at: datetime | None
    runtime: int | None
    architecture: str | None
    cpu: float
    gpu: float | None
    memory: int
    storage: int | None
    instance_type: str | None
    actions: Any
    options: list[dict[str, Any]] | None
    intermediate: bool | None
    success: bool | None
    metrics: Any

    @property
    def _path(self) -> str:
        return f"{_org(self._require('organisation_id'))}/process_service_executions/{self._require('id')}"

    def get(self) -> Component:
        """Reload the component (``GET ~/process_service_executions/{id}``); itself."""
        model, _ = self._session.model("GET", self._path)
        self._load(model)
        return self

    def _data(self, key: str) -> Iterator[Data]:
        session, org = self._session, _org(self._require("organisation_id"))
        for data_id in list(self._raw.get(key) or ()):
            model, _ = session.model("GET", f"{org}/data/{data_id}")
            yield Data(session, model)

    @property
    def inputs(self) -> Iterator[Data]:
        """The data items the component read (``GET ~/data/{id}`` each), lazily."""
        return self._data("inputs")

    @property
    def outputs(self) -> Iterator[Data]:
        """The data items the component made (``GET ~/data/{id}`` each), lazily."""
        return self._data("outputs")

    @property
    def logs(self) -> Iterator[Log]:
        """The component's log lines, oldest first (``GET ~/process_service_executions/{id}/logs``)."""
        session = self._session
        return (Log(session, values) for values in session.pages(f"{self._path}/logs"))

    def download_log_file(self, path: str | os.PathLike[str]) -> None:
        """Write the component's log to ``path`` as CSV with the columns ``logged_at,message``."""
        target = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        part = target + ".part"
        with open(part, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["logged_at", "message"])
            for line in self.logs:
                writer.writerow([line.logged_at.isoformat(), line.message or ""])
        os.replace(part, target)


class Execution(Model):
    """One run of a process over its region, or over one slice of it when the region is large.

    A sliced run is a group: its executions share ``group_id`` (``group_index`` of
    ``group_count``), sometimes with an aggregator execution combining their outputs.
    ``progress`` reaches 100 when the execution ends; ``success`` says how it ended.
    Endpoint: ``~/process_executions/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    process_id: str
    group_id: str | None
    group_index: int | None
    group_count: int | None
    options: list[dict[str, Any]] | None
    chains: Any
    started_at: datetime
    ended_at: datetime | None
    stopped: bool | None
    abort: bool | None
    abort_reason: str | None
    exit_type: str | None
    success: bool | None
    progress: int
    delete_expiry: datetime | None
    delete_warning_status: str | None
    deletable: bool | None
    delete_protection: bool | None

    @property
    def _path(self) -> str:
        return f"{_org(self._require('organisation_id'))}/process_executions/{self._require('id')}"

    @property
    def components(self) -> Iterator[Component]:
        """The steps of the execution's chain, in order
        (``GET ~/process_executions/{id}/process_service_executions``), lazily."""
        session = self._session
        pages = session.pages(f"{self._path}/process_service_executions")
        return (Component(session, values) for values in pages)

    def get(self) -> Execution:
        """Reload the execution (``GET ~/process_executions/{id}``); itself."""
        model, _ = self._session.model("GET", self._path)
        self._load(model)
        return self

    @property
    def finished(self) -> bool:
        """Whether the execution has ended (``progress`` 100), successfully or not."""
        return (self._value("progress") or 0) >= 100

    def check_complete(self, wait: bool = False, timeout: float | None = None) -> bool:
        """Whether the execution has ended successfully (reloading it first).

        Returns False while it runs; raises ``ExecutionFailedError`` (with the platform's
        reason) if it ended without success. With ``wait``, blocks until it ends (at most
        ``timeout`` seconds, default the session's ``wait_timeout``; then ``WaitTimeoutError``),
        showing its progress.
        """
        if wait:
            session = self._session
            limit = session.options.wait_timeout if timeout is None else timeout
            deadline = Deadline(session.clock, limit, f"execution {self._value('id')}")
            wait_for_executions(session, [self], deadline)
            return True
        self.get()
        if not self.finished:
            return False
        _raise_failures([self])
        return True

    def change_delete_expiry(self, delete_expiry: datetime) -> Execution:
        """Keep the execution (and its whole group) until ``delete_expiry``
        (``POST ~/process_executions/{id}/change_delete_expiry``); itself."""
        body = {"ProcessExecution": {"delete_expiry": delete_expiry}}
        model, _ = self._session.model("POST", f"{self._path}/change_delete_expiry", body=body)
        self._load(model)
        return self

    def update(self, **fields: Any) -> Execution:
        """Change ``delete_expiry``, the one field an execution lets you change
        (``PATCH ~/process_executions/{id}``); itself."""
        unknown = set(fields) - {"delete_expiry"}
        if unknown or not fields:
            raise ModelError(f"an execution's update takes delete_expiry only, not {sorted(unknown)}")
        body = {f"ProcessExecution[{name}]": value for name, value in fields.items()}
        model, _ = self._session.model("PATCH", self._path, body=body)
        self._load(model)
        return self

    def delete(self) -> None:
        """Delete the ended execution and its outputs (``DELETE ~/process_executions/{id}``)."""
        self._session.request("DELETE", self._path)


def _raise_failures(executions: Sequence[Execution]) -> None:
    failures = [
        (str(e.id), str(e._value("abort_reason") or e._value("exit_type") or "no reason given"))
        for e in executions
        if e.finished and not e._value("success")
    ]
    if failures:
        raise ExecutionFailedError(failures)


def wait_for_executions(session: Session, executions: Sequence[Execution], deadline: Deadline) -> None:
    """Wait until every execution has ended, showing their joint progress; then raise
    ``ExecutionFailedError`` listing those that failed (all are awaited first)."""
    if not executions:
        raise ModelError("there is no execution to wait for")
    label = "execution" if len(executions) == 1 else f"{len(executions)} executions"
    with ProgressBar(label, 100.0 * len(executions), "%", session.options.progress) as bar:

        def check() -> bool | None:
            for execution in executions:
                if not execution.finished:
                    execution.get()
            bar.set(sum(min(int(e._value("progress") or 0), 100) for e in executions))
            return True if all(e.finished for e in executions) else None

        poll_until(check, session.clock, deadline, session.options.poll_interval)
    _raise_failures(executions)
