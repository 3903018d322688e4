"""Process schedules: wire forms of gap and offset, validation, occurrences and late firing."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import FR, MO, relativedelta

from terrafuse.core.schedules import (
    CATCH_UP_WINDOW,
    MAX_REPEAT_COUNT,
    Schedule,
    after_firing,
    defaults,
    encode_repeat_gap,
    encode_repeat_offset,
    gap_delta,
    next_occurrence,
    occurrences,
    parse_repeat_gap,
    parse_repeat_offset,
    parse_schedule,
    plan_firing,
    schedule_wire,
    validate_schedule,
)
from terrafuse.errors import InvalidInput

NOW = datetime(2026, 3, 1, 10, 17, 23, tzinfo=UTC)
# Dates around month ends, leap days and year ends, where relativedelta arithmetic is subtle.
PROBES = [
    datetime(2024, 1, 31, 23, 59, tzinfo=UTC),
    datetime(2024, 2, 29, 6, 0, tzinfo=UTC),
    datetime(2025, 12, 31, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC),
]
DELTAS = [
    relativedelta(days=+1),
    relativedelta(days=+1, hours=+2, minutes=-5),
    relativedelta(months=+1, day=31),
    relativedelta(years=+1, months=-2, leapdays=+1),
    relativedelta(weeks=+2, hour=0, minute=0, second=0, microsecond=0),
    relativedelta(days=+3, weekday=FR),
    relativedelta(seconds=+90, microseconds=+5),
]


def scheduled(count: int, gap: dict | None = None, **fields: object) -> Schedule:
    base = Schedule(
        run_type="run_schedule",
        repeat_count=count,
        repeat_start=NOW,
        output_storage_period=30,
        repeat_gap=gap if gap is not None else {"days": 1},
    )
    return replace(base, **fields)


# -- repeat_gap wire forms --------------------------------------------------------------------------


@pytest.mark.parametrize("delta", DELTAS, ids=repr)
def test_every_gap_wire_form_means_the_same_relativedelta(delta: relativedelta) -> None:
    parts = {name: getattr(delta, name) for name in ("years", "months", "days", "leapdays", "hours")}
    parts |= {name: getattr(delta, name) for name in ("minutes", "seconds", "microseconds", "year", "month")}
    parts |= {name: getattr(delta, name) for name in ("day", "hour", "minute", "second", "microsecond")}
    parts["weekday"] = None if delta.weekday is None else delta.weekday.weekday
    as_json = json.dumps(parts)
    forms = [delta, repr(delta), str(delta), as_json, json.loads(as_json)]
    for form in forms:
        parts = parse_repeat_gap(form)
        for probe in PROBES:
            assert probe + gap_delta(parts) == probe + delta, (form, probe)


def test_weeks_fold_into_days_as_relativedelta_adds_them() -> None:
    assert parse_repeat_gap('{"weeks": 1, "days": 2}') == {"days": 9}
    assert parse_repeat_gap("relativedelta(days=+14)") == {"days": 14}
    assert parse_repeat_gap({"hours": 1.5}) == {"hours": 1, "minutes": 30}


@pytest.mark.parametrize(
    "value", [None, "", "null", "None", "{}", "relativedelta()", {"days": 0, "year": None}]
)
def test_empty_gaps_are_none(value: object) -> None:
    assert parse_repeat_gap(value) is None
    assert encode_repeat_gap(None) is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("__import__('os').system('true')", "JSON relativedelta parts"),
        ("relativedelta(days=__import__('os'))", "must be a number"),
        ('{"fortnights": 1}', "unknown part"),
        ('{"month": 13}', "from 1 to 12"),
        ('{"days": "1"}', "must be a number"),
        ("relativedelta(weekday=MO(-1))", "only the next such day"),
        ('{"days": 1', "not valid JSON"),
        ("[1, 2]", "JSON relativedelta parts"),
        ('{"years": 0.5}', "not a valid relativedelta"),
        (42, "JSON text"),
    ],
)
def test_bad_gaps_are_refused_clearly(value: object, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_repeat_gap(value)
    assert words in caught.value.detail


def test_encoded_gaps_are_read_by_the_published_sdk() -> None:
    fields = pytest.importorskip("fusion_platform.models.fields")
    for delta in DELTAS:
        text = encode_repeat_gap(parse_repeat_gap(delta))
        assert text is not None and json.loads(text)["weeks"] == 0
        loaded = fields.RelativeDelta()._deserialize(text, None, None)
        for probe in PROBES:
            assert probe + loaded == probe + delta
    assert parse_repeat_gap(encode_repeat_gap({"days": 1, "weekday": 0})) == {
        "days": 1,
        "weekday": MO.weekday,
    }


# -- repeat_offset wire forms -----------------------------------------------------------------------


OFFSETS = [
    timedelta(hours=1),
    timedelta(days=2, seconds=5, microseconds=7),
    timedelta(hours=-1),
    timedelta(days=-3, microseconds=-250_000),
    timedelta(minutes=30, microseconds=120_000),
]


@pytest.mark.parametrize("offset", OFFSETS, ids=str)
def test_every_offset_wire_form_means_the_same_timedelta(offset: timedelta) -> None:
    as_json = json.dumps(
        {"days": offset.days, "seconds": offset.seconds, "microseconds": offset.microseconds}
    )
    forms = [offset, str(offset), repr(offset), as_json, json.loads(as_json), offset.total_seconds()]
    for form in forms:
        assert parse_repeat_offset(form) == offset, form
    assert parse_repeat_offset(encode_repeat_offset(offset)) == offset


def test_encoded_offsets_are_read_by_the_published_sdk() -> None:
    fields = pytest.importorskip("fusion_platform.models.fields")
    for offset in OFFSETS:
        assert fields.TimeDelta()._deserialize(encode_repeat_offset(offset), None, None) == offset


@pytest.mark.parametrize("value", [None, "", "null", "0:00:00", "datetime.timedelta(0)", 0, '{"days": 0}'])
def test_zero_offsets_are_none(value: object) -> None:
    assert parse_repeat_offset(value) is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("an hour", "time span"),
        ('{"hours": "1"}', "must be a number"),
        ('{"fortnights": 1}', "unknown part"),
        ("timedelta(days=os)", "must be a number"),
        ('{"days": 1e12}', "too large"),
        (float("nan"), "finite"),
    ],
)
def test_bad_offsets_are_refused_clearly(value: object, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_repeat_offset(value)
    assert words in caught.value.detail


# -- whole schedules --------------------------------------------------------------------------------


def test_template_defaults_run_once_now_and_are_valid() -> None:
    schedule = defaults(NOW, storage_days=14)
    assert (schedule.run_type, schedule.repeat_count, schedule.repeat_start) == ("run_once", 1, NOW)
    assert schedule.output_storage_period == 14 and schedule.repeat_gap is None
    validate_schedule(schedule, NOW + timedelta(days=400))  # a run-once start may be long past
    assert list(occurrences(schedule)) == [NOW]


def test_sdk_style_values_parse_into_a_schedule_and_back() -> None:
    values = {
        "run_type": "run_schedule",
        "repeat_count": "3",
        "repeat_start": "2026-03-01T12:00:00+02:00",
        "repeat_end": "2026-03-10T00:00:00",
        "repeat_gap": "relativedelta(days=+1)",
        "repeat_offset": "1:00:00",
        "output_storage_period": 7,
        "name": "ignored",
    }
    schedule = parse_schedule(values, defaults(NOW))
    assert schedule.repeat_start == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert schedule.repeat_end == datetime(2026, 3, 10, tzinfo=UTC)  # naive is UTC
    assert (schedule.repeat_count, schedule.repeat_gap, schedule.repeat_offset) == (
        3,
        {"days": 1},
        timedelta(hours=1),
    )
    assert parse_schedule(schedule_wire(schedule), defaults(NOW)) == schedule
    for name, bad in [("repeat_count", "three"), ("repeat_start", "tomorrow"), ("repeat_start", None)]:
        with pytest.raises(InvalidInput, match=name):
            parse_schedule({name: bad}, defaults(NOW))


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (replace(defaults(NOW), run_type="run_twice"), "run_type"),
        (replace(defaults(NOW), output_storage_period=0), "output_storage_period"),
        (replace(defaults(NOW), repeat_count=-1), "repeat_count"),
        (replace(defaults(NOW), repeat_start=datetime(2026, 3, 1)), "time zone"),
        (scheduled(0), "from 1 to"),
        (scheduled(MAX_REPEAT_COUNT + 1), "from 1 to"),
        (scheduled(3, gap={}), "repeat_gap is required"),
        (scheduled(3, repeat_start=NOW - timedelta(hours=1)), "in the past"),
        (scheduled(3, repeat_end=NOW - timedelta(seconds=1)), "before repeat_start"),
        (scheduled(3, gap={"microseconds": 500}), "at least 1 second"),
        (scheduled(3, gap={"hour": 3}), "at least 1 second"),  # 10:17 -> 03:00 goes backwards
        (scheduled(3, gap={"days": 1}, repeat_offset=timedelta(days=-1)), "at least 1 second"),
        (scheduled(3, gap={"month": 14}), "from 1 to 12"),
    ],
)
def test_invalid_schedules_are_explained(schedule: Schedule, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_schedule(schedule, NOW)
    assert words in caught.value.detail


def test_valid_schedules_pass() -> None:
    validate_schedule(scheduled(1, gap={}), NOW)  # a single firing needs no gap
    validate_schedule(scheduled(3, repeat_start=NOW - timedelta(minutes=10)), NOW)  # within the grace
    validate_schedule(scheduled(3, gap={"seconds": 2}, repeat_end=NOW), NOW)


# -- occurrences ------------------------------------------------------------------------------------


def test_occurrences_step_by_gap_then_offset() -> None:
    daily = scheduled(3)
    assert list(occurrences(daily)) == [NOW, NOW + timedelta(days=1), NOW + timedelta(days=2)]
    at_two = scheduled(
        3,
        gap={"days": 1, "hour": 0, "minute": 0, "second": 0, "microsecond": 0},
        repeat_offset=timedelta(hours=2),
    )
    assert list(occurrences(at_two)) == [
        NOW,
        datetime(2026, 3, 2, 2, tzinfo=UTC),
        datetime(2026, 3, 3, 2, tzinfo=UTC),
    ]
    month_ends = scheduled(3, gap={"months": 1, "day": 31}, repeat_start=datetime(2026, 1, 31, tzinfo=UTC))
    assert [moment.date().isoformat() for moment in occurrences(month_ends)] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
    ]


def test_occurrences_stop_at_the_end_and_never_go_backwards() -> None:
    ended = scheduled(10, repeat_end=NOW + timedelta(days=2))
    assert len(list(occurrences(ended))) == 3  # the end itself is included
    stalling = scheduled(5, gap={"hour": 12})  # 10:17 -> 12:17, then 12:17 again
    assert list(occurrences(stalling)) == [NOW, NOW.replace(hour=12)]
    assert next_occurrence(ended, after=NOW) == NOW + timedelta(days=1)
    assert next_occurrence(ended, after=NOW + timedelta(days=2)) is None
    once = defaults(NOW)
    leftovers = replace(once, repeat_count=5, repeat_gap={"days": 1}, repeat_end=NOW - timedelta(days=9))
    assert list(occurrences(leftovers)) == [NOW]  # run once ignores the repeat fields


def test_occurrences_keep_the_time_zone_of_the_start() -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=2)))
    assert all(
        moment.utcoffset() == timedelta(hours=2) for moment in occurrences(scheduled(3, repeat_start=start))
    )


# -- firing -----------------------------------------------------------------------------------------


def test_firing_on_time_moves_the_cursor_and_counts_down() -> None:
    schedule = scheduled(3)
    plan = plan_firing(schedule, NOW + timedelta(seconds=1))
    assert (plan.occurrence, plan.skipped) == (NOW, 0)
    assert plan.remaining == replace(schedule, repeat_start=NOW + timedelta(days=1), repeat_count=2)
    last = after_firing(replace(schedule, repeat_count=1), NOW)
    assert last is None
    assert after_firing(defaults(NOW), NOW) is None  # run once
    ended = scheduled(3, repeat_end=NOW + timedelta(hours=1))
    assert after_firing(ended, NOW) is None  # the next occurrence would be after the end


def test_an_early_firing_stands_for_the_first_occurrence() -> None:
    plan = plan_firing(scheduled(2), NOW - timedelta(minutes=5))
    assert (plan.occurrence, plan.skipped) == (NOW, 0)
    assert plan.remaining is not None and plan.remaining.repeat_start == NOW + timedelta(days=1)


def test_a_short_outage_fires_every_missed_occurrence_once() -> None:
    schedule: Schedule | None = scheduled(3, gap={"seconds": 3})
    back_at = NOW + timedelta(seconds=8)  # all three occurrences passed while the server was down
    fired = []
    while schedule is not None and schedule.repeat_start <= back_at:
        plan = plan_firing(schedule, back_at)
        fired.append(plan.occurrence)
        assert plan.skipped == 0
        schedule = plan.remaining
    assert fired == [NOW, NOW + timedelta(seconds=3), NOW + timedelta(seconds=6)]
    assert schedule is None


def test_a_long_outage_fires_once_for_the_latest_missed_occurrence() -> None:
    schedule = scheduled(10)
    back_at = NOW + timedelta(days=3, hours=5)  # occurrences 0-3 missed, all by more than the window
    plan = plan_firing(schedule, back_at)
    assert plan.occurrence == NOW + timedelta(days=3) and plan.skipped == 3
    assert plan.remaining == replace(schedule, repeat_start=NOW + timedelta(days=4), repeat_count=6)
    # Missed by days, then one within the window: the stale ones are skipped, the recent one fires.
    recent = plan_firing(schedule, NOW + timedelta(days=3) + CATCH_UP_WINDOW / 2)
    assert recent.occurrence == NOW + timedelta(days=3) and recent.skipped == 3
    exhausted = plan_firing(scheduled(3), NOW + timedelta(days=30))
    assert (exhausted.occurrence, exhausted.skipped, exhausted.remaining) == (
        NOW + timedelta(days=2),
        2,
        None,
    )


def test_random_late_ticks_never_fire_an_occurrence_twice_or_lose_count() -> None:
    rng = random.Random(4)
    for _ in range(200):
        count = rng.randint(1, 12)
        schedule: Schedule | None = scheduled(count, gap={"minutes": rng.choice([1, 7, 45, 90])})
        expected = list(occurrences(schedule))
        clock = NOW - timedelta(minutes=rng.randint(0, 3))
        fired: list[datetime] = []
        skipped = 0
        while schedule is not None:
            clock += timedelta(minutes=rng.choice([0, 1, 2, 30, 61, 200]))
            if schedule.repeat_start > clock:
                continue  # the scheduler only fires what is due
            plan = plan_firing(schedule, clock)
            assert plan.occurrence <= clock and plan.occurrence not in fired
            fired.append(plan.occurrence)
            skipped += plan.skipped
            schedule = plan.remaining
            assert schedule is None or schedule.repeat_count == count - len(fired) - skipped
        assert fired == sorted(fired) and set(fired) <= set(expected)
        assert len(fired) + skipped == count


def test_firing_a_spent_schedule_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no occurrence"):
        plan_firing(scheduled(0), NOW)
    with pytest.raises(InvalidInput, match="time zone"):
        plan_firing(scheduled(2), datetime(2026, 3, 1))


def test_run_types_are_the_sdk_constants() -> None:
    from terrafuse.core import processes, schedules

    assert (schedules.RUN_ONCE, schedules.RUN_SCHEDULE) == (processes.RUN_ONCE, processes.RUN_SCHEDULE)
    fusion_platform = pytest.importorskip("fusion_platform")
    assert schedules.RUN_TYPES == (fusion_platform.RUN_TYPE_RUN_ONCE, fusion_platform.RUN_TYPE_RUN_SCHEDULE)
