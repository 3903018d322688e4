"""Organisation repository."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.organisations import (
    ORGANISATION_ADMIN_FIELDS,
    Organisation,
    check_name,
    check_namespace,
    check_organisation_changes,
)
from terrafuse.errors import Conflict
from terrafuse.store.db import Database
from terrafuse.store.tables import MembershipRow, OrganisationRow

_GIVEN = ("name", "allow_anonymous")  # arguments of ``create`` of their own


def _to_model(row: OrganisationRow) -> Organisation:
    return Organisation(
        id=row.id,
        name=row.name,
        namespace=row.namespace,
        allow_anonymous=row.allow_anonymous,
        created_at=row.created_at,
        updated_at=row.updated_at or row.created_at,
        address_line_1=row.address_line_1 or "",
        address_line_2=row.address_line_2,
        address_town_city=row.address_town_city or "",
        address_post_zip_code=row.address_post_zip_code or "",
        address_country=row.address_country or "",
        maximum_output_storage_period=row.maximum_output_storage_period,
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

    def by_name(self, name: str) -> list[Organisation]:
        """Organisations with exactly this name (names are not unique)."""
        with self.db.read() as s:
            rows = s.scalars(select(OrganisationRow).where(OrganisationRow.name == name))
            return [_to_model(r) for r in rows]

    def list(self) -> list[Organisation]:
        """All organisations, by namespace."""
        with self.db.read() as s:
            return [
                _to_model(r) for r in s.scalars(select(OrganisationRow).order_by(OrganisationRow.namespace))
            ]

    def list_for_user(self, user_id: str) -> list[Organisation]:
        """The organisations the user is a member of, oldest membership first."""
        query = (
            select(OrganisationRow)
            .join(MembershipRow, MembershipRow.organisation_id == OrganisationRow.id)
            .where(MembershipRow.user_id == user_id)
            .order_by(MembershipRow.created_at, OrganisationRow.id)
        )
        with self.db.read() as s:
            return [_to_model(r) for r in s.scalars(query)]

    def create(self, name: str, namespace: str, allow_anonymous: bool = False, **fields: Any) -> Organisation:
        """A new organisation; ``Conflict`` if the namespace is taken."""
        check_namespace(namespace)
        now = utcnow()
        row = OrganisationRow(
            id=new_id(),
            name=check_name(name),
            namespace=namespace,
            allow_anonymous=allow_anonymous,
            created_at=now,
            updated_at=now,
            **{k: v for k, v in check_organisation_changes(fields, admin=True).items() if k not in _GIVEN},
        )
        try:
            with self.db.write() as s:
                s.add(row)
        except IntegrityError:
            raise Conflict(f"the namespace {namespace!r} is already taken") from None
        return _to_model(row)

    def ensure(self, name: str, namespace: str, allow_anonymous: bool) -> Organisation:
        """Return the organisation with ``namespace``, creating it if needed (idempotent, race-safe)."""
        check_namespace(namespace)
        existing = self.by_namespace(namespace)
        if existing:
            return existing
        try:
            return self.create(name, namespace, allow_anonymous)
        except Conflict:
            pass  # another process created it first
        found = self.by_namespace(namespace)
        assert found is not None
        return found

    def update(self, organisation_id: str, changes: Mapping[str, Any]) -> Organisation | None:
        """Apply already-validated ``changes``; the organisation afterwards (None if it is gone)."""
        values = _columns(changes)
        if values:
            values["updated_at"] = utcnow()
            with self.db.write_conn() as conn:
                conn.execute(
                    update(OrganisationRow).where(OrganisationRow.id == organisation_id).values(**values)
                )
        return self.by_id(organisation_id)

    def delete(self, organisation_id: str) -> bool:
        """Delete the organisation and, by cascade, what it owns; False if it did not exist."""
        with self.db.write_conn() as conn:
            result = conn.execute(delete(OrganisationRow).where(OrganisationRow.id == organisation_id))
            return result.rowcount == 1


def _columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The column values among ``fields`` (only the columns a caller may set)."""
    return {k: v for k, v in fields.items() if k in ORGANISATION_ADMIN_FIELDS}
