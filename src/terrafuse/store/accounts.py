"""Account repositories: users, memberships, sessions and login attempts.

Token lookups run on every authenticated request, so they are single Core statements. Only
SHA-256 hashes of tokens reach the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from terrafuse.core.accounts import NOTIFICATION_FIELDS, Membership, Privilege, User, privileges_text
from terrafuse.errors import Conflict
from terrafuse.store.db import Database
from terrafuse.store.tables import LoginAttemptRow, MembershipRow, SessionRow, UserRow

_U = UserRow.__table__
_M = MembershipRow.__table__
_S = SessionRow.__table__
_A = LoginAttemptRow.__table__

# Columns of a user, without the password hash (it leaves the store only through ``credentials``).
_USER_COLUMNS = [c for c in _U.c if c.name != "password_hash"]
_PLAIN_FIELDS = (
    "given_name",
    "family_name",
    "telephone",
    "role",
    "default_output_storage_period",
    "time_zone",
    "locale",
    "units",
)


def _to_user(row: Any) -> User:
    """Map an ORM or Core row (same attribute names) to the domain model."""
    notifications = row.notifications or {}
    return User(
        id=row.id,
        email=row.email,
        created_at=row.created_at,
        updated_at=row.updated_at,
        given_name=row.given_name,
        family_name=row.family_name,
        telephone=row.telephone,
        role=row.role,
        default_output_storage_period=row.default_output_storage_period,
        time_zone=row.time_zone,
        locale=row.locale,
        units=row.units,
        last_request_at=row.last_request_at,
        **{name: tuple(notifications.get(name, ())) for name in NOTIFICATION_FIELDS},
    )


def _to_membership(row: Any) -> Membership:
    names = [n for n in row.privileges.split(",") if n]
    return Membership(row.user_id, row.organisation_id, frozenset(Privilege(n) for n in names))


class Users:
    """Reads and writes user accounts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, user: User, password_hash: str) -> None:
        """Insert a new user; ``Conflict`` if the e-mail address is taken."""
        values = {name: getattr(user, name) for name in _PLAIN_FIELDS}
        try:
            with self.db.write_conn() as conn:
                conn.execute(
                    insert(_U).values(
                        id=user.id,
                        email=user.email,
                        password_hash=password_hash,
                        notifications={name: list(getattr(user, name)) for name in NOTIFICATION_FIELDS},
                        created_at=user.created_at,
                        updated_at=user.updated_at,
                        last_request_at=user.last_request_at,
                        **values,
                    )
                )
        except IntegrityError:
            raise Conflict(f"a user with the e-mail address {user.email!r} already exists") from None

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""
        with self.db.read_conn() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(_U.c.id == user_id)).first()
        return _to_user(row) if row else None

    def by_email(self, email: str) -> User | None:
        """The user with this (normalised) e-mail address, if any."""
        with self.db.read_conn() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(_U.c.email == email)).first()
        return _to_user(row) if row else None

    def credentials(self, *, email: str | None = None, user_id: str | None = None) -> tuple[User, str] | None:
        """The user and their password hash, by e-mail address or id."""
        condition = _U.c.email == email if email is not None else _U.c.id == user_id
        with self.db.read_conn() as conn:
            row = conn.execute(select(_U).where(condition)).first()
        return (_to_user(row), row.password_hash) if row else None

    def list(self) -> list[User]:
        """All users, by e-mail address."""
        with self.db.read_conn() as conn:
            rows = conn.execute(select(*_USER_COLUMNS).order_by(_U.c.email)).all()
        return [_to_user(r) for r in rows]

    def set_password_hash(self, user_id: str, password_hash: str, now: datetime | None = None) -> None:
        """Replace the password hash (``now`` also marks the account updated)."""
        values: dict[str, Any] = {"password_hash": password_hash}
        if now is not None:
            values["updated_at"] = now
        with self.db.write_conn() as conn:
            conn.execute(update(_U).where(_U.c.id == user_id).values(**values))

    def update(self, user_id: str, changes: Mapping[str, Any], now: datetime) -> User | None:
        """Apply already-validated ``changes``; the user afterwards (None if gone)."""
        values = {k: v for k, v in changes.items() if k in _PLAIN_FIELDS}
        notify = {k: list(v) for k, v in changes.items() if k in NOTIFICATION_FIELDS}
        with self.db.write_conn() as conn:
            if notify:
                current = conn.execute(select(_U.c.notifications).where(_U.c.id == user_id)).scalar()
                values["notifications"] = {**(current or {}), **notify}
            if values:
                conn.execute(update(_U).where(_U.c.id == user_id).values(updated_at=now, **values))
        return self.get(user_id)

    def touch(self, user_id: str, now: datetime, not_since: datetime) -> None:
        """Set ``last_request_at`` unless it is already newer than ``not_since`` (so several
        servers write it at most once per interval)."""
        with self.db.write_conn() as conn:
            conn.execute(
                update(_U)
                .where(
                    _U.c.id == user_id, or_(_U.c.last_request_at.is_(None), _U.c.last_request_at < not_since)
                )
                .values(last_request_at=now)
            )

    def delete(self, user_id: str) -> bool:
        """Delete the user (their sessions and memberships go with them)."""
        with self.db.write_conn() as conn:
            return conn.execute(delete(_U).where(_U.c.id == user_id)).rowcount == 1


