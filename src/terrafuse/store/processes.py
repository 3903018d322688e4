"""Process repository, and the platform's views of executions and components.

The scheduler's claim on a firing is a compare-and-set on ``next_run_at``: of several servers
that see the same due process, exactly one moves ``next_run_at`` on and creates the firing's
executions in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from terrafuse.core.listing import ListQuery
from terrafuse.core.processes import BoundInput, Origin, Process, ProcessStatus
from terrafuse.store.db import Database
from terrafuse.store.listing import ListSpec, fetch_page
from terrafuse.store.tables import ComponentRow, ExecutionLogRow, ExecutionRow, ProcessRow

_P = ProcessRow.__table__
_X = ExecutionRow.__table__
_C = ComponentRow.__table__
_L = ExecutionLogRow.__table__

PROCESS_LIST = ListSpec(
    filters={
        "id": _P.c.id,
        "name": _P.c.name,
        "ssd_id": _P.c.ssd_id,
        "service_id": _P.c.service_id,
        "process_status": _P.c.process_status,
        "run_type": _P.c.run_type,
        "created_at": _P.c.created_at,
    },
    order=(("created_at", _P.c.created_at), ("id", _P.c.id)),
    search=(_P.c.name,),
)
EXECUTION_LIST = ListSpec(
    filters={
        "id": _X.c.id,
        "group_id": _X.c.group_id,
        "group_index": _X.c.group_index,
        "created_at": _X.c.created_at,
        "status": _X.c.status,
    },
    order=(("started_at", _X.c.created_at), ("id", _X.c.id)),
)
COMPONENT_LIST = ListSpec(
    filters={"id": _C.c.id, "name": _C.c.name, "chain_index": _C.c.chain_index},
    order=(("chain_index", _C.c.chain_index), ("id", _C.c.id)),
    search=(_C.c.name,),
)
LOG_LIST = ListSpec(filters={"logged_at": _L.c.logged_at}, order=(("id", _L.c.id),))

_COLUMNS = (
    "id", "organisation_id", "service_key", "service_id", "ssd_id", "name", "options", "ogc_inputs",
    "run_type", "repeat_count", "repeat_start", "repeat_end", "repeat_gap", "repeat_offset",
    "output_storage_period", "process_status_at", "process_status_changed_by", "price", "area_km2",
    "slices", "created_by", "next_run_at", "created_at", "updated_at",
)  # fmt: skip


def _to_process(row: Any) -> Process:
    m = row._mapping
    return Process(
        **{name: m[name] for name in _COLUMNS},
        inputs=[BoundInput(int(i["input"]), str(i["data_id"])) for i in m["inputs"]],
        process_status=ProcessStatus(m["process_status"]),
        origin=Origin(m["origin"]),
    )


def _values(process: Process) -> dict[str, Any]:
    values = {name: getattr(process, name) for name in _COLUMNS}
    values["inputs"] = [{"input": b.input, "data_id": b.data_id} for b in process.inputs]
    values["process_status"] = process.process_status.value
    values["origin"] = process.origin.value
    return values


class Processes:
    """Reads and writes processes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, process: Process, conn: Connection | None = None) -> Process:
        """Insert a new process."""
        if conn is None:
            with self.db.write_conn() as own:
                return self.add(process, own)
        conn.execute(insert(_P).values(**_values(process)))
        return process

    def get(self, organisation_id: str, process_id: str, conn: Connection | None = None) -> Process | None:
        """The organisation's process, if it exists."""
        stmt = select(_P).where(_P.c.id == process_id, _P.c.organisation_id == organisation_id)
        if conn is not None:
            row = conn.execute(stmt).first()
        else:
            with self.db.read_conn() as c:
                row = c.execute(stmt).first()
        return None if row is None else _to_process(row)

    def by_id(self, process_id: str, conn: Connection | None = None) -> Process | None:
        """A process of any organisation (for the engine and the scheduler)."""
        stmt = select(_P).where(_P.c.id == process_id)
        if conn is not None:
            row = conn.execute(stmt).first()
        else:
            with self.db.read_conn() as c:
                row = c.execute(stmt).first()
        return None if row is None else _to_process(row)

    def page(self, organisation_id: str, query: ListQuery) -> tuple[list[Process], dict[str, Any] | None]:
        """One page of the organisation's processes and the next page's cursor."""
        with self.db.read_conn() as c:
            rows, last = fetch_page(
                c, select(_P).where(_P.c.organisation_id == organisation_id), query, PROCESS_LIST
            )
        return [_to_process(r) for r in rows], last

    def update(self, process_id: str, changes: Mapping[str, Any], conn: Connection | None = None) -> None:
        """Write ``changes`` (column values) to the process."""
        if not changes:
            return
        if conn is None:
            with self.db.write_conn() as own:
                self.update(process_id, changes, own)
            return
        values = dict(changes)
        if "inputs" in values:
            values["inputs"] = [{"input": b.input, "data_id": b.data_id} for b in values["inputs"]]
        for key in ("process_status", "origin"):
            if key in values and hasattr(values[key], "value"):
                values[key] = values[key].value
        conn.execute(update(_P).where(_P.c.id == process_id).values(**values))

    def claim_start(self, process_id: str, changes: Mapping[str, Any], conn: Connection) -> bool:
        """Move a stopped process to executing with ``changes``, if nobody else did (compare-and-set)."""
        values = {k: getattr(v, "value", v) for k, v in changes.items()}
        result = conn.execute(
            update(_P).where(_P.c.id == process_id, _P.c.process_status == "stop").values(**values)
        )
        return result.rowcount == 1

    def claim_firing(
        self, process_id: str, expected_next: datetime, changes: Mapping[str, Any], conn: Connection
    ) -> bool:
        """Move a due process on to its next firing, if nobody else did (compare-and-set)."""
        result = conn.execute(
            update(_P).where(_P.c.id == process_id, _P.c.next_run_at == expected_next).values(**changes)
        )
        return result.rowcount == 1

    def due(self, now: datetime, limit: int = 100) -> list[Process]:
        """Processes whose next firing is due, oldest first."""
        with self.db.read_conn() as c:
            rows = c.execute(
                select(_P).where(_P.c.next_run_at.is_not(None), _P.c.next_run_at <= now)
                .order_by(_P.c.next_run_at).limit(limit)
            ).all()  # fmt: skip
        return [_to_process(r) for r in rows]

    def delete(self, process_id: str, conn: Connection | None = None) -> None:
        """Remove the process row (its executions are removed by the use case first)."""
        if conn is None:
            with self.db.write_conn() as own:
                self.delete(process_id, own)
            return
        conn.execute(delete(_P).where(_P.c.id == process_id))

    def using_data(self, data_id: str) -> bool:
        """Whether any process binds this data item to an input."""
        # JSON columns differ per backend; the list is small, so filter in Python on the text.
        with self.db.read_conn() as c:
            rows = c.execute(select(_P.c.inputs)).scalars()
            return any(any(i.get("data_id") == data_id for i in inputs) for inputs in rows)

    def of_organisation(self, organisation_id: str) -> list[str]:
        """Ids of every process of an organisation."""
        with self.db.read_conn() as c:
            return list(c.execute(select(_P.c.id).where(_P.c.organisation_id == organisation_id)).scalars())


