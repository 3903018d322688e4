"""Organisation repository."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.organisations import Organisation, check_namespace
from terrafuse.store.db import Database
from terrafuse.store.tables import OrganisationRow


def _to_model(row: OrganisationRow) -> Organisation:
    return Organisation(
        id=row.id,
        name=row.name,
        namespace=row.namespace,
        allow_anonymous=row.allow_anonymous,
        created_at=row.created_at,
    )


class Organisations:
    """Reads and writes organisations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def by_namespace(self, namespace: str) -> Organisation | None:
        """The organisation with this namespace, if any."""
        with self.db.read() as s:
            row = s.scalars(select(OrganisationRow).where(OrganisationRow.namespace == namespace)).first()
            return _to_model(row) if row else None

    def by_id(self, organisation_id: str) -> Organisation | None:
        """The organisation with this id, if any."""
        with self.db.read() as s:
            row = s.get(OrganisationRow, organisation_id)
            return _to_model(row) if row else None

    def ensure(self, name: str, namespace: str, allow_anonymous: bool) -> Organisation:
        """Return the organisation with ``namespace``, creating it if needed (idempotent, race-safe)."""
        check_namespace(namespace)
        existing = self.by_namespace(namespace)
        if existing:
            return existing
        row = OrganisationRow(
            id=new_id(), name=name, namespace=namespace, allow_anonymous=allow_anonymous, created_at=utcnow()
        )
        try:
            with self.db.write() as s:
                s.add(row)
        except IntegrityError:
            pass  # another process created it first
        found = self.by_namespace(namespace)
        assert found is not None
        return found
