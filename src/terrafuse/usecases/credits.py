"""Credit use cases: buying credits, the daily storage charge, finding who has run out.

Executions and uploads hold and settle credits through the repository's ``reserve`` /
``settle`` / ``release`` in their own use cases (ideally in the transaction that writes them).
:func:`balance` is what members see; the other functions are the operator's (admin CLI, daily
jobs) and trust their caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from terrafuse.core.accounts import Principal
from terrafuse.core.credits import (
    Balance,
    Entry,
    EntryKind,
    positive_credits,
    storage_charge,
    storage_reference,
)
from terrafuse.errors import NotFound
from terrafuse.store.credits import Credits
from terrafuse.usecases.accounts import require


@dataclass(frozen=True)
class StorageRun:
    """What one run of the daily storage charge did."""

    day: str
    charged: tuple[Entry, ...]
    already_charged: tuple[str, ...]  # organisations charged earlier the same day
    free: tuple[str, ...]  # organisations storing nothing billable


def balance(
    credits: Credits, principal: Principal, organisation_id: str, credit_id: str | None = None
) -> Balance:
    """An organisation's credits, for any of its members (others get ``NotFound``, as if it did
    not exist). The credit record's id is the organisation's id; ``credit_id`` must match it."""
    require(principal, organisation_id)
    if credit_id is not None and credit_id != organisation_id:
        raise NotFound(f"no credit record with id {credit_id!r}")
    return credits.balance(organisation_id)


def purchase(
    credits: Credits,
    organisation_id: str,
    amount: Decimal | int | str,
    reference: str | None = None,
    note: str | None = None,
) -> Entry | None:
    """Add bought credits. With a ``reference`` (payment id) a repeated call adds nothing (None)."""
    return credits.add(organisation_id, EntryKind.PURCHASE, positive_credits(amount), reference, note)


def charge_storage_daily(
    credits: Credits,
    stored_bytes: Callable[[str], int],
    rate_per_gb_day: Decimal,
    now: datetime,
) -> StorageRun:
    """Charge every organisation one day of storage for the bytes it holds now.

    The day is ``now``'s UTC date and is the charge's reference, so running this twice on the
    same day charges once (and two servers running it together charge once). Days on which it
    did not run are not charged afterwards: stored bytes are only known for "now". A charge may
    take a balance below zero; :func:`organisations_out_of_credits` then lists the organisation.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime given to the storage charge")
    day = now.astimezone(UTC).date()
    reference = storage_reference(day)
    charged: list[Entry] = []
    already: list[str] = []
    free: list[str] = []
    for org in credits.organisation_ids():
        nbytes = stored_bytes(org)
        amount = storage_charge(nbytes, rate_per_gb_day)
        if amount <= 0:
            free.append(org)
            continue
        note = f"storage {day.isoformat()}: {nbytes} bytes at {rate_per_gb_day} credits/GB/day"
        entry = credits.add(org, EntryKind.STORAGE_CHARGE, amount, reference, note, at=now)
        if entry is None:
            already.append(org)
        else:
            charged.append(entry)
    return StorageRun(day.isoformat(), tuple(charged), tuple(already), tuple(free))


def organisations_out_of_credits(credits: Credits) -> list[str]:
    """Ids of organisations with no spendable credits (balance zero or below)."""
    return credits.out_of_credits()
