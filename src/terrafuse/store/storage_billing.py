"""Deletion schedules of stored files of organisations out of credits (the only place with their SQL).

Every transition is one conditional statement, so several servers running the storage billing
at once agree: one creates (or re-opens) a schedule, one gets to notify, one cancels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from terrafuse.core.credits import DeletionSchedule
from terrafuse.store.db import Database
from terrafuse.store.tables import StorageDeletionScheduleRow

_S = StorageDeletionScheduleRow.__table__
_ACTIVE = and_(_S.c.cancelled_at.is_(None), _S.c.deleted_at.is_(None))


def _schedule(row: Any) -> DeletionSchedule:
    return DeletionSchedule(
        organisation_id=row.organisation_id,
        scheduled_at=row.scheduled_at,
        delete_after=row.delete_after,
        notified_at=row.notified_at,
        cancelled_at=row.cancelled_at,
        deleted_at=row.deleted_at,
    )


class DeletionSchedules:
    """Reads and writes organisations' storage deletion schedules."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, organisation_id: str) -> DeletionSchedule | None:
        """The organisation's latest schedule (active or not), if it ever had one."""
        with self.db.read_conn() as c:
            row = c.execute(select(_S).where(_S.c.organisation_id == organisation_id)).first()
        return _schedule(row) if row is not None else None

    def active(self) -> list[DeletionSchedule]:
        """Every active schedule, soonest deletion first."""
        query = select(_S).where(_ACTIVE).order_by(_S.c.delete_after, _S.c.organisation_id)
        with self.db.read_conn() as c:
            return [_schedule(r) for r in c.execute(query)]

    def schedule(self, organisation_id: str, now: datetime, delete_after: datetime) -> DeletionSchedule:
        """Open a schedule unless one is active (an active one is kept as it is); the active one."""
        with self.db.write_conn() as c:
            insert = postgresql.insert(_S) if c.dialect.name == "postgresql" else sqlite.insert(_S)
            c.execute(
                insert.values(
                    organisation_id=organisation_id, scheduled_at=now, delete_after=delete_after
                ).on_conflict_do_nothing(index_elements=["organisation_id"])
            )
            # A cancelled or finished schedule is re-opened (the organisation ran out again).
            c.execute(
                update(_S)
                .where(
                    _S.c.organisation_id == organisation_id,
                    or_(_S.c.cancelled_at.is_not(None), _S.c.deleted_at.is_not(None)),
                )
                .values(
                    scheduled_at=now,
                    delete_after=delete_after,
                    notified_at=None,
                    cancelled_at=None,
                    deleted_at=None,
                )
            )
            row = c.execute(select(_S).where(_S.c.organisation_id == organisation_id)).one()
        return _schedule(row)

    def mark_notified(self, organisation_id: str, now: datetime) -> bool:
        """Record the notification; True only for the one caller that should send it."""
        return self._transition(organisation_id, _S.c.notified_at.is_(None), notified_at=now)

    def cancel(self, organisation_id: str, now: datetime) -> bool:
        """Cancel the active schedule; False if there was none."""
        return self._transition(organisation_id, None, cancelled_at=now)

    def mark_deleted(self, organisation_id: str, now: datetime) -> bool:
        """Close the active schedule once the files are deleted; False if there was none."""
        return self._transition(organisation_id, None, deleted_at=now)

    def _transition(self, organisation_id: str, condition: Any, **values: datetime) -> bool:
        stmt = update(_S).where(_S.c.organisation_id == organisation_id, _ACTIVE)
        if condition is not None:
            stmt = stmt.where(condition)
        with self.db.write_conn() as c:
            return c.execute(stmt.values(**values)).rowcount == 1
