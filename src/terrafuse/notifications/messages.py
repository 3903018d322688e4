"""The texts of the notifications, built from plain data (no store access, no I/O).

Each builder returns a :class:`Message`: a subject and a plain-text body for e-mail, and a short
text for SMS. Names come from users (process and organisation names), so they are flattened to one
line and clipped before they reach a header or a text message. Times are written in ISO form in
UTC, or in the IANA time zone given (a user's ``time_zone``), always with the offset and zone name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from terrafuse.errors import InvalidInput

SIGNATURE = "-- \nterrafuse"
MAX_NAME = 120  # characters of a user-given name in a subject or body
MAX_SMS_NAME = 40  # ... in a text message
SMS_LENGTH = 160  # one text message; names are clipped further to keep within it
MIN_SMS_NAME = 12  # ... but not below this (the message is then sent in two parts)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Message:
    """One notification: ``subject`` and ``text`` for e-mail, ``sms_text`` for a text message."""

    subject: str
    text: str
    sms_text: str


@dataclass(frozen=True)
class ExecutionOutcome:
    """How one execution of a group (or a lone execution) ended.

    ``group_index`` is the execution's place in its group (0 = first slice), None when the run was
    not sliced; ``aggregator`` marks the execution that merges the slices' outputs.
    """

    execution_id: str
    group_index: int | None
    succeeded: bool
    reason: str | None = None
    aggregator: bool = False


OutcomeLike = ExecutionOutcome | Sequence[object]


def execution_finished(
    process_name: str,
    service_name: str,
    organisation_name: str,
    executions: Iterable[OutcomeLike],
    group_id: str | None = None,
    links: Mapping[str, str] | None = None,
) -> Message:
    """The message sent once a process run has ended: one per group of slices, or per execution.

    Args:
        process_name: the process's name.
        service_name: the service it ran.
        organisation_name: the organisation it belongs to.
        executions: an :class:`ExecutionOutcome` (or a tuple ``(execution_id, group_index,
            succeeded, reason[, aggregator])``) for every execution of the group.
        group_id: the group's id when the run was sliced.
        links: label -> URL lines added to the e-mail (results page, map, ...).

    Raises:
        InvalidInput: when ``executions`` is empty or an entry is malformed.
    """
    outcomes = [_outcome(e) for e in executions]
    if not outcomes:
        raise InvalidInput("a completion notice needs at least one execution")
    outcomes.sort(key=lambda o: (o.aggregator, -1 if o.group_index is None else o.group_index))
    process, service, org = _name(process_name), _name(service_name), _name(organisation_name)
    slices = [o for o in outcomes if not o.aggregator]
    merges = [o for o in outcomes if o.aggregator]
    total, ok = len(slices), sum(o.succeeded for o in slices)
    grouped = group_id is not None or len(outcomes) > 1 or outcomes[0].group_index is not None

    if not grouped:
        only = outcomes[0]
        verdict = "finished" if only.succeeded else "failed"
        summary = "It succeeded." if only.succeeded else f"It failed: {_reason(only)}."
        sms_summary = ""
    else:
        verdict = "failed" if ok == 0 else "finished"
        if ok == total:
            count = f"all {total} slices succeeded" if total > 1 else "the slice succeeded"
        elif ok == 0:
            count = f"none of the {total} slices succeeded" if total > 1 else "the slice failed"
        else:
            count = f"{ok} of {total} slices succeeded"
        summary = count[0].upper() + count[1:] + "."
        sms_summary = count
        for merge in merges:
            summary += (
                " Merging the slices succeeded."
                if merge.succeeded
                else f" Merging the slices failed: {_reason(merge)}."
            )
        if merges and not all(m.succeeded for m in merges):
            sms_summary += ", merging failed"

    subject = f'Process "{process}" {verdict}' + ("" if not grouped else f": {sms_summary}")
    lines = [
        f'Your process "{process}" (service "{service}") in organisation "{org}" has {verdict}.',
        summary,
        "",
    ]
    if grouped:
        lines.append(f"Group {group_id}:" if group_id else "Executions:")
        lines += [f"  {_outcome_line(o, total)}" for o in outcomes]
    else:
        lines.append(f"Execution {outcomes[0].execution_id}")
    lines += _link_lines(links)
    ending = f": {sms_summary}." if grouped else "."
    sms = _sms(f'terrafuse: process "{{name}}" {verdict}{ending}', process_name)
    return Message(subject=subject, text=_body(lines), sms_text=sms)


def expiry_warning(
    process_name: str,
    execution_ids: Sequence[str],
    delete_expiry: datetime,
    time_zone: str = "UTC",
    links: Mapping[str, str] | None = None,
) -> Message:
    """The warning sent before the outputs of a process run (one execution or a group) are deleted.

    Raises:
        InvalidInput: when no execution is named.
    """
    ids = [str(i) for i in execution_ids]
    if not ids:
        raise InvalidInput("an expiry warning needs at least one execution")
    process, when = _name(process_name), format_time(delete_expiry, time_zone)
    what = "the outputs of 1 execution" if len(ids) == 1 else f"the outputs of {len(ids)} executions"
    lines = [
        f'{what[0].upper() + what[1:]} of your process "{process}" will be deleted on {when}.',
        "Download anything you want to keep before then.",
        "",
        "Execution:" if len(ids) == 1 else "Executions:",
        *(f"  {i}" for i in ids),
        *_link_lines(links),
    ]
    short = format_time(delete_expiry, time_zone, short=True)
    sms = _sms(f'terrafuse: outputs of process "{{name}}" will be deleted on {short}.', process_name)
    return Message(
        subject=f'Outputs of process "{process}" will be deleted on {when}', text=_body(lines), sms_text=sms
    )


def out_of_credits(
    organisation_name: str, nbytes: int, delete_after: datetime, time_zone: str = "UTC"
) -> Message:
    """The notice that an organisation ran out of credits and its stored files will be deleted
    after the grace period unless credits are bought."""
    org, when, size = _name(organisation_name), format_time(delete_after, time_zone), format_bytes(nbytes)
    lines = [
        f'Organisation "{org}" has run out of credits.',
        "",
        f"Its stored files ({size}) will be deleted after {when} unless credits are bought "
        "before then. Buying credits cancels the deletion.",
    ]
    short = format_time(delete_after, time_zone, short=True)
    sms = _sms(
        f'terrafuse: "{{name}}" is out of credits; its files ({size}) will be deleted after {short} '
        "unless credits are bought.",
        organisation_name,
    )
    return Message(
        subject=f'"{org}" is out of credits: stored files will be deleted after {when}',
        text=_body(lines),
        sms_text=sms,
    )


def format_time(when: datetime, time_zone: str = "UTC", short: bool = False) -> str:
    """``when`` in ISO form in ``time_zone`` with its name, e.g. ``2026-03-17T09:30+00:00 (UTC)``.

    A naive datetime is taken as UTC (the platform stores UTC); an unknown zone falls back to UTC.
    ``short`` leaves out the offset (for text messages).
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone, time_zone = ZoneInfo("UTC"), "UTC"
    local = when.astimezone(zone)
    if short:
        return f"{local:%Y-%m-%d %H:%M} {time_zone}"
    return f"{local.isoformat(timespec='minutes')} ({time_zone})"


