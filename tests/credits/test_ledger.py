"""The credit ledger on SQLite and PostgreSQL: exact sums, holds, settlement, balances, storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.credits import EntryKind
from terrafuse.errors import Conflict, InvalidInput, NotFound
from terrafuse.store.credits import Credits
from terrafuse.store.db import Database
from terrafuse.usecases import credits as usecases

D = Decimal


def test_migration_creates_the_ledger_tables(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"credit_accounts", "credit_holds", "credit_entries"} <= tables


def test_sums_are_exact_in_the_database(credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, "0.1")
    credits.add(org, EntryKind.PURCHASE, "0.2")
    assert credits.balance(org).any_credits == D("0.3")
    assert credits.reserve(org, "0.3", "all-of-it")
    assert credits.balance(org).any_credits == 0
    assert not credits.reserve(org, "0.000001", "one-more")
    credits.add(org, EntryKind.PURCHASE, "999999999.999999")
    credits.add(org, EntryKind.PURCHASE, "0.000001")
    assert credits.balance(org).any_credits == D("1000000000")
    assert credits.ledger_sum(org) == D("1000000000")
    for _ in range(10):
        credits.add(org, EntryKind.EXECUTION_CHARGE, "0.1")
    assert credits.balance(org).any_credits == D("999999999")


def test_reserve_needs_enough_credits_and_writes_nothing_otherwise(credits: Credits, org: str) -> None:
    assert not credits.reserve(org, 1, "no-account-yet")
    credits.add(org, EntryKind.PURCHASE, 5)
    assert not credits.reserve(org, "5.000001", "too-much")
    assert credits.entries(org) == credits.entries(org, kinds=[EntryKind.PURCHASE])
    assert credits.reserve(org, 5, "exactly")
    balance = credits.balance(org)
    assert (balance.any_credits, balance.reserved, balance.total) == (0, 5, 5)


def test_reserve_is_idempotent_per_reference(credits: Credits, org: str, other_org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 10)
    assert credits.reserve(org, 4, "exec-1")
    assert credits.reserve(org, 4, "exec-1")  # a retry holds nothing more
    assert credits.balance(org).any_credits == 6
    with pytest.raises(Conflict):
        credits.reserve(org, 3, "exec-1")
    with pytest.raises(Conflict):
        credits.reserve(other_org, 4, "exec-1")  # other org has no credits: still a conflict
    credits.settle("exec-1", 4)
    with pytest.raises(Conflict, match="already settled"):
        credits.reserve(org, 1, "exec-1")
    assert credits.balance(org).any_credits == 6


def test_settle_charges_the_actual_amount_and_releases_the_rest(credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 10)
    credits.reserve(org, "2.5", "exec-1")
    settlement = credits.settle("exec-1", "1.75", note="3 slices")
    assert settlement is not None
    assert (settlement.organisation_id, settlement.charged, settlement.released) == (
        org,
        D("1.75"),
        D("0.75"),
    )
    assert credits.settle("exec-1", "1.75") is None  # idempotent
    assert credits.settle("exec-1", "2") is None
    assert credits.release("exec-1") is None
    assert [(e.kind, e.amount) for e in credits.entries(org, reference="exec-1")] == [
        (EntryKind.RESERVATION, D("-2.5")),
        (EntryKind.RELEASE, D("2.5")),
        (EntryKind.EXECUTION_CHARGE, D("-1.75")),
    ]
    balance = credits.balance(org)
    assert (balance.any_credits, balance.reserved) == (D("8.25"), 0)
    assert credits.ledger_sum(org) == balance.any_credits


def test_settle_never_charges_more_than_the_hold(credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 10)
    credits.reserve(org, 2, "exec-1")
    settlement = credits.settle("exec-1", 3)
    assert settlement is not None and settlement.charged == 2 and settlement.released == 0
    credits.reserve(org, 2, "exec-2")
    free = credits.settle("exec-2", 0)
    assert free is not None and free.charged == 0 and free.released == 2
    assert credits.entries(org, kinds=[EntryKind.EXECUTION_CHARGE], reference="exec-2") == []
    assert credits.balance(org).any_credits == 8


def test_settle_does_not_charge_an_execution_charged_directly(credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 10)
    credits.reserve(org, 2, "exec-1")
    credits.add(org, EntryKind.EXECUTION_CHARGE, 1, reference="exec-1")
    settlement = credits.settle("exec-1", 2)
    assert settlement is not None and settlement.charged == 0
    assert credits.balance(org).any_credits == 9


def test_settle_refuses_unknown_references_and_negative_prices(credits: Credits, org: str) -> None:
    with pytest.raises(NotFound):
        credits.settle("never-reserved", 1)
    credits.add(org, EntryKind.PURCHASE, 1)
    credits.reserve(org, 1, "exec-1")
    with pytest.raises(InvalidInput):
        credits.settle("exec-1", -1)
    assert credits.balance(org).reserved == 1


def test_release_gives_everything_back_once(credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 3)
    credits.reserve(org, 2, "upload-1")
    assert credits.release("upload-1", note="upload abandoned") == 2
    assert credits.release("upload-1") is None
    assert credits.release("never-reserved") is None
    assert credits.settle("upload-1", 1) is None
    balance = credits.balance(org)
    assert (balance.any_credits, balance.reserved, balance.spend) == (3, 0, ())


def test_a_reservation_joins_the_callers_transaction(db: Database, credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 5)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.write_conn() as conn:
        assert credits.reserve(org, 5, "exec-1", conn=conn)
        raise Boom  # e.g. writing the execution failed: the hold must vanish with it
    assert credits.balance(org).any_credits == 5
    assert credits.entries(org, kinds=[EntryKind.RESERVATION]) == []


def test_add_rules(credits: Credits, org: str) -> None:
    with pytest.raises(InvalidInput):
        credits.add(org, EntryKind.RESERVATION, 1)
    with pytest.raises(InvalidInput):
        credits.add(org, "release", 1)
    with pytest.raises(ValueError):
        credits.add(org, "gift", 1)
    with pytest.raises(NotFound):
        credits.add(new_id(), EntryKind.PURCHASE, 1)
    first = credits.add(org, EntryKind.PURCHASE, 7, reference="payment-42", note="card")
    assert first is not None and first.amount == 7 and first.note == "card"
    assert first.created_at.tzinfo is not None
    assert credits.add(org, EntryKind.PURCHASE, 7, reference="payment-42") is None  # webhook retried
    assert credits.add(org, EntryKind.PURCHASE, 1) is not None  # no reference: never deduplicated
    assert credits.add(org, EntryKind.PURCHASE, 1) is not None
    credits.add(org, EntryKind.STORAGE_CHARGE, 10)  # storage may overdraw
    assert credits.balance(org).any_credits == -1


def test_balance_has_every_field_of_the_fusion_credit(credits: Credits, org: str) -> None:
    now = utcnow()
    this_month = datetime(now.year, now.month, 1, tzinfo=UTC)
    last_month = (this_month - timedelta(days=1)).replace(day=15)
    long_ago = this_month - timedelta(days=800)
    credits.add(org, EntryKind.PURCHASE, 100, at=long_ago)
    credits.add(org, EntryKind.EXECUTION_CHARGE, 9, reference="ancient", at=long_ago)
    credits.add(org, EntryKind.STORAGE_CHARGE, "0.25", reference="storage:x", at=last_month)
    credits.add(org, EntryKind.EXECUTION_CHARGE, 2, reference="exec-0", at=now)
    credits.add(org, EntryKind.REFUND, "0.5", reference="exec-0", at=now)
    credits.reserve(org, 3, "exec-1")
    balance = credits.balance(org, now=now)
    assert balance.id == balance.organisation_id == org
    assert balance.any_credits == D("86.25")
    assert balance.reserved == 3
    assert (
        balance.cloud_storage_credits == balance.registry_storage_credits == balance.runtime_any_credits == 0
    )
    assert balance.runtime_ssds == ()
    assert [(s.month, s.credits) for s in balance.spend] == [
        (datetime(last_month.year, last_month.month, 1, tzinfo=UTC), D("0.25")),
        (this_month, D("1.5")),
    ]
    assert balance.created_at.tzinfo is not None and balance.updated_at >= balance.created_at
    assert len(credits.balance(org, months=36, now=now).spend) == 3


def test_balance_of_an_unfunded_and_of_an_unknown_organisation(credits: Credits, org: str) -> None:
    balance = credits.balance(org)
    assert (balance.any_credits, balance.reserved, balance.spend) == (0, 0, ())
    assert balance.created_at.tzinfo is not None
    with pytest.raises(NotFound):
        credits.balance(new_id())


def test_daily_storage_charge_is_idempotent_per_day(credits: Credits, org: str, other_org: str) -> None:
    usecases.purchase(credits, org, 1)
    stored = {org: 2_500_000_000, other_org: 0}
    day = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    first = usecases.charge_storage_daily(credits, stored.__getitem__, D("0.01"), day)
    assert first.day == "2026-03-01"
    assert [(e.organisation_id, e.amount) for e in first.charged] == [(org, D("-0.025"))]
    assert first.free == (other_org,)
    again = usecases.charge_storage_daily(credits, stored.__getitem__, D("0.01"), day + timedelta(minutes=20))
    assert again.charged == () and again.already_charged == (org,) and again.day == "2026-03-01"
    next_day = usecases.charge_storage_daily(credits, stored.__getitem__, D("0.01"), day + timedelta(hours=1))
    assert len(next_day.charged) == 1 and next_day.day == "2026-03-02"
    assert credits.balance(org).any_credits == D("0.95")
    charges = credits.entries(org, kinds=[EntryKind.STORAGE_CHARGE])
    assert [e.reference for e in charges] == ["storage:2026-03-01", "storage:2026-03-02"]
    assert charges[0].note is not None and "2500000000 bytes" in charges[0].note
    with pytest.raises(ValueError):
        usecases.charge_storage_daily(credits, stored.__getitem__, D("0.01"), datetime(2026, 3, 1))


def test_organisations_out_of_credits(credits: Credits, org: str, other_org: str) -> None:
    assert set(usecases.organisations_out_of_credits(credits)) == {org, other_org}
    usecases.purchase(credits, org, "0.02")
    assert usecases.organisations_out_of_credits(credits) == [other_org]
    usecases.charge_storage_daily(credits, lambda _o: 5 * 10**9, D("0.01"), utcnow())
    assert set(usecases.organisations_out_of_credits(credits)) == {org, other_org}
    assert credits.balance(org).any_credits == D("-0.03")
    assert usecases.purchase(credits, org, 1, reference="pay-1") is not None
    assert usecases.purchase(credits, org, 1, reference="pay-1") is None
    assert usecases.organisations_out_of_credits(credits) == [other_org]
