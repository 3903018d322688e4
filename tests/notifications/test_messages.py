"""The notification texts: counts, names, reasons, times and sizes come from the data given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from terrafuse.errors import InvalidInput
from terrafuse.notifications.messages import (
    MAX_SMS_NAME,
    ExecutionOutcome,
    execution_finished,
    expiry_warning,
    format_bytes,
    format_time,
    out_of_credits,
)

WHEN = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def group(outcomes: list[bool], reasons: dict[int, str] | None = None) -> list[tuple]:
    reasons = reasons or {}
    return [(f"ex-{i}", i, ok, reasons.get(i)) for i, ok in enumerate(outcomes)]


@pytest.mark.parametrize(
    ("outcomes", "count_text", "verdict"),
    [
        ([True, False, True, True], "3 of 4 slices succeeded", "finished"),
        ([True, True], "all 2 slices succeeded", "finished"),
        ([False, False, False], "none of the 3 slices succeeded", "failed"),
    ],
)
def test_group_message_counts_the_slices(outcomes: list[bool], count_text: str, verdict: str) -> None:
    rows = group(outcomes, {i: f"reason {i}" for i, ok in enumerate(outcomes) if not ok})
    msg = execution_finished("Lake District", "Cloud classification", "Acme", rows, group_id="grp-1")

    assert msg.subject == f'Process "Lake District" {verdict}: {count_text}'
    assert count_text in msg.sms_text and "Lake District" in msg.sms_text
    assert "grp-1" in msg.text and '"Cloud classification"' in msg.text and '"Acme"' in msg.text
    for i, ok in enumerate(outcomes):
        line = next(ln for ln in msg.text.splitlines() if f"(execution ex-{i})" in ln)
        assert f"slice {i + 1} of {len(outcomes)}" in line
        assert ("succeeded" in line) == ok
        assert (f"failed: reason {i}" in line) == (not ok)


def test_outcomes_are_listed_in_group_order_whatever_order_they_come_in() -> None:
    rows = list(reversed(group([True, False, True])))
    msg = execution_finished("P", "S", "O", rows, group_id="g")
    positions = [msg.text.index(f"(execution ex-{i})") for i in range(3)]
    assert positions == sorted(positions)


def test_tuples_and_outcome_objects_give_the_same_message() -> None:
    rows = group([True, False], {1: "no imagery"})
    objects = [ExecutionOutcome(*row) for row in rows]
    assert execution_finished("P", "S", "O", rows, "g") == execution_finished("P", "S", "O", objects, "g")


def test_single_execution_success_and_failure() -> None:
    ok = execution_finished("Glasgow", "Elevation", "Acme", [("ex-1", None, True, None)])
    assert ok.subject == 'Process "Glasgow" finished'
    assert "ex-1" in ok.text and "slice" not in ok.text
    assert ok.sms_text == 'terrafuse: process "Glasgow" finished.'

    bad = execution_finished("Glasgow", "Elevation", "Acme", [("ex-1", None, False, "DEM missing.")])
    assert bad.subject == 'Process "Glasgow" failed'
    assert "It failed: DEM missing." in bad.text
    no_reason = execution_finished("Glasgow", "Elevation", "Acme", [("ex-1", None, False, None)])
    assert "no reason was given" in no_reason.text


def test_the_merging_execution_is_reported_apart_from_the_slices() -> None:
    rows = [*group([True, True]), ("ex-merge", 2, False, "rasters do not align", True)]
    msg = execution_finished("P", "S", "O", rows, group_id="g")
    assert "all 2 slices succeeded" in msg.subject and "merging failed" in msg.subject
    assert "Merging the slices failed: rasters do not align." in msg.text
    assert "merging the slices: failed: rasters do not align (execution ex-merge)" in msg.text


def test_links_are_listed_in_the_e_mail_only() -> None:
    links = {"Results": "http://127.0.0.1:8000/api/x", "Map": "http://127.0.0.1:8000/map"}
    msg = execution_finished("P", "S", "O", group([True]), "g", links=links)
    for label, url in links.items():
        assert f"{label}: {url}" in msg.text
        assert url not in msg.sms_text


def test_user_given_names_are_flattened_to_one_line_and_clipped() -> None:
    name = "Evil\r\nBcc: victim@example.org\x00" + "x" * 500
    msg = execution_finished(name, "S", "Org\nName", [("e", None, True, None)])
    assert "\n" not in msg.subject and "\r" not in msg.subject and "\x00" not in msg.subject
    assert "Evil Bcc: victim@example.org" in msg.subject
    assert len(msg.subject) < 200 and msg.subject.count("x") < 200
    assert '"Org Name"' in msg.text
    sms_name = msg.sms_text.split('"')[1]
    assert len(sms_name) == MAX_SMS_NAME and sms_name.endswith("…")


@pytest.mark.parametrize("rows", [[], [("only-two", 1)], ["ex-1"], [("e", "first", True, None)]])
def test_malformed_outcomes_are_refused(rows: list) -> None:
    with pytest.raises(InvalidInput):
        execution_finished("P", "S", "O", rows)


def test_expiry_warning_names_the_executions_and_the_time_in_the_users_zone() -> None:
    msg = expiry_warning("Glasgow", ["ex-1", "ex-2"], WHEN, time_zone="Europe/London")
    local = WHEN.astimezone(ZoneInfo("Europe/London"))
    assert local.utcoffset() == timedelta(hours=1)  # British Summer Time
    stamp = f"{local.isoformat(timespec='minutes')} (Europe/London)"
    assert stamp == "2026-07-01T10:30+01:00 (Europe/London)"
    assert stamp in msg.subject and stamp in msg.text
    assert "2 executions" in msg.text and "ex-1" in msg.text and "ex-2" in msg.text
    assert "2026-07-01 10:30 Europe/London" in msg.sms_text
    with pytest.raises(InvalidInput):
        expiry_warning("Glasgow", [], WHEN)


def test_times_default_to_utc_and_naive_times_are_taken_as_utc() -> None:
    assert format_time(WHEN) == "2026-07-01T09:30+00:00 (UTC)"
    assert format_time(WHEN.replace(tzinfo=None)) == format_time(WHEN)
    other = WHEN.astimezone(timezone(timedelta(hours=-5)))
    assert format_time(other) == format_time(WHEN)  # the instant, not the offset given
    assert format_time(WHEN, "Not/AZone") == format_time(WHEN)


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(0, "0 bytes"), (999, "999 bytes"), (1500, "1.5 kB"), (2_000_000_000, "2.0 GB"), (3 * 10**12, "3.0 TB")],
)
def test_sizes_in_decimal_units(nbytes: int, text: str) -> None:
    assert format_bytes(nbytes) == text


def test_out_of_credits_notice() -> None:
    msg = out_of_credits("Zoë & Co", 2_000_000_000, WHEN)
    assert msg.subject.startswith('"Zoë & Co" is out of credits')
    assert "2.0 GB" in msg.text and format_time(WHEN) in msg.text and "credits are bought" in msg.text
    long = out_of_credits("An organisation with a very, very long name indeed " * 5, 10**15, WHEN)
    assert len(long.sms_text) <= 160
