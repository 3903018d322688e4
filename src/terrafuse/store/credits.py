"""Credit repository: accounts, open holds and the ledger (the only place that knows their SQL).

Atomicity
    Each organisation has one ``credit_accounts`` row holding its available balance. Spending
    is the conditional ``UPDATE credit_accounts SET balance = balance - :x WHERE organisation_id
    = :o AND balance >= :x``: on PostgreSQL the UPDATE takes the row lock and a concurrent UPDATE
    re-checks ``balance >= :x`` against the committed row once it gets the lock (READ
    COMMITTED); on SQLite every write transaction starts with ``BEGIN IMMEDIATE``, so writers run
    one at a time. Either way two servers can never both spend the last credit. The ledger entry
    and the hold are written in the same transaction as the balance change.

Idempotency
    An open reservation is a ``credit_holds`` row. ``settle``/``release`` start with ``DELETE
    ... RETURNING``: only the caller whose DELETE found the row writes entries, so settling twice
    charges once. ``(organisation, kind, reference)`` is unique in ``credit_entries``, so a
    storage day, a purchase reference or an execution is never counted twice either.

Every method that writes accepts an optional ``conn`` to join the caller's transaction (e.g. to
reserve credits together with writing an execution); without it, each call commits on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Table, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from terrafuse.core.clock import utcnow
from terrafuse.core.credits import (
    DIRECT_KINDS,
    SPEND_KINDS,
    ZERO,
    Balance,
    Entry,
    EntryKind,
    Settlement,
    month_start,
    monthly_spend,
    positive_credits,
    signed_amount,
    to_credits,
)
from terrafuse.errors import Conflict, InvalidInput, NotFound
from terrafuse.store.db import Database
from terrafuse.store.tables import (
    CreditAccountRow,
    CreditAmount,
    CreditEntryRow,
    CreditHoldRow,
    OrganisationRow,
)

_A = CreditAccountRow.__table__
_H = CreditHoldRow.__table__
_E = CreditEntryRow.__table__
_O = OrganisationRow.__table__


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT (both offer ``on_conflict_do_nothing``)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"credits are not implemented for {conn.dialect.name}")


def _zero() -> ColumnElement[Decimal]:
    """Zero credits as a typed SQL literal (integer micro-credits on SQLite, like the columns)."""
    return literal(ZERO, CreditAmount())


def _to_entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        organisation_id=row.organisation_id,
        kind=EntryKind(row.kind),
        amount=row.amount,
        reference=row.reference,
        note=row.note,
        created_at=row.created_at,
    )


def _months_back(now: datetime, months: int) -> datetime:
    """The start of the month ``months - 1`` months before ``now``'s month."""
    start = month_start(now)
    index = start.year * 12 + start.month - 1 - (months - 1)
    return start.replace(year=index // 12, month=index % 12 + 1)


class Credits:
    """Reads and writes organisations' credits."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.db.write_conn() as own:
            yield own

    # -- writes ---------------------------------------------------------------------------
    def add(
        self,
        organisation_id: str,
        kind: EntryKind | str,
        amount: Decimal | int | str,
        reference: str | None = None,
        note: str | None = None,
        at: datetime | None = None,
        conn: Connection | None = None,
    ) -> Entry | None:
        """Record a purchase, refund or charge of ``amount`` (> 0; the kind gives the sign).

        Charges are applied even when they take the balance below zero (storage is billed for
        bytes already kept); spending that must be covered goes through :meth:`reserve`.
        Returns None, changing nothing, when ``reference`` already has an entry of this kind.
        """
        kind = EntryKind(kind)
        if kind not in DIRECT_KINDS:
            raise InvalidInput(f"{kind} entries are written by reserve, settle and release")
        delta = signed_amount(kind, positive_credits(amount))
        now = at or utcnow()
        with self._tx(conn) as c:
            self._ensure_account(c, organisation_id, now)
            entry = self._entry(c, organisation_id, kind, delta, reference, note, now)
            if entry is not None:
                self._move(c, organisation_id, delta, now)
            return entry

    def reserve(
        self,
        organisation_id: str,
        amount: Decimal | int | str,
        reference: str,
        note: str | None = None,
        conn: Connection | None = None,
    ) -> bool:
        """Hold ``amount`` credits for the work ``reference``; False if the balance is too low.

        Atomic: concurrent calls (threads, servers) never take the balance below zero. Calling
        again for a reference that is still held returns True without holding more; a
        reference whose hold was already settled or released cannot be reused (Conflict; with
        ``conn``, the caller's transaction must then be rolled back).
        """
        amount = positive_credits(amount)
        now = utcnow()
        with self._tx(conn) as c:
            taken = c.execute(
                update(_A)
                .where(_A.c.organisation_id == organisation_id, _A.c.balance >= amount)
                .values(balance=_A.c.balance - amount, updated_at=now)
            ).rowcount
            if taken != 1:
                return self._held(c, organisation_id, amount, reference)
            held = c.execute(
                _insert(c, _H)
                .values(reference=reference, organisation_id=organisation_id, amount=amount, created_at=now)
                .on_conflict_do_nothing(index_elements=["reference"])
                .returning(_H.c.reference)  # (rowcount of an INSERT is not reliable on psycopg)
            ).first()
            if held is None:  # already held: give the credits back within this same transaction
                self._move(c, organisation_id, amount, now)
                return self._held(c, organisation_id, amount, reference)
            if self._entry(c, organisation_id, EntryKind.RESERVATION, -amount, reference, note, now) is None:
                raise Conflict(f"credit reference {reference!r} was already settled or released")
            return True

    def settle(
        self,
        reference: str,
        actual_amount: Decimal | int | str,
        note: str | None = None,
        conn: Connection | None = None,
    ) -> Settlement | None:
        """Close the hold ``reference``: charge ``actual_amount`` (at most the hold), release the rest.

        Idempotent: returns None, changing nothing, if the hold was already settled or released;
        NotFound if ``reference`` never held credits.
        """
        actual = to_credits(actual_amount)
        if actual < 0:
            raise InvalidInput(f"an execution cannot cost {actual} credits")
        now = utcnow()
        with self._tx(conn) as c:
            hold = self._take_hold(c, reference)
            if hold is None:
                return None
            org, amount = hold
            self._entry(c, org, EntryKind.RELEASE, amount, reference, note, now)
            charged = min(actual, amount)
            # An execution charged directly before (add) is not charged again.
            if (
                charged > 0
                and self._entry(c, org, EntryKind.EXECUTION_CHARGE, -charged, reference, note, now) is None
            ):
                charged = ZERO
            self._move(c, org, amount - charged, now)
        return Settlement(
            reference=reference, organisation_id=org, charged=charged, released=amount - charged
        )

    def release(
        self, reference: str, note: str | None = None, conn: Connection | None = None
    ) -> Decimal | None:
        """Lift the hold ``reference`` without charging; the released amount, or None if not held."""
        now = utcnow()
        with self._tx(conn) as c:
            hold = self._take_hold(c, reference, must_exist=False)
            if hold is None:
                return None
            org, amount = hold
            self._entry(c, org, EntryKind.RELEASE, amount, reference, note, now)
            self._move(c, org, amount, now)
        return amount

    # -- reads ----------------------------------------------------------------------------
    def balance(self, organisation_id: str, months: int = 12, now: datetime | None = None) -> Balance:
        """The organisation's credits, with spend for the last ``months`` calendar months."""
        if months < 1:
            raise ValueError("spend covers at least one month")
        now = now or utcnow()
        with self.db.read_conn() as c:
            if c.dialect.name == "postgresql":
                # One snapshot: the balance and the holds are changed together.
                c.execution_options(isolation_level="REPEATABLE READ")
            org_created = c.execute(select(_O.c.created_at).where(_O.c.id == organisation_id)).scalar()
            if org_created is None:
                raise NotFound(f"no organisation {organisation_id!r}")
            account = c.execute(select(_A).where(_A.c.organisation_id == organisation_id)).first()
            reserved = c.execute(
                select(func.coalesce(func.sum(_H.c.amount), _zero())).where(
                    _H.c.organisation_id == organisation_id
                )
            ).scalar_one()
            spend = c.execute(
                select(_E.c.created_at, _E.c.kind, _E.c.amount).where(
                    _E.c.organisation_id == organisation_id,
                    _E.c.kind.in_([k.value for k in SPEND_KINDS]),
                    _E.c.created_at >= _months_back(now, months),
                )
            ).all()
        return Balance(
            organisation_id=organisation_id,
            any_credits=account.balance if account else ZERO,
            reserved=to_credits(reserved),
            created_at=account.created_at if account else org_created,
            updated_at=account.updated_at if account else org_created,
            spend=monthly_spend((r.created_at, EntryKind(r.kind), r.amount) for r in spend),
        )

    def entries(
        self,
        organisation_id: str,
        kinds: Iterable[EntryKind | str] | None = None,
        reference: str | None = None,
    ) -> list[Entry]:
        """The organisation's ledger entries, oldest first (optionally of some kinds / one reference)."""
        query = select(_E).where(_E.c.organisation_id == organisation_id).order_by(_E.c.id)
        if kinds is not None:
            query = query.where(_E.c.kind.in_([EntryKind(k).value for k in kinds]))
        if reference is not None:
            query = query.where(_E.c.reference == reference)
        with self.db.read_conn() as c:
            return [_to_entry(r) for r in c.execute(query)]

    def ledger_sum(self, organisation_id: str) -> Decimal:
        """The sum of all entries (equals the available balance; for audits and tests)."""
        with self.db.read_conn() as c:
            total = c.execute(
                select(func.coalesce(func.sum(_E.c.amount), _zero())).where(
                    _E.c.organisation_id == organisation_id
                )
            ).scalar_one()
        return to_credits(total)

    def organisation_ids(self) -> list[str]:
        """Every organisation's id (the daily storage charge walks them)."""
        with self.db.read_conn() as c:
            return list(c.execute(select(_O.c.id).order_by(_O.c.id)).scalars())

    def out_of_credits(self) -> list[str]:
        """Ids of organisations whose available balance is zero or less (never funded included)."""
        query = (
            select(_O.c.id)
            .select_from(_O.outerjoin(_A, _A.c.organisation_id == _O.c.id))
            .where(func.coalesce(_A.c.balance, _zero()) <= _zero())
            .order_by(_O.c.id)
        )
        with self.db.read_conn() as c:
            return list(c.execute(query).scalars())

    # -- internals ------------------------------------------------------------------------
    def _ensure_account(self, c: Connection, organisation_id: str, now: datetime) -> None:
        if c.execute(select(_A.c.organisation_id).where(_A.c.organisation_id == organisation_id)).first():
            return
        if c.execute(select(_O.c.id).where(_O.c.id == organisation_id)).first() is None:
            raise NotFound(f"no organisation {organisation_id!r}")
        stmt: Insert = _insert(c, _A).values(
            organisation_id=organisation_id, balance=ZERO, created_at=now, updated_at=now
        )
        c.execute(stmt.on_conflict_do_nothing(index_elements=["organisation_id"]))  # type: ignore[attr-defined]

    def _entry(
        self,
        c: Connection,
        organisation_id: str,
        kind: EntryKind,
        amount: Decimal,
        reference: str | None,
        note: str | None,
        now: datetime,
    ) -> Entry | None:
        """Insert an entry; None if (organisation, kind, reference) already has one."""
        values = {
            "organisation_id": organisation_id,
            "kind": kind.value,
            "amount": amount,
            "reference": reference,
            "note": note,
            "created_at": now,
        }
        new_id = c.execute(
            _insert(c, _E)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["organisation_id", "kind", "reference"])
            .returning(_E.c.id)
        ).scalar()
        if new_id is None:
            return None
        return Entry(id=new_id, **{**values, "kind": kind})

    def _move(self, c: Connection, organisation_id: str, delta: Decimal, now: datetime) -> None:
        c.execute(
            update(_A)
            .where(_A.c.organisation_id == organisation_id)
            .values(balance=_A.c.balance + delta, updated_at=now)
        )

    def _take_hold(
        self, c: Connection, reference: str, must_exist: bool = True
    ) -> tuple[str, Decimal] | None:
        """Delete the hold and return (organisation, amount); None if it is already closed."""
        row = c.execute(
            delete(_H).where(_H.c.reference == reference).returning(_H.c.organisation_id, _H.c.amount)
        ).first()
        if row is not None:
            return row.organisation_id, row.amount
        if must_exist and not self._was_reserved(c, reference):
            raise NotFound(f"no credit reservation {reference!r}")
        return None

    def _was_reserved(self, c: Connection, reference: str) -> bool:
        query = select(_E.c.id).where(_E.c.kind == EntryKind.RESERVATION.value, _E.c.reference == reference)
        return c.execute(query.limit(1)).first() is not None

    def _held(self, c: Connection, organisation_id: str, amount: Decimal, reference: str) -> bool:
        """Whether ``reference`` already holds ``amount`` for this organisation (a repeated reserve)."""
        row = c.execute(select(_H).where(_H.c.reference == reference)).first()
        if row is None:
            return False
        if row.organisation_id != organisation_id or row.amount != amount:
            raise Conflict(f"credit reference {reference!r} already holds a different reservation")
        return True
