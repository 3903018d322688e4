"""Pure credit rules: Decimal amounts, signs, storage price, monthly spend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from terrafuse.config import Settings
from terrafuse.core.credits import (
    MAX_CREDITS,
    EntryKind,
    month_start,
    monthly_spend,
    positive_credits,
    signed_amount,
    storage_charge,
    storage_reference,
    to_credits,
)
from terrafuse.errors import InvalidInput


def test_amounts_are_exact_decimals_with_six_places() -> None:
    assert to_credits("0.1") + to_credits("0.2") == to_credits("0.3") == Decimal("0.300000")
    assert str(to_credits(3)) == "3.000000"
    assert to_credits(Decimal("0.0000005")) == Decimal("0.000001")  # half up
    assert to_credits(Decimal("-0.0000005")) == Decimal("-0.000001")
    assert to_credits("0.00000049") == 0
    assert to_credits(MAX_CREDITS - Decimal("0.000001")) == Decimal("999999999999.999999")


@pytest.mark.parametrize("bad", [0.1, True])
def test_floats_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        to_credits(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", MAX_CREDITS])
def test_non_numbers_and_huge_amounts_are_refused(bad: object) -> None:
    with pytest.raises(InvalidInput):
        to_credits(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, "-1", "0.0000001"])
def test_positive_credits_refuses_zero_and_less(bad: object) -> None:
    with pytest.raises(InvalidInput, match="positive"):
        positive_credits(bad)  # type: ignore[arg-type]


def test_kinds_give_the_sign() -> None:
    one = Decimal("1.000000")
    assert [signed_amount(k, one) for k in EntryKind] == [one, -one, -one, one, -one, one]
    assert {k.value for k in EntryKind} == {
        "purchase",
        "execution_charge",
        "storage_charge",
        "refund",
        "reservation",
        "release",
    }


def test_storage_is_priced_per_decimal_gigabyte_day() -> None:
    rate = Decimal("0.01")
    assert storage_charge(2_500_000_000, rate) == Decimal("0.025000")
    assert storage_charge(2_500_000_000, rate, days=30) == Decimal("0.750000")
    assert storage_charge(0, rate) == 0
    assert storage_charge(10, rate) == 0  # below a micro-credit
    assert storage_charge(10**15, Decimal("0.003")) == Decimal("3000.000000")  # a petabyte
    assert storage_reference(date(2026, 3, 1)) == "storage:2026-03-01"
    with pytest.raises(ValueError):
        storage_charge(-1, rate)


def test_settings_carry_the_storage_rate_as_decimal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().storage_credits_per_gb_day == Decimal("0.01")
    monkeypatch.setenv("TERRAFUSE_STORAGE_CREDITS_PER_GB_DAY", "0.1")
    settings = Settings()
    assert settings.storage_credits_per_gb_day == Decimal("0.1")
    assert Settings(**settings.to_wire()).storage_credits_per_gb_day == Decimal("0.1")


def test_monthly_spend_is_charges_minus_refunds_per_month() -> None:
    jan, feb = datetime(2026, 1, 31, 23, 59, tzinfo=UTC), datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    spend = monthly_spend(
        [
            (feb, EntryKind.EXECUTION_CHARGE, Decimal("-0.2")),
            (jan, EntryKind.STORAGE_CHARGE, Decimal("-0.1")),
            (jan, EntryKind.EXECUTION_CHARGE, Decimal("-0.2")),
            (feb, EntryKind.REFUND, Decimal("0.05")),
            (feb, EntryKind.PURCHASE, Decimal("100")),  # not spend
            (feb, EntryKind.RESERVATION, Decimal("-7")),  # not spend
        ]
    )
    assert [(s.month, s.credits) for s in spend] == [
        (datetime(2026, 1, 1, tzinfo=UTC), Decimal("0.3")),
        (datetime(2026, 2, 1, tzinfo=UTC), Decimal("0.15")),
    ]
    assert month_start(datetime(2026, 5, 17, 12, tzinfo=UTC)) == datetime(2026, 5, 1, tzinfo=UTC)
