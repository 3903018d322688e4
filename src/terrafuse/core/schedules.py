"""Schedules of processes: their wire forms, their rules, and when a process fires.

A schedule is a cursor. ``repeat_start`` is the *next* occurrence and ``repeat_count`` the
occurrences still to come (``run_once`` processes fire once, whatever the count says). Each
repetition follows the one before by ``repeat_gap`` (relativedelta parts) and then
``repeat_offset``::

    next = previous + relativedelta(**repeat_gap) + repeat_offset

so ``{"days": 1}`` repeats daily, and ``{"days": 1, "hour": 0, "minute": 0, "second": 0,
"microsecond": 0}`` with an offset of two hours repeats every day at 02:00 UTC, whenever the first
run was. Arithmetic is in UTC. Month steps follow relativedelta (31 January + 1 month is 28
February, and the next step from there is 28 March; use ``day=31`` to stay at month ends).
Occurrences after ``repeat_end`` do not happen.

Late firing (a server that was down): every call of :func:`plan_firing` fires exactly one
occurrence and moves the cursor past it, so nothing fires twice. Occurrences missed by at most
:data:`CATCH_UP_WINDOW` still fire, one per call, in order (a short restart loses nothing).
Occurrences missed by longer are skipped, each counted against ``repeat_count``, and one firing
stands for the latest of them.

Wire forms (the Fusion SDK): ``repeat_gap`` is a JSON string of relativedelta parts, or the
``repr`` of a Python relativedelta when the SDK echoes one (``relativedelta(days=+1, hours=+2)``,
parsed without ``eval``); ``repeat_offset`` is a JSON string of ``{days, seconds, microseconds}``,
or the ``str`` of a Python timedelta (``1 day, 2:00:00``). Pure rules; no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.relativedelta import weekday as Weekday

from terrafuse.errors import InvalidInput

# The SDK's RUN_TYPE_* (also in core.processes, which may build on this module: no import from it).
RUN_ONCE = "run_once"
RUN_SCHEDULE = "run_schedule"
RUN_TYPES = (RUN_ONCE, RUN_SCHEDULE)
MAX_REPEAT_COUNT = 10_000
MIN_GAP = timedelta(seconds=1)
"""The shortest time between two repetitions."""
PAST_GRACE = timedelta(minutes=15)
"""How far in the past a schedule may start (the SDK gives up waiting 15 minutes after the start)."""
CATCH_UP_WINDOW = timedelta(hours=1)
"""Occurrences missed by at most this long still fire; older ones are skipped (see the module notes)."""
DEFAULT_STORAGE_DAYS = 30

RELATIVE_PARTS = (
    "years",
    "months",
    "days",
    "leapdays",
    "weeks",
    "hours",
    "minutes",
    "seconds",
    "microseconds",
)
ABSOLUTE_PARTS = ("year", "month", "day", "weekday", "hour", "minute", "second", "microsecond")
_RANGES = {
    "year": (1, 9999),
    "month": (1, 12),
    "day": (1, 31),
    "weekday": (0, 6),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
    "microsecond": (0, 999_999),
}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_NULL_TEXTS = frozenset({"", "null", "None"})
_REPR = re.compile(r"^\s*relativedelta\((?P<args>.*)\)\s*$")
_REPR_ARG = re.compile(r"^\s*(?P<name>[a-z]+)\s*=\s*(?P<value>\S+?)\s*$")
_WEEKDAY_TEXT = re.compile(r"^(?P<day>MO|TU|WE|TH|FR|SA|SU)(?:\((?P<n>[+-]?\d+)\))?$")
_TIMEDELTA_STR = re.compile(
    r"^\s*(?:(?P<days>-?\d+) days?, )?(?P<hours>\d+):(?P<minutes>\d{2}):(?P<seconds>\d{2})"
    r"(?:\.(?P<micro>\d{1,6}))?\s*$"
)
_TIMEDELTA_REPR = re.compile(r"^\s*(?:datetime\.)?timedelta\((?P<args>.*)\)\s*$")
_TIMEDELTA_KEYS = frozenset({"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"})


@dataclass(frozen=True)
class Schedule:
    """When a process runs (see the module notes); ``repeat_gap`` holds normalised relativedelta parts."""

    run_type: str
    repeat_count: int
    repeat_start: datetime
    output_storage_period: int
    repeat_end: datetime | None = None
    repeat_gap: Mapping[str, int] | None = None
    repeat_offset: timedelta | None = None


@dataclass(frozen=True)
class FiringPlan:
    """What one firing does: the occurrence it stands for, the ones it skips, and what is left."""

    occurrence: datetime
    skipped: int
    remaining: Schedule | None


def defaults(now: datetime, storage_days: int = DEFAULT_STORAGE_DAYS) -> Schedule:
    """The schedule of a new process template: run once, now, keeping outputs ``storage_days`` days."""
    return Schedule(
        run_type=RUN_ONCE, repeat_count=1, repeat_start=_aware(now, "now"), output_storage_period=storage_days
    )


# -- repeat_gap --------------------------------------------------------------------------------------


def parse_repeat_gap(value: Any) -> dict[str, int] | None:
    """Normalised relativedelta parts from any wire form (JSON text, dict, relativedelta or its repr).

    Null, empty and all-zero gaps are None. Weeks fold into days (relativedelta adds ``7 * weeks``
    to ``days``, as the SDK's own reader does). ``weekday`` is 0-6 (Monday-Sunday) or ``MO`` ...
    ``SU``: the next such day, the only form the JSON wire can carry. Raises InvalidInput.
    """
    if value is None:
        return None
    if isinstance(value, relativedelta):
        return _gap_parts(value.normalized())
    if isinstance(value, Mapping):
        return _gap_parts(_relativedelta_from(dict(value)))
    if not isinstance(value, str):
        raise InvalidInput(f"repeat_gap must be relativedelta parts as JSON text, not {type(value).__name__}")
    text = value.strip()
    if text in _NULL_TEXTS:
        return None
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInput(f"repeat_gap is not valid JSON: {text!r}") from None
        if not isinstance(decoded, dict):
            raise InvalidInput("repeat_gap must be a JSON object of relativedelta parts")
        return _gap_parts(_relativedelta_from(decoded))
    match = _REPR.match(text)
    if match is None:
        raise InvalidInput(
            'repeat_gap must be JSON relativedelta parts such as {"days": 1} or "relativedelta(days=+1)", '
            f"not {text!r}"
        )
    return _gap_parts(_relativedelta_from(_repr_parts(match["args"])))


def encode_repeat_gap(parts: Mapping[str, int] | None) -> str | None:
    """The wire text of a gap: JSON of all seventeen parts, as the SDK writes it (None when no gap).

    ``weeks`` is always 0 because ``days`` already holds the whole days.
    """
    if not parts:
        return None
    normal = parse_repeat_gap(parts)
    if normal is None:
        return None
    document: dict[str, int | None] = {}
    for name in RELATIVE_PARTS:
        document[name] = normal.get(name, 0)
    for name in ABSOLUTE_PARTS:
        document[name] = normal.get(name)
    return json.dumps(document)


def gap_delta(parts: Mapping[str, int] | None) -> relativedelta:
    """The relativedelta of normalised gap parts (zero when there is no gap)."""
    return relativedelta(**dict(parts)) if parts else relativedelta()


def _relativedelta_from(parts: dict[str, Any]) -> relativedelta:
    unknown = sorted(set(parts) - set(RELATIVE_PARTS) - set(ABSOLUTE_PARTS))
    if unknown:
        raise InvalidInput(f"repeat_gap has unknown part(s) {', '.join(unknown)}")
    arguments: dict[str, Any] = {}
    for name, value in parts.items():
        if value is None:
            continue  # the SDK writes unset parts as null
        if name == "weekday":
            arguments[name] = _weekday(value)
        elif name in _RANGES:
            low, high = _RANGES[name]
            if not _is_integer(value) or not low <= int(value) <= high:
                raise InvalidInput(
                    f"repeat_gap {name} must be a whole number from {low} to {high}, not {value!r}"
                )
            arguments[name] = int(value)
        else:
            if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
                raise InvalidInput(f"repeat_gap {name} must be a number, not {value!r}")
            arguments[name] = value
    try:
        return relativedelta(**arguments).normalized()
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"repeat_gap is not a valid relativedelta ({exc})") from None


def _gap_parts(delta: relativedelta) -> dict[str, int] | None:
    parts: dict[str, int] = {}
    for name in RELATIVE_PARTS:
        if name == "weeks":
            continue  # a view of days, not a part of its own
        value = getattr(delta, name)
        if value:
            if not _is_integer(value):
                raise InvalidInput(f"repeat_gap {name} must be a whole number, not {value!r}")
            parts[name] = int(value)
    for name in ABSOLUTE_PARTS:
        value = getattr(delta, name)
        if value is None:
            continue
        if name == "weekday":
            if value.n not in (None, 1):
                raise InvalidInput(
                    f"repeat_gap weekday {value!r}: only the next such day ({value.weekday}) can be given"
                )
            value = value.weekday
        low, high = _RANGES[name]
        if not low <= int(value) <= high:
            raise InvalidInput(f"repeat_gap {name} must be from {low} to {high}, not {value!r}")
        parts[name] = int(value)
    return parts or None


def _weekday(value: Any) -> Weekday | int:
    if isinstance(value, Weekday):
        return value
    if _is_integer(value) and 0 <= int(value) <= 6:
        return int(value)
    match = _WEEKDAY_TEXT.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"repeat_gap weekday must be 0-6 (Monday-Sunday) or MO ... SU, not {value!r}")
    return Weekday(_WEEKDAYS.index(match["day"]), int(match["n"]) if match["n"] else None)


def _repr_parts(arguments: str) -> dict[str, Any]:
    """The keyword arguments of a relativedelta repr, read as numbers and weekday names."""
    parts: dict[str, Any] = {}
    for argument in filter(str.strip, arguments.split(",")):
        match = _REPR_ARG.match(argument)
        if match is None:
            raise InvalidInput(f"repeat_gap item {argument.strip()!r} is not of the form name=value")
        name, text = match["name"], match["value"]
        if name == "weekday":
            parts[name] = text
            continue
        try:
            number = float(text)
        except ValueError:
            raise InvalidInput(f"repeat_gap {name} must be a number, not {text!r}") from None
        parts[name] = int(number) if number.is_integer() else number
    return parts


# -- repeat_offset -----------------------------------------------------------------------------------


def parse_repeat_offset(value: Any) -> timedelta | None:
    """An offset from any wire form: JSON ``{days, seconds, microseconds}``, a dict, a timedelta, its
    ``str`` (``-1 day, 23:00:00``) or ``repr``, or a number of seconds. Zero and null are None."""
    if value is None:
        return None
    try:
        offset = _offset(value)
    except OverflowError:
        raise InvalidInput("repeat_offset is too large") from None
    return offset or None


def encode_repeat_offset(offset: timedelta | None) -> str | None:
    """The wire text of an offset: JSON ``{days, seconds, microseconds}`` (None when no offset)."""
    if not offset:
        return None
    return json.dumps({"days": offset.days, "seconds": offset.seconds, "microseconds": offset.microseconds})


def _offset(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInput(f"repeat_offset must be a finite number of seconds, not {value!r}")
        return timedelta(seconds=value)
    if isinstance(value, Mapping):
        return _offset_from(dict(value))
    if not isinstance(value, str):
        raise InvalidInput(
            f"repeat_offset must be JSON text of days, seconds and microseconds, not {type(value).__name__}"
        )
    text = value.strip()
    if text in _NULL_TEXTS:
        return timedelta(0)
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInput(f"repeat_offset is not valid JSON: {text!r}") from None
        if not isinstance(decoded, dict):
            raise InvalidInput("repeat_offset must be a JSON object of days, seconds and microseconds")
        return _offset_from(decoded)
    match = _TIMEDELTA_STR.match(text)
    if match is not None:
        micro = (match["micro"] or "").ljust(6, "0")
        return timedelta(
            days=int(match["days"] or 0),
            hours=int(match["hours"]),
            minutes=int(match["minutes"]),
            seconds=int(match["seconds"]),
            microseconds=int(micro or 0),
        )
    match = _TIMEDELTA_REPR.match(text)
    if match is not None:
        if match["args"].strip() in ("", "0"):
            return timedelta(0)  # repr(timedelta(0)) is "datetime.timedelta(0)"
        parts: dict[str, Any] = {}
        for argument in filter(str.strip, match["args"].split(",")):
            name, equals, number = argument.partition("=")
            if not equals:
                raise InvalidInput(f"repeat_offset item {argument.strip()!r} is not of the form name=value")
            try:
                parts[name.strip()] = float(number)
            except ValueError:
                raise InvalidInput(
                    f"repeat_offset {name.strip()} must be a number, not {number.strip()!r}"
                ) from None
        return _offset_from(parts)
    raise InvalidInput(
        'repeat_offset must be JSON such as {"days": 0, "seconds": 3600, "microseconds": 0} or a time '
        f"span such as '1:00:00', not {text!r}"
    )


def _offset_from(parts: dict[str, Any]) -> timedelta:
    unknown = sorted(set(parts) - _TIMEDELTA_KEYS)
    if unknown:
        raise InvalidInput(f"repeat_offset has unknown part(s) {', '.join(unknown)}")
    arguments: dict[str, float] = {}
    for name, value in parts.items():
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise InvalidInput(f"repeat_offset {name} must be a number, not {value!r}")
        arguments[name] = value
    return timedelta(**arguments)


# -- whole schedules ---------------------------------------------------------------------------------


def parse_schedule(values: Mapping[str, Any], base: Schedule) -> Schedule:
    """``base`` with the schedule fields present in ``values`` (wire or Python forms) replaced.

    Keys other than the seven schedule fields are ignored. Raises InvalidInput naming the field.
    """
    changes: dict[str, Any] = {}
    if "run_type" in values:
        changes["run_type"] = values["run_type"]
    for name in ("repeat_count", "output_storage_period"):
        if name in values:
            changes[name] = _integer(name, values[name])
    if "repeat_start" in values:
        start = _datetime("repeat_start", values["repeat_start"])
        if start is None:
            raise InvalidInput("repeat_start is required")
        changes["repeat_start"] = start
    if "repeat_end" in values:
        changes["repeat_end"] = _datetime("repeat_end", values["repeat_end"])
    if "repeat_gap" in values:
        changes["repeat_gap"] = parse_repeat_gap(values["repeat_gap"])
    if "repeat_offset" in values:
        changes["repeat_offset"] = parse_repeat_offset(values["repeat_offset"])
    return replace(base, **changes)


def schedule_wire(schedule: Schedule) -> dict[str, Any]:
    """The seven schedule fields as the platform API sends them (datetimes left to the API's encoder)."""
    return {
        "run_type": schedule.run_type,
        "repeat_count": schedule.repeat_count,
        "repeat_start": schedule.repeat_start,
        "repeat_end": schedule.repeat_end,
        "repeat_gap": encode_repeat_gap(schedule.repeat_gap),
        "repeat_offset": encode_repeat_offset(schedule.repeat_offset),
        "output_storage_period": schedule.output_storage_period,
    }


def validate_schedule(schedule: Schedule, now: datetime, *, past_grace: timedelta = PAST_GRACE) -> None:
    """Check a schedule before a process is created or executed; InvalidInput says what is wrong.

    A ``run_once`` schedule only needs a valid start and storage period (its repeat fields are
    ignored). A ``run_schedule`` one needs ``repeat_count`` from 1 to :data:`MAX_REPEAT_COUNT`, a
    start no earlier than ``now - past_grace``, an end not before the start and, when it repeats,
    a gap (with the offset) of at least :data:`MIN_GAP`.
    """
    if schedule.run_type not in RUN_TYPES:
        raise InvalidInput(f"run_type must be 'run_once' or 'run_schedule', not {schedule.run_type!r}")
    count = schedule.repeat_count
    if not _is_integer(count) or count < 0:
        raise InvalidInput(f"repeat_count must be a whole number of at least 0, not {count!r}")
    period = schedule.output_storage_period
    if not _is_integer(period) or period < 1:
        raise InvalidInput(
            f"output_storage_period must be a whole number of days of at least 1, not {period!r}"
        )
    start = _aware(schedule.repeat_start, "repeat_start")
    if schedule.run_type == RUN_ONCE:
        return
    if not 1 <= count <= MAX_REPEAT_COUNT:
        raise InvalidInput(
            f"a scheduled process needs repeat_count from 1 to {MAX_REPEAT_COUNT}, not {count}"
        )
    if start < _aware(now, "now") - past_grace:
        raise InvalidInput(
            f"repeat_start {start.isoformat()} is in the past; a schedule may start at most "
            f"{int(past_grace.total_seconds() // 60)} minutes ago"
        )
    if schedule.repeat_end is not None and _aware(schedule.repeat_end, "repeat_end") < start:
        raise InvalidInput(
            f"repeat_end {schedule.repeat_end.isoformat()} is before repeat_start {start.isoformat()}"
        )
    if count > 1:
        if not schedule.repeat_gap:
            raise InvalidInput("repeat_gap is required when a process repeats (repeat_count above 1)")
        parse_repeat_gap(schedule.repeat_gap)  # ranges of hand-built parts
        following = _step(schedule, start)
        if following is None or following - start < MIN_GAP:
            raise InvalidInput(
                "repeat_gap (with repeat_offset) must make each repetition at least "
                f"{int(MIN_GAP.total_seconds())} second later than the one before"
            )


# -- occurrences -------------------------------------------------------------------------------------


def occurrences(schedule: Schedule) -> Iterator[datetime]:
    """The occurrences still to come, in order.

    At most ``repeat_count`` of them (run_once: just ``repeat_start``), none after ``repeat_end``;
    the series also ends where a step would not move forward or would leave the calendar.
    """
    once = schedule.run_type == RUN_ONCE
    moment: datetime | None = schedule.repeat_start
    left = 1 if once else schedule.repeat_count
    end = None if once else schedule.repeat_end  # run_once ignores its repeat fields
    while moment is not None and left > 0:
        if end is not None and moment > end:
            return
        yield moment
        left -= 1
        if left:
            following = _step(schedule, moment)
            moment = following if following is not None and following > moment else None


def next_occurrence(schedule: Schedule, after: datetime | None = None) -> datetime | None:
    """The first occurrence (strictly after ``after``, when given); None when there is none."""
    for moment in occurrences(schedule):
        if after is None or moment > after:
            return moment
    return None


def plan_firing(schedule: Schedule, fired_at: datetime, *, window: timedelta = CATCH_UP_WINDOW) -> FiringPlan:
    """What firing the process at ``fired_at`` stands for, and the schedule left afterwards.

    The firing stands for the earliest due occurrence missed by at most ``window``; when every due
    occurrence is older, for the latest of them, skipping (and counting) the rest. A firing before the
    first occurrence (an early start) stands for that occurrence. ``remaining`` is None when the
    process fires no more: run_once, count exhausted, or the next occurrence after ``repeat_end``.
    """
    _aware(fired_at, "fired_at")
    series = occurrences(schedule)
    first = next(series, None)
    if first is None:
        raise InvalidInput("the schedule has no occurrence left to fire")
    chosen, index = first, 0
    if first <= fired_at and fired_at - first > window:
        # Walk the missed occurrences until one is recent enough, or to the latest missed one.
        for moment in series:
            if moment > fired_at:
                upcoming: datetime | None = moment
                break
            chosen, index = moment, index + 1
            if fired_at - moment <= window:
                upcoming = next(series, None)
                break
        else:
            upcoming = None
    else:
        upcoming = next(series, None)
    remaining = None
    if schedule.run_type == RUN_SCHEDULE and upcoming is not None:
        remaining = replace(schedule, repeat_start=upcoming, repeat_count=schedule.repeat_count - index - 1)
    return FiringPlan(occurrence=chosen, skipped=index, remaining=remaining)


def after_firing(
    schedule: Schedule, fired_at: datetime, *, window: timedelta = CATCH_UP_WINDOW
) -> Schedule | None:
    """The schedule left after firing at ``fired_at`` (see :func:`plan_firing`); None when it is done."""
    return plan_firing(schedule, fired_at, window=window).remaining


# -- helpers -----------------------------------------------------------------------------------------


def _step(schedule: Schedule, moment: datetime) -> datetime | None:
    """The occurrence after ``moment``; None when it would leave the calendar."""
    try:
        following = moment + gap_delta(schedule.repeat_gap)
        if schedule.repeat_offset:
            following += schedule.repeat_offset
    except (OverflowError, ValueError):
        return None
    return following


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a date and time, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must carry a time zone")
    return value


def _datetime(name: str, value: Any) -> datetime | None:
    """A wire datetime (ISO-8601 text or datetime) as aware UTC; naive values are UTC; null is None."""
    if value is None or (isinstance(value, str) and value.strip() in _NULL_TEXTS):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"{name} must be an ISO-8601 date and time, not {value!r}") from None
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be an ISO-8601 date and time, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if _is_integer(value):
        return int(value)
    raise InvalidInput(f"{name} must be a whole number, not {value!r}")


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()
