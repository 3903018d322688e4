"""Component repository: the steps of executions' chains, with their logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from terrafuse.core.clock import utcnow
from terrafuse.core.listing import ListQuery
from terrafuse.core.processes import Component
from terrafuse.store.db import Database
from terrafuse.store.listing import fetch_page
from terrafuse.store.processes import COMPONENT_LIST, LOG_LIST
from terrafuse.store.tables import ComponentRow, ExecutionLogRow

_C = ComponentRow.__table__
_L = ExecutionLogRow.__table__
_FIELDS = (
    "id", "execution_id", "organisation_id", "chain_index", "name", "started_at", "ended_at",
    "runtime", "cpu", "memory", "success", "inputs", "outputs",
)  # fmt: skip


def _to_component(row: Any) -> Component:
    m = row._mapping
    return Component(**{name: m[name] for name in _FIELDS})


class Components:
    """Reads and writes components."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, component: Component) -> None:
        """Record a component that has started."""
        with self.db.write_conn() as c:
            c.execute(insert(_C).values(**{name: getattr(component, name) for name in _FIELDS}))

    def finish(self, component: Component) -> None:
        """Record how a component ended (times, figures, success, inputs and outputs)."""
        with self.db.write_conn() as c:
            c.execute(
                update(_C)
                .where(_C.c.id == component.id)
                .values(
                    ended_at=component.ended_at,
                    runtime=component.runtime,
                    cpu=component.cpu,
                    memory=component.memory,
                    success=component.success,
                    inputs=list(component.inputs),
                    outputs=list(component.outputs),
                )
            )

    def get(self, organisation_id: str, component_id: str) -> Component | None:
        """The organisation's component, if it exists."""
        with self.db.read_conn() as c:
            row = c.execute(
                select(_C).where(_C.c.id == component_id, _C.c.organisation_id == organisation_id)
            ).first()
        return None if row is None else _to_component(row)

    def of_execution(self, execution_id: str) -> list[Component]:
        """An execution's components in chain order."""
        with self.db.read_conn() as c:
            rows = c.execute(
                select(_C).where(_C.c.execution_id == execution_id).order_by(_C.c.chain_index, _C.c.id)
            ).all()
        return [_to_component(r) for r in rows]

    def page(self, execution_id: str, query: ListQuery) -> tuple[list[Component], dict[str, Any] | None]:
        """One page of an execution's components."""
        with self.db.read_conn() as c:
            rows, last = fetch_page(
                c, select(_C).where(_C.c.execution_id == execution_id), query, COMPONENT_LIST
            )
        return [_to_component(r) for r in rows], last

    def discard_of_execution(self, execution_id: str) -> None:
        """Forget an execution's components (before a re-run after a lost worker)."""
        with self.db.write_conn() as c:
            c.execute(delete(_C).where(_C.c.execution_id == execution_id))

    def add_log(self, execution_id: str, component_id: str | None, message: str) -> None:
        """Append a log line of a component (or of the execution when ``component_id`` is None)."""
        with self.db.write_conn() as c:
            c.execute(
                insert(_L).values(
                    execution_id=execution_id, component_id=component_id, logged_at=utcnow(), message=message
                )
            )

    def log_page(
        self, component_id: str, query: ListQuery
    ) -> tuple[list[tuple[int, datetime, str]], dict[str, Any] | None]:
        """One page of a component's log lines: (id, logged_at, message)."""
        with self.db.read_conn() as c:
            rows, last = fetch_page(
                c,
                select(_L.c.id, _L.c.logged_at, _L.c.message).where(_L.c.component_id == component_id),
                query,
                LOG_LIST,
            )
        return [(r.id, r.logged_at, r.message) for r in rows], last