class Memberships:
    """Which users belong to which organisations, with which privileges."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, user_id: str, organisation_id: str, privileges: Iterable[Privilege], now: datetime) -> bool:
        """Make the user a member with exactly these privileges; True if newly added."""
        text = privileges_text(privileges)
        with self.db.write_conn() as conn:
            changed = conn.execute(
                update(_M)
                .where(_M.c.user_id == user_id, _M.c.organisation_id == organisation_id)
                .values(privileges=text)
            ).rowcount
            if changed:
                return False
            conn.execute(
                insert(_M).values(
                    user_id=user_id, organisation_id=organisation_id, privileges=text, created_at=now
                )
            )
            return True

    def get(self, user_id: str, organisation_id: str) -> Membership | None:
        """The user's membership in the organisation, if any."""
        with self.db.read_conn() as conn:
            row = conn.execute(
                select(_M).where(_M.c.user_id == user_id, _M.c.organisation_id == organisation_id)
            ).first()
        return _to_membership(row) if row else None

    def for_user(self, user_id: str) -> list[Membership]:
        """The user's memberships, oldest first."""
        with self.db.read_conn() as conn:
            rows = conn.execute(
                select(_M).where(_M.c.user_id == user_id).order_by(_M.c.created_at, _M.c.organisation_id)
            ).all()
        return [_to_membership(r) for r in rows]

    def for_organisation(self, organisation_id: str) -> list[tuple[Membership, str]]:
        """The organisation's memberships with each member's e-mail address."""
        with self.db.read_conn() as conn:
            rows = conn.execute(
                select(_M, _U.c.email)
                .join(_U, _U.c.id == _M.c.user_id)
                .where(_M.c.organisation_id == organisation_id)
                .order_by(_U.c.email)
            ).all()
        return [(_to_membership(r), r.email) for r in rows]

    def remove(self, user_id: str, organisation_id: str) -> bool:
        """End a membership; False if there was none."""
        with self.db.write_conn() as conn:
            return (
                conn.execute(
                    delete(_M).where(_M.c.user_id == user_id, _M.c.organisation_id == organisation_id)
                ).rowcount
                == 1
            )


@dataclass(frozen=True)
class SessionGrant:
    """A live session found by its token: the session id and its user."""

    session_id: str
    user: User
    expires_at: datetime


class Sessions:
    """Signed-in sessions, found by the hash of their access token."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        session_id: str,
        user_id: str,
        token_hash: str,
        refresh_token_hash: str | None,
        created_at: datetime,
        expires_at: datetime,
        client_address: str | None,
    ) -> None:
        """Record a new session; the user's sessions that expired are dropped on the way."""
        with self.db.write_conn() as conn:
            conn.execute(delete(_S).where(_S.c.user_id == user_id, _S.c.expires_at < created_at))
            conn.execute(
                insert(_S).values(
                    id=session_id,
                    user_id=user_id,
                    token_hash=token_hash,
                    refresh_token_hash=refresh_token_hash,
                    created_at=created_at,
                    expires_at=expires_at,
                    client_address=client_address[:64] if client_address else None,
                )
            )

    def active(self, token_hash: str, now: datetime) -> SessionGrant | None:
        """The live (not expired, not revoked) session with this token hash, and its user."""
        query = (
            select(_S.c.id.label("session_id"), _S.c.expires_at.label("session_expires_at"), *_USER_COLUMNS)
            .join(_U, _U.c.id == _S.c.user_id)
            .where(_S.c.token_hash == token_hash, _S.c.revoked_at.is_(None), _S.c.expires_at > now)
        )
        with self.db.read_conn() as conn:
            row = conn.execute(query).first()
        return SessionGrant(row.session_id, _to_user(row), row.session_expires_at) if row else None

    def revoke(self, session_id: str, now: datetime) -> bool:
        """End one session; False if it was already ended."""
        with self.db.write_conn() as conn:
            return (
                conn.execute(
                    update(_S).where(_S.c.id == session_id, _S.c.revoked_at.is_(None)).values(revoked_at=now)
                ).rowcount
                == 1
            )

    def revoke_all(self, user_id: str, now: datetime, keep: str | None = None) -> int:
        """End all the user's live sessions except ``keep``; how many were ended."""
        conditions = [_S.c.user_id == user_id, _S.c.revoked_at.is_(None), _S.c.expires_at > now]
        if keep is not None:
            conditions.append(_S.c.id != keep)
        with self.db.write_conn() as conn:
            return conn.execute(update(_S).where(and_(*conditions)).values(revoked_at=now)).rowcount


class LoginAttempts:
    """Sign-in attempts per key, kept for one throttling window (shared by all servers)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def recent_failures(self, key: str, since: datetime, limit: int) -> list[datetime]:
        """Times of the newest ``limit`` failures under ``key`` after ``since`` and after the
        key's last success (a success resets the count), newest first."""
        last_success = (
            select(func.max(_A.c.attempted_at)).where(_A.c.key == key, _A.c.success.is_(True))
        ).scalar_subquery()
        query = (
            select(_A.c.attempted_at)
            .where(
                _A.c.key == key,
                _A.c.success.is_(False),
                _A.c.attempted_at > since,
                or_(last_success.is_(None), _A.c.attempted_at > last_success),
            )
            .order_by(_A.c.attempted_at.desc())
            .limit(limit)
        )
        with self.db.read_conn() as conn:
            return list(conn.execute(query).scalars())

    def record(self, keys: Iterable[str], at: datetime, success: bool, forget_before: datetime) -> None:
        """Record an attempt under each key, and forget the keys' attempts older than the window."""
        keys = list(keys)
        if not keys:
            return
        with self.db.write_conn() as conn:
            conn.execute(delete(_A).where(_A.c.key.in_(keys), _A.c.attempted_at < forget_before))
            conn.execute(insert(_A), [{"key": k, "attempted_at": at, "success": success} for k in keys])
