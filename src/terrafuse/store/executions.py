"""Execution repository: the only place that knows how executions are stored.

State changes are single conditional UPDATEs (``... WHERE status = 'accepted'``), so two
workers, or a worker and a dismiss, can never both win a transition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, literal, or_, select, update

from terrafuse.core.clock import utcnow
from terrafuse.core.executions import (
    Execution,
    ExecutionFilter,
    ExecutionRequest,
    ExecutionStatus,
    OutputRequest,
    ResponseForm,
    Subscriber,
)
from terrafuse.store.db import Database
from terrafuse.store.tables import ExecutionLogRow, ExecutionRow, ExecutionTaskRow

_T = ExecutionRow.__table__


def request_to_json(request: ExecutionRequest) -> dict[str, Any]:
    """Serialise an execution request for storage."""
    return asdict(request)


def request_from_json(data: dict[str, Any]) -> ExecutionRequest:
    """Rebuild an execution request from storage."""
    outputs = data.get("outputs")
    subscriber = data.get("subscriber")
    return ExecutionRequest(
        response=ResponseForm(data.get("response", "raw")),
        outputs=None if outputs is None else {k: OutputRequest(**v) for k, v in outputs.items()},
        subscriber=None if subscriber is None else Subscriber(**subscriber),
    )


def _to_model(row: Any) -> Execution:
    """Map an ORM row or a Core row (same attribute names) to the domain model."""
    return Execution(
        id=row.id,
        organisation_id=row.organisation_id,
        service_id=row.service_id,
        service_version=row.service_version,
        status=ExecutionStatus(row.status),
        inputs=row.inputs,
        request=request_from_json(row.request),
        created_at=row.created_at,
        updated_at=row.updated_at,
        progress=row.progress,
        message=row.message,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outputs=row.outputs,
        attempts=row.attempts,
        error_code=row.error_code,
        heartbeat_at=row.heartbeat_at,
        process_id=row.process_id,
        group_id=row.group_id,
        group_index=row.group_index,
        group_count=row.group_count,
        aggregator=bool(row.aggregator),
        price=row.price,
        delete_expiry=row.delete_expiry,
        delete_warning_status=row.delete_warning_status or "none",
        stopped=bool(row.stopped),
        executed_by=row.executed_by,
    )


class _Light:
    """A row read without ``inputs`` and ``outputs``, as :func:`_to_model` reads rows."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        if name == "inputs":
            return {}
        if name == "outputs":
            return None
        return getattr(self._row, name)


def _row_values(execution: Execution) -> dict[str, Any]:
    values = {
        name: getattr(execution, name)
        for name in (
            "id", "organisation_id", "service_id", "service_version", "progress", "message",
            "error_code", "inputs", "outputs", "created_at", "updated_at", "started_at",
            "finished_at", "heartbeat_at", "attempts", "process_id", "group_id", "group_index",
            "group_count", "aggregator", "price", "delete_expiry", "delete_warning_status",
            "stopped", "executed_by",
        )
    }  # fmt: skip
    values["status"] = execution.status.value
    values["request"] = request_to_json(execution.request)
    return values