def format_bytes(nbytes: int) -> str:
    """A byte count for people, in decimal units as billed (1 GB = 10^9 bytes)."""
    value = float(max(nbytes, 0))
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def _outcome(entry: OutcomeLike) -> ExecutionOutcome:
    if isinstance(entry, ExecutionOutcome):
        return entry
    if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or not 3 <= len(entry) <= 5:
        raise InvalidInput(
            "an execution outcome is (execution_id, group_index, succeeded, reason[, aggregator])"
        )
    execution_id, index, succeeded, *rest = entry
    reason = rest[0] if rest else None
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise InvalidInput(f"group_index of execution {execution_id} must be a whole number or None")
    return ExecutionOutcome(
        execution_id=str(execution_id),
        group_index=index,
        succeeded=bool(succeeded),
        reason=None if reason is None else str(reason),
        aggregator=bool(rest[1]) if len(rest) > 1 else False,
    )


def _outcome_line(o: ExecutionOutcome, total: int) -> str:
    if o.aggregator:
        label = "merging the slices"
    elif o.group_index is None:
        label = "execution"
    else:
        label = f"slice {o.group_index + 1} of {total}"
    state = "succeeded" if o.succeeded else f"failed: {_reason(o)}"
    return f"{label}: {state} (execution {o.execution_id})"


def _reason(o: ExecutionOutcome) -> str:
    return _name(o.reason, 300).rstrip(".") if o.reason else "no reason was given"


def _name(text: str | None, limit: int = MAX_NAME) -> str:
    """One line, at most ``limit`` characters: safe in a header, short in a text message."""
    flat = " ".join(_CONTROL.sub(" ", str(text or "")).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _sms(template: str, name: str) -> str:
    """``template`` with ``{name}`` replaced by ``name``, clipped to fit one text message."""
    room = SMS_LENGTH - len(template) + len("{name}")
    return template.replace("{name}", _name(name, max(MIN_SMS_NAME, min(MAX_SMS_NAME, room))))


def _link_lines(links: Mapping[str, str] | None) -> list[str]:
    if not links:
        return []
    return ["", *(f"{_name(label)}: {_name(url, 2000)}" for label, url in links.items())]


def _body(lines: list[str]) -> str:
    return "Hello,\n\n" + "\n".join(lines).rstrip() + "\n\n" + SIGNATURE + "\n"
