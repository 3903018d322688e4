"""Credits: ledger entry kinds, amounts, balances and the storage price. Pure rules, no I/O.

Amounts
    Credits are :class:`~decimal.Decimal` with :data:`CREDIT_PLACES` (6) decimal places, never
    floats (0.1 + 0.2 must be 0.3). Every amount entering the ledger goes through
    :func:`to_credits`, which quantises with ``ROUND_HALF_UP`` (how people round prices by hand)
    and refuses floats, NaN and amounts of :data:`MAX_CREDITS` or more (SQLite stores credits as
    64-bit integer micro-credits, which end near 9.2e12 credits).

The ledger
    Every change of an organisation's credits is one entry; ``amount`` is *signed*: its effect on
    the **available** balance (the credits that can still be spent). Callers pass magnitudes and
    the kind gives the sign:

    - ``purchase`` (+): credits bought;
    - ``refund`` (+): credits given back after a charge (e.g. a failed execution);
    - ``reservation`` (-): credits held for running work (an execution, an upload);
    - ``release`` (+): a hold lifted (when it is settled, or when the work is abandoned);
    - ``execution_charge`` (-): the actual price of an execution;
    - ``storage_charge`` (-): one day of stored bytes (may take the balance below zero).

    Settling a hold of ``x`` with an actual price ``a`` writes ``release +x`` and
    ``execution_charge -a`` in one transaction: the net effect is ``-a``, never more than the
    hold (the quoted price is a ceiling). So at all times:

    * available balance = sum of all entries' amounts;
    * credits held = -(sum of reservation and release amounts) = sum of the open holds;
    * spend = -(sum of execution_charge, storage_charge and refund amounts).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from terrafuse.errors import InvalidInput

CREDIT_PLACES = 6
QUANTUM = Decimal(1).scaleb(-CREDIT_PLACES)  # Decimal("0.000001")
MAX_CREDITS = Decimal(10) ** 12
ZERO = Decimal(0).quantize(QUANTUM)
# Storage is billed per decimal gigabyte (10^9 bytes), as object stores bill it.
BYTES_PER_GB = Decimal(10) ** 9


class EntryKind(enum.StrEnum):
    """What a ledger entry records."""

    PURCHASE = "purchase"
    EXECUTION_CHARGE = "execution_charge"
    STORAGE_CHARGE = "storage_charge"
    REFUND = "refund"
    RESERVATION = "reservation"
    RELEASE = "release"

    @property
    def sign(self) -> int:
        """+1 when the entry adds to the available balance, -1 when it takes from it."""
        return 1 if self in _CREDITING else -1


_CREDITING = frozenset({EntryKind.PURCHASE, EntryKind.REFUND, EntryKind.RELEASE})
# Kinds whose sum (negated) is the organisation's spend.
SPEND_KINDS = frozenset({EntryKind.EXECUTION_CHARGE, EntryKind.STORAGE_CHARGE, EntryKind.REFUND})
# Kinds written directly; holds go through reserve/settle/release so they stay paired.
DIRECT_KINDS = frozenset(
    {EntryKind.PURCHASE, EntryKind.REFUND, EntryKind.EXECUTION_CHARGE, EntryKind.STORAGE_CHARGE}
)


def to_credits(value: Decimal | int | str) -> Decimal:
    """``value`` as credits: a Decimal with exactly 6 places (``ROUND_HALF_UP``).

    Floats are refused: by the time a float exists, 0.1 is already 0.1000000000000000055511.
    """
    if isinstance(value, bool | float):
        raise TypeError(f"credits must be Decimal, int or str, not {type(value).__name__}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"{value!r} is not a number of credits") from exc
    if not number.is_finite():
        raise InvalidInput(f"{value!r} is not a number of credits")
    quantised = number.quantize(QUANTUM, rounding=ROUND_HALF_UP)
    if abs(quantised) >= MAX_CREDITS:
        raise InvalidInput(f"{value} credits is more than the ledger holds ({MAX_CREDITS})")
    return quantised


def positive_credits(value: Decimal | int | str) -> Decimal:
    """``value`` as credits, which must be more than zero (after rounding)."""
    amount = to_credits(value)
    if amount <= 0:
        raise InvalidInput(f"an amount of credits must be positive, not {amount}")
    return amount


def signed_amount(kind: EntryKind, magnitude: Decimal) -> Decimal:
    """The entry amount (effect on the available balance) for a positive ``magnitude``."""
    return magnitude if kind.sign > 0 else -magnitude


def storage_charge(stored_bytes: int, rate_per_gb_day: Decimal, days: int = 1) -> Decimal:
    """Credits for keeping ``stored_bytes`` for ``days`` days at ``rate_per_gb_day``."""
    if stored_bytes < 0 or days < 0:
        raise ValueError("stored bytes and days cannot be negative")
    return to_credits(Decimal(stored_bytes) / BYTES_PER_GB * to_credits(rate_per_gb_day) * days)


def storage_reference(day: date) -> str:
    """The reference of an organisation's storage charge for ``day`` (one charge per day)."""
    return f"storage:{day.isoformat()}"