class Executions:
    """Reads and writes executions, their task progress and logs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- creation and reads ---------------------------------------------------------------
    def add(self, execution: Execution, conn: Connection | None = None) -> None:
        """Insert a new execution (in ``conn``'s transaction when given)."""
        if conn is None:
            with self.db.write_conn() as own:
                self.add(execution, own)
            return
        conn.execute(insert(_T).values(**_row_values(execution)))

    def get(self, execution_id: str, organisation_id: str | None = None) -> Execution | None:
        """The execution, if it exists (and belongs to ``organisation_id`` when given)."""
        with self.db.read_conn() as conn:
            row = conn.execute(select(_T).where(_T.c.id == execution_id)).first()
        if row is None or (organisation_id is not None and row.organisation_id != organisation_id):
            return None
        return _to_model(row)

    def summaries(self, execution_ids: Sequence[str]) -> list[Execution]:
        """The executions in ``execution_ids`` order (missing ones left out), in one query and
        without their ``inputs`` and ``outputs`` (left empty): a sliced run's inputs hold each
        slice's geometry, too much to read on every poll of a process's statuses."""
        if not execution_ids:
            return []
        light = [c for c in _T.c if c.name not in ("inputs", "outputs")]
        with self.db.read_conn() as conn:
            rows = conn.execute(select(*light).where(_T.c.id.in_(list(execution_ids)))).all()
        found = {r.id: _to_model(_Light(r)) for r in rows}
        return [found[i] for i in execution_ids if i in found]

    def status(self, execution_id: str) -> ExecutionStatus | None:
        """Just the status (cheap; used by cancellation checks)."""
        with self.db.read_conn() as conn:
            value = conn.execute(select(_T.c.status).where(_T.c.id == execution_id)).scalar()
        return None if value is None else ExecutionStatus(value)

    def list(self, organisation_id: str, flt: ExecutionFilter, now: datetime) -> tuple[list[Execution], bool]:
        """A page of executions, newest first, and whether more follow."""
        conditions: list[ColumnElement[bool]] = [ExecutionRow.organisation_id == organisation_id]
        if flt.service_ids:
            conditions.append(ExecutionRow.service_id.in_(flt.service_ids))
        if flt.statuses:
            conditions.append(ExecutionRow.status.in_([s.value for s in flt.statuses]))
        if flt.created_from is not None:
            conditions.append(ExecutionRow.created_at >= flt.created_from)
        if flt.created_to is not None:
            conditions.append(ExecutionRow.created_at <= flt.created_to)
        if flt.min_duration is not None or flt.max_duration is not None:
            duration = self._duration_seconds(now)
            conditions.append(ExecutionRow.started_at.is_not(None))
            conditions.append(
                or_(
                    ExecutionRow.finished_at.is_not(None),
                    ExecutionRow.status == ExecutionStatus.RUNNING.value,
                )
            )
            if flt.min_duration is not None:
                conditions.append(duration >= flt.min_duration)
            if flt.max_duration is not None:
                conditions.append(duration <= flt.max_duration)
        query = (
            select(ExecutionRow)
            .where(and_(*conditions))
            .order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc())
            .offset(flt.offset)
            .limit(flt.limit + 1)
        )
        with self.db.read() as s:
            rows = list(s.scalars(query))
        return [_to_model(r) for r in rows[: flt.limit]], len(rows) > flt.limit

    def _duration_seconds(self, now: datetime) -> ColumnElement[float]:
        end = func.coalesce(ExecutionRow.finished_at, literal(now, ExecutionRow.finished_at.type))
        if self.db.is_sqlite:
            return (func.julianday(end) - func.julianday(ExecutionRow.started_at)) * 86400.0
        return func.extract("epoch", end - ExecutionRow.started_at)

    # -- transitions ----------------------------------------------------------------------
    def claim(self, execution_id: str) -> Execution | None:
        """accepted -> running; returns the execution if this caller won the claim."""
        now = utcnow()
        with self.db.write_conn() as conn:
            row = conn.execute(
                update(_T)
                .where(_T.c.id == execution_id, _T.c.status == ExecutionStatus.ACCEPTED.value)
                .values(
                    status=ExecutionStatus.RUNNING.value,
                    started_at=now,
                    heartbeat_at=now,
                    updated_at=now,
                    attempts=_T.c.attempts + 1,
                    progress=0,
                )
                .returning(*_T.c)
            ).first()
            if row is None:
                return None
            if row.attempts > 1:  # a re-run: forget the progress of the lost attempt
                conn.execute(delete(ExecutionTaskRow).where(ExecutionTaskRow.execution_id == execution_id))
        return _to_model(row)

    def heartbeat(self, execution_id: str, progress: int | None = None, message: str | None = None) -> bool:
        """Refresh a running execution's lease (and progress); False if it is no longer running."""
        now = utcnow()
        values: dict[str, Any] = {"heartbeat_at": now}
        if progress is not None:
            values["progress"] = progress
            values["updated_at"] = now
        if message is not None:
            values["message"] = message
        with self.db.write_conn() as conn:
            result = conn.execute(
                update(_T)
                .where(_T.c.id == execution_id, _T.c.status == ExecutionStatus.RUNNING.value)
                .values(**values)
            )
            return result.rowcount == 1

    def finish(
        self,
        execution_id: str,
        status: ExecutionStatus,
        outputs: dict[str, Any] | None = None,
        message: str | None = None,
        error_code: str | None = None,
    ) -> bool:
        """running -> successful/failed; False if the execution was dismissed meanwhile."""
        now = utcnow()
        values: dict[str, Any] = {
            "status": status.value,
            "finished_at": now,
            "updated_at": now,
            "outputs": outputs,
            "message": message,
            "error_code": error_code,
        }
        if status is ExecutionStatus.SUCCESSFUL:
            values["progress"] = 100
        with self.db.write_conn() as conn:
            result = conn.execute(
                update(_T)
                .where(_T.c.id == execution_id, _T.c.status == ExecutionStatus.RUNNING.value)
                .values(**values)
            )
            return result.rowcount == 1

    def dismiss(self, execution_id: str, message: str) -> Execution | None:
        """Any status -> dismissed (outputs forgotten); returns the execution as it is afterwards."""
        now = utcnow()
        with self.db.write() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is None:
                return None
            if row.status != ExecutionStatus.DISMISSED.value:
                row.status = ExecutionStatus.DISMISSED.value
                row.finished_at = row.finished_at or now
                row.updated_at = now
                row.message = message
                row.outputs = None
            return _to_model(row)

    def requeue_or_fail(self, execution_id: str, max_attempts: int, message: str) -> ExecutionStatus | None:
        """Settle a running execution whose worker was lost: back to accepted, or failed after
        ``max_attempts`` runs. Returns the new status, or None if it was not running any more."""
        now = utcnow()
        with self.db.write() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is None or row.status != ExecutionStatus.RUNNING.value:
                return None
            if row.attempts < max_attempts:
                row.status = ExecutionStatus.ACCEPTED.value
                row.progress = 0
                row.started_at = None
                row.message = "re-queued after its worker was lost"
            else:
                row.status = ExecutionStatus.FAILED.value
                row.finished_at = now
                row.message = message
                row.error_code = "worker-lost"
            row.updated_at = now
            return ExecutionStatus(row.status)

    # -- queries for the dispatcher -------------------------------------------------------
    def ids_with_status(self, status: ExecutionStatus, limit: int = 1000) -> list[str]:
        """Ids of executions in ``status``, oldest first."""
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(ExecutionRow.id)
                    .where(ExecutionRow.status == status.value)
                    .order_by(ExecutionRow.created_at)
                    .limit(limit)
                )
            )

    def ids_of_organisation(self, organisation_id: str) -> list[str]:
        """Ids of every execution of an organisation."""
        with self.db.read_conn() as conn:
            return list(
                conn.execute(select(_T.c.id).where(_T.c.organisation_id == organisation_id)).scalars()
            )

    def stale_running(self, cutoff: datetime) -> list[str]:
        """Running executions whose last heartbeat is older than ``cutoff``."""
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(ExecutionRow.id).where(
                        ExecutionRow.status == ExecutionStatus.RUNNING.value,
                        or_(ExecutionRow.heartbeat_at.is_(None), ExecutionRow.heartbeat_at < cutoff),
                    )
                )
            )

    # -- parallel task progress and logs --------------------------------------------------
    def set_task_progress(self, execution_id: str, idx: int, progress: float) -> None:
        """Record the progress of one parallel unit."""
        with self.db.write() as s:
            row = s.get(ExecutionTaskRow, (execution_id, idx))
            if row is None:
                s.add(ExecutionTaskRow(execution_id=execution_id, idx=idx, progress=progress))
            else:
                row.progress = progress

    def task_progress(self, execution_id: str) -> dict[int, float]:
        """Progress of each parallel unit that reported."""
        with self.db.read() as s:
            rows = s.execute(
                select(ExecutionTaskRow.idx, ExecutionTaskRow.progress).where(
                    ExecutionTaskRow.execution_id == execution_id
                )
            )
            return {idx: progress for idx, progress in rows}

    def add_log(self, execution_id: str, message: str) -> None:
        """Append a log line."""
        with self.db.write() as s:
            s.add(ExecutionLogRow(execution_id=execution_id, logged_at=utcnow(), message=message))

    def logs(self, execution_id: str) -> list[tuple[datetime, str]]:
        """All log lines, oldest first."""
        with self.db.read() as s:
            rows = s.execute(
                select(ExecutionLogRow.logged_at, ExecutionLogRow.message)
                .where(ExecutionLogRow.execution_id == execution_id)
                .order_by(ExecutionLogRow.id)
            )
            return [(at, msg) for at, msg in rows]