# -- executions and components as the platform API reads them -----------------------------------
def execution_page(
    db: Database, process_id: str, query: ListQuery
) -> tuple[list[str], dict[str, Any] | None]:
    """Ids of one page of a process's executions (by creation = firing time) and the cursor."""
    with db.read_conn() as c:
        rows, last = fetch_page(
            c, select(_X.c.id, _X.c.created_at).where(_X.c.process_id == process_id), query, EXECUTION_LIST
        )
    return [r.id for r in rows], last


def process_execution_ids(db: Database, process_id: str, conn: Connection | None = None) -> list[str]:
    """Every execution of a process, oldest first."""
    stmt = select(_X.c.id).where(_X.c.process_id == process_id).order_by(_X.c.created_at, _X.c.id)
    if conn is not None:
        return list(conn.execute(stmt).scalars())
    with db.read_conn() as c:
        return list(c.execute(stmt).scalars())


def group_execution_ids(db: Database, group_id: str) -> list[str]:
    """Every execution of a group, by group index (the aggregator last)."""
    with db.read_conn() as c:
        return list(
            c.execute(
                select(_X.c.id).where(_X.c.group_id == group_id)
                .order_by(_X.c.aggregator, _X.c.group_index, _X.c.id)
            ).scalars()
        )  # fmt: skip


def count_by_status(db: Database, process_id: str) -> dict[str, int]:
    """How many of a process's executions are in each status."""
    with db.read_conn() as c:
        rows = c.execute(
            select(_X.c.status, func.count()).where(_X.c.process_id == process_id).group_by(_X.c.status)
        ).all()
    return {status: n for status, n in rows}


def set_delete_expiry(db: Database, execution_ids: Iterable[str], expiry: datetime, now: datetime) -> None:
    """Give executions a new deletion time (and re-arm their warning)."""
    with db.write_conn() as c:
        c.execute(
            update(_X).where(_X.c.id.in_(list(execution_ids)))
            .values(delete_expiry=expiry, delete_warning_status="none", updated_at=now)
        )  # fmt: skip


def price_of(db: Database, execution_id: str) -> Decimal | None:
    """An execution's share of the price."""
    with db.read_conn() as c:
        return c.execute(select(_X.c.price).where(_X.c.id == execution_id)).scalar()