def month_start(when: datetime) -> datetime:
    """The first instant (UTC) of the month containing ``when``."""
    when = when.astimezone(UTC)
    return datetime(when.year, when.month, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """One ledger entry; ``amount`` is signed (see the module notes)."""

    id: int
    organisation_id: str
    kind: EntryKind
    amount: Decimal
    reference: str | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class MonthlySpend:
    """Credits spent in one calendar month (Fusion ``Credit.spend`` item)."""

    month: datetime
    credits: Decimal


@dataclass(frozen=True)
class Settlement:
    """The outcome of settling a hold: what was charged and what went back."""

    reference: str
    organisation_id: str
    charged: Decimal
    released: Decimal


@dataclass(frozen=True)
class Balance:
    """An organisation's credits, shaped like the Fusion SDK's ``Credit`` model.

    * ``any_credits``: the available balance, i.e. the sum of all entries. It can be below zero
      only through storage charges (storage is billed for bytes already kept).
    * ``reserved``: credits held by running work (terrafuse's own field; the SDK ignores it).
    * ``cloud_storage_credits``, ``registry_storage_credits``, ``runtime_any_credits`` and
      ``runtime_ssds``: Fusion's purpose-restricted credit pools. terrafuse sells only
      general-purpose credits, so these are always zero / empty.
    * ``spend``: per calendar month, charges minus refunds (oldest month first).
    * ``id`` is the organisation id (the SDK fetches ``credits/{organisation_id}``).
    """

    organisation_id: str
    any_credits: Decimal
    reserved: Decimal
    created_at: datetime
    updated_at: datetime
    spend: tuple[MonthlySpend, ...] = ()
    cloud_storage_credits: Decimal = ZERO
    registry_storage_credits: Decimal = ZERO
    runtime_any_credits: Decimal = ZERO
    runtime_ssds: tuple[dict[str, object], ...] = ()

    @property
    def id(self) -> str:
        """The credit record's id: the organisation's id."""
        return self.organisation_id

    @property
    def total(self) -> Decimal:
        """Available plus held credits."""
        return self.any_credits + self.reserved


def monthly_spend(entries: Iterable[tuple[datetime, EntryKind, Decimal]]) -> tuple[MonthlySpend, ...]:
    """Group ``(created_at, kind, amount)`` entries into spend per month, oldest first."""
    months: dict[datetime, Decimal] = defaultdict(lambda: ZERO)
    for created_at, kind, amount in entries:
        if kind in SPEND_KINDS:
            months[month_start(created_at)] -= amount
    return tuple(MonthlySpend(month, total) for month, total in sorted(months.items()))


@dataclass(frozen=True)
class DeletionSchedule:
    """An organisation's stored files, due for deletion after ``delete_after`` (out of credits).

    Active while neither cancelled (credits came back, or nothing is stored any more) nor done.
    """

    organisation_id: str
    scheduled_at: datetime
    delete_after: datetime
    notified_at: datetime | None = None
    cancelled_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the files are still due for deletion."""
        return self.cancelled_at is None and self.deleted_at is None
