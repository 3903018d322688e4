"""Firings of processes and what happens when their executions end.

A **firing** turns a process into executions: the region is sliced (services that slice, when
it is larger than ``slice_max_km2``), each slice becomes an execution of one group, plus an
aggregator execution when the service has one; the price is shared between them and each
share is reserved as a credit hold, all in one transaction with the executions, so a firing is
either fully paid for and recorded or not at all.

A scheduled process is **armed** (``next_run_at``); the scheduler (every server's dispatcher
sweep) fires due processes. Its claim is a compare-and-set on ``next_run_at`` in the same
transaction as the firing's executions, so however many servers run, each occurrence fires once.

When an execution **ends** (:func:`execution_ended`, called by the runner on the worker): its hold
is settled (success: its share; failure: nothing; stopped: the share of the work done), the
group's aggregator runs once every slice has ended, the process goes back to ``stop`` once
nothing is running and nothing is scheduled, and the user who executed it is notified once per
group.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import shapely.geometry
from sqlalchemy import Connection, select, update

from terrafuse.core.catalogue import PlatformFace
from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.executions import Execution, ExecutionRequest, ExecutionStatus
from terrafuse.core.processes import Process, ProcessStatus, share_price
from terrafuse.engine.runner import discard_outputs
from terrafuse.errors import InsufficientCredits
from terrafuse.services.platform.common import GRID_EPSG
from terrafuse.store.tables import ExecutionRow

log = logging.getLogger(__name__)

AGGREGATOR_KEY = "statistics-aggregator"
_X = ExecutionRow.__table__
_UNFINISHED = [s.value for s in ExecutionStatus if not s.finished]


def hold_reference(execution_id: str) -> str:
    """The credit hold of one execution's share of the price."""
    return f"execution:{execution_id}"


def _slices(platform: Any, process: Process, f: PlatformFace) -> list[Any]:
    from terrafuse.core.slicing import slice_region
    from terrafuse.usecases.processes import region_of

    region = region_of(platform, process.organisation_id, f, process.inputs)
    if f.sliced:
        return [(s.geometry, s.epsg) for s in slice_region(region, platform.rt.settings.slice_max_km2)]
    return [(region, None)]


def _option_inputs(f: PlatformFace, process: Process) -> dict[str, Any]:
    from terrafuse.core.options import decode_option, option_json

    return {o.name: option_json(o, decode_option(o, process.options.get(o.name))) for o in f.options}


def plan_executions(
    platform: Any, process: Process, fired_at: datetime, user_id: str | None
) -> list[Execution]:
    """The executions one firing of the process creates (not stored).

    A process made by an OGC execute runs its OGC inputs as one execution (an OGC job has one
    set of results); others run one execution per slice of their region, plus an aggregator.
    """
    if process.ogc_inputs is not None:
        service = platform.rt.registry.resolve(process.service_key)
        version = service.description.version
        return [
            _execution(process, process.service_key, version, dict(process.ogc_inputs), fired_at, user_id)
        ]

    from terrafuse.usecases.catalogue import face
    from terrafuse.usecases.processes import service_of

    f = face(service_of(platform, process))
    slices = _slices(platform, process, f)
    options = _option_inputs(f, process)
    grouped = len(slices) > 1
    aggregate = grouped and f.aggregator
    count = len(slices) + (1 if aggregate else 0)
    prices = share_price(process.price, count)
    group_id = new_id() if grouped else None

    def member(index: int, service_key: str, inputs: dict[str, Any], aggregator: bool) -> Execution:
        return _execution(
            process,
            service_key,
            f.version,
            inputs,
            fired_at,
            user_id,
            price=prices[index],
            group=(group_id, index, count) if grouped else None,
            aggregator=aggregator,
        )

    def slice_inputs(geometry: Any, epsg: int | None) -> dict[str, Any]:
        region = {"region": shapely.geometry.mapping(geometry), **options}
        # Every slice of a group on its region's grid (see services.platform.common.grid_crs).
        return {**region, GRID_EPSG: epsg} if grouped and epsg is not None else region

    executions = [
        member(i, f.key, slice_inputs(geometry, epsg), False) for i, (geometry, epsg) in enumerate(slices)
    ]
    if aggregate:
        executions.append(member(len(slices), AGGREGATOR_KEY, {}, True))
    return executions


def _execution(
    process: Process,
    service_key: str,
    version: str,
    inputs: dict[str, Any],
    fired_at: datetime,
    user_id: str | None,
    price: Decimal | None = None,
    group: tuple[str | None, int, int] | None = None,
    aggregator: bool = False,
) -> Execution:
    """One accepted execution of a firing; ``group`` is (group id, index, count) for slices."""
    group_id, index, count = group if group is not None else (None, None, None)
    return Execution(
        id=new_id(),
        organisation_id=process.organisation_id,
        service_id=service_key,
        service_version=version,
        status=ExecutionStatus.ACCEPTED,
        inputs=inputs,
        request=ExecutionRequest(),
        created_at=fired_at,
        updated_at=fired_at,
        process_id=process.id,
        group_id=group_id,
        group_index=index,
        group_count=count,
        aggregator=aggregator,
        price=process.price if price is None else price,
        delete_expiry=fired_at + timedelta(days=process.output_storage_period),
        executed_by=user_id,
    )


def record_firing(
    platform: Any, process: Process, executions: list[Execution], conn: Connection, changes: dict[str, Any]
) -> None:
    """Reserve every share and store the executions and the process changes in ``conn``'s transaction.

    Raises:
        InsufficientCredits: when the organisation cannot pay (the caller's transaction must roll back).
    """
    credits = platform.rt.credits
    for ex in executions:
        if ex.price and ex.price > 0:
            note = f"process {process.name!r}" + (
                f" slice {ex.group_index}" if ex.group_index is not None else ""
            )
            if not credits.reserve(
                process.organisation_id, ex.price, hold_reference(ex.id), note=note, conn=conn
            ):
                raise InsufficientCredits(
                    f"the organisation has too few credits to run {process.name!r}: it costs {process.price} "
                    "credits per run"
                )
        platform.rt.executions.add(ex, conn)
    platform.rt.processes.update(process.id, changes, conn)


def _dispatch(platform: Any, executions: list[Execution]) -> None:
    for ex in executions:
        if not ex.aggregator:  # an aggregator is run by the last slice to end
            platform.dispatcher.dispatch(ex.id)


def fire(platform: Any, process: Process, fired_at: datetime, user_id: str | None) -> list[Execution]:
    """Fire a run-once process now (execute)."""
    executions = plan_executions(platform, process, fired_at, user_id)
    changes = {
        "process_status": ProcessStatus.EXECUTE,
        "process_status_at": fired_at,
        "process_status_changed_by": user_id,
        # The SDK waits for executions started at or after repeat_start.
        "repeat_start": fired_at,
        "next_run_at": None,
        "updated_at": fired_at,
    }
    with platform.rt.db.write_conn() as conn:
        _claim_start(platform, process, changes, conn)
        record_firing(platform, process, executions, conn, {})
    _dispatch(platform, executions)
    return executions


def _claim_start(platform: Any, process: Process, changes: dict[str, Any], conn: Connection) -> None:
    """Mark the process executing, or refuse when a concurrent execute got there first."""
    from terrafuse.errors import Conflict

    if not platform.rt.processes.claim_start(process.id, changes, conn):
        raise Conflict("the process is already executing; stop it first")


def arm(platform: Any, process: Process, now: datetime, user_id: str | None) -> None:
    """Start a scheduled process: it fires at its next occurrence (checked for credits then)."""
    from terrafuse.core.schedules import next_occurrence

    schedule = schedule_of(process)
    first = next_occurrence(schedule, now - timedelta(microseconds=1))
    if first is None:
        from terrafuse.errors import InvalidInput

        raise InvalidInput(
            "the schedule has no occurrence left (check repeat_count, repeat_start and repeat_end)"
        )
    changes = {
        "process_status": ProcessStatus.EXECUTE,
        "process_status_at": now,
        "process_status_changed_by": user_id,
        "repeat_start": first,
        "next_run_at": first,
        "created_by": process.created_by or user_id,
        "updated_at": now,
    }
    with platform.rt.db.write_conn() as conn:
        _claim_start(platform, process, changes, conn)


def schedule_of(process: Process, cursor: bool = True) -> Any:
    """The process's schedule as ``terrafuse.core.schedules.Schedule``.

    With ``cursor``, an armed process's schedule starts at its next occurrence (what is left of
    it); without, at its stored ``repeat_start`` (what the user sees and edits).
    """
    from terrafuse.core.schedules import Schedule, parse_repeat_gap, parse_repeat_offset

    return Schedule(
        run_type=process.run_type,
        repeat_count=process.repeat_count,
        repeat_start=(process.next_run_at if cursor else None) or process.repeat_start,
        repeat_end=process.repeat_end,
        repeat_gap=parse_repeat_gap(process.repeat_gap) if process.repeat_gap else None,
        repeat_offset=parse_repeat_offset(process.repeat_offset) if process.repeat_offset else None,
        output_storage_period=process.output_storage_period,
    )


def scheduler_tick(platform: Any, now: datetime | None = None) -> list[str]:
    """Fire every due scheduled process once; the ids of the executions created.

    A firing stands for one occurrence of the schedule (missed ones are caught up within the
    schedule module's window, one per tick); ``repeat_start`` then shows that occurrence (the SDK
    waits for executions started at or after it) and ``next_run_at`` the next one.
    """
    from terrafuse.core.schedules import plan_firing

    now = now or utcnow()
    created: list[str] = []
    for process in platform.rt.processes.due(now):
        expected = process.next_run_at
        assert expected is not None
        plan = plan_firing(schedule_of(process), now)
        following = plan.remaining
        user_id = process.process_status_changed_by or process.created_by
        changes: dict[str, Any] = {"updated_at": now, "repeat_start": plan.occurrence}
        if following is None:
            changes.update(next_run_at=None, repeat_count=0)
        else:
            changes.update(next_run_at=following.repeat_start, repeat_count=following.repeat_count)
        try:
            executions = plan_executions(platform, process, now, user_id)
        except Exception as exc:  # the region went missing, ...: stop instead of retrying forever
            log.warning("process %s cannot fire: %s", process.id, exc)
            with platform.rt.db.write_conn() as conn:
                if platform.rt.processes.claim_firing(
                    process.id, expected, {**changes, "next_run_at": None}, conn
                ):
                    platform.rt.processes.update(process.id, {"process_status": ProcessStatus.STOP}, conn)
            continue
        try:
            with platform.rt.db.write_conn() as conn:
                if not platform.rt.processes.claim_firing(process.id, expected, changes, conn):
                    continue  # another server fired it
                record_firing(platform, process, executions, conn, {})
        except InsufficientCredits as exc:
            log.warning("process %s skipped a firing: %s", process.id, exc.detail)
            with platform.rt.db.write_conn() as conn:
                platform.rt.processes.claim_firing(process.id, expected, changes, conn)
            _maybe_stop(platform.rt, process.id)
            continue
        _dispatch(platform, executions)
        created.extend(ex.id for ex in executions)
    return created


# -- stop and delete --------------------------------------------------------------------------
def stop(platform: Any, process: Process, user_id: str | None) -> None:
    """No more firings; running and queued executions are aborted (charged for the part done)."""
    now = utcnow()
    platform.rt.processes.update(
        process.id,
        {
            "process_status": ProcessStatus.STOP,
            "process_status_at": now,
            "process_status_changed_by": user_id,
            "next_run_at": None,
            "updated_at": now,
        },
    )
    from terrafuse.store.processes import process_execution_ids

    for execution_id in process_execution_ids(platform.rt.db, process.id):
        abort(platform, execution_id, "stopped by the user")


def abort(platform: Any, execution_id: str, reason: str) -> Execution | None:
    """Dismiss an unfinished execution, charging the part done; the execution as it is after.

    Queued work is dropped; running work sees the dismissal at its next heartbeat and stops.
    """
    execution = platform.rt.executions.get(execution_id)
    if execution is None or execution.status.finished:
        return execution
    with platform.rt.db.write_conn() as conn:
        # Only unfinished executions are marked: one that succeeded meanwhile is charged in full.
        conn.execute(
            update(_X).where(_X.c.id == execution_id, _X.c.status.in_(_UNFINISHED)).values(stopped=True)
        )
    dismissed = platform.rt.executions.dismiss(execution_id, reason)
    if execution.status is ExecutionStatus.ACCEPTED:
        platform.dispatcher.executor.cancel(execution_id)
    execution_ended(platform.rt, execution_id)
    return dismissed


def delete_executions(platform: Any, execution_ids: list[str]) -> None:
    """Delete executions with their components, logs, output data items and bytes."""

    for execution_id in execution_ids:
        execution = platform.rt.executions.get(execution_id)
        if execution is None:
            continue
        discard_outputs(platform.rt, execution_id)
        platform.rt.credits.release(hold_reference(execution_id), note="execution deleted")
        with platform.rt.db.write_conn() as conn:
            conn.execute(_X.delete().where(_X.c.id == execution_id))


# -- the end of an execution ----------------------------------------------------------------------
def execution_ended(rt: Any, execution_id: str) -> str | None:
    """Settle, chain and notify after an execution ended; the id of an aggregator now due, if any.

    Safe to call more than once for the same execution (each step is idempotent).
    """
    execution = rt.executions.get(execution_id)
    if execution is None or not execution.status.finished or execution.process_id is None:
        return None
    _settle(rt, execution)
    due = _aggregator_due(rt, execution)
    _maybe_stop(rt, execution.process_id)
    _maybe_notify(rt, execution)
    return due


def _settle(rt: Any, execution: Execution) -> None:
    reference = hold_reference(execution.id)
    price = execution.price or Decimal(0)
    if execution.status is ExecutionStatus.SUCCESSFUL:
        rt.credits.settle(reference, price, note="execution succeeded") if price > 0 else None
    elif execution.status is ExecutionStatus.DISMISSED and execution.stopped and price > 0:
        done = (price * Decimal(execution.progress) / 100).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        rt.credits.settle(reference, done, note=f"stopped at {execution.progress}%")
    else:
        rt.credits.release(reference, note=f"execution {execution.status.value}")


def _aggregator_due(rt: Any, execution: Execution) -> str | None:
    if execution.group_id is None or execution.aggregator:
        return None
    with rt.db.read_conn() as c:
        rows = c.execute(
            select(_X.c.id, _X.c.status, _X.c.aggregator).where(_X.c.group_id == execution.group_id)
        ).all()
    slices = [r for r in rows if not r.aggregator]
    aggregators = [r for r in rows if r.aggregator and r.status == ExecutionStatus.ACCEPTED.value]
    if aggregators and all(ExecutionStatus(r.status).finished for r in slices):
        return str(aggregators[0].id)
    return None


def _maybe_stop(rt: Any, process_id: str) -> None:
    """Back to ``stop`` once nothing runs and nothing is scheduled (run-once processes when done)."""
    process = rt.processes.by_id(process_id)
    if process is None or not process.executing or process.next_run_at is not None:
        return
    with rt.db.read_conn() as c:
        statuses = c.execute(select(_X.c.status).where(_X.c.process_id == process_id)).scalars().all()
    if all(ExecutionStatus(s).finished for s in statuses):
        now = utcnow()
        rt.processes.update(
            process_id, {"process_status": ProcessStatus.STOP, "process_status_at": now, "updated_at": now}
        )


def _maybe_notify(rt: Any, execution: Execution) -> None:
    """Tell the user who executed it, once per group (or execution), when all of it has ended."""
    key = _X.c.group_id == execution.group_id if execution.group_id else _X.c.id == execution.id
    with rt.db.read_conn() as c:
        members = c.execute(
            select(_X.c.id, _X.c.status, _X.c.group_index, _X.c.message, _X.c.aggregator).where(key)
        ).all()
    if not members or not all(ExecutionStatus(m.status).finished for m in members):
        return
    now = utcnow()
    with rt.db.write_conn() as c:
        won = c.execute(update(_X).where(key, _X.c.notified_at.is_(None)).values(notified_at=now)).rowcount
    if not won:
        return
    notify_finished(rt, execution, members)


def notify_finished(rt: Any, execution: Execution, members: list[Any]) -> None:
    """Send the completion message (e-mail/SMS per the user's preferences); never raises."""
    try:
        from terrafuse.notifications import Notifications, messages

        if not execution.executed_by:
            return
        user = _user(rt, execution.executed_by)
        process = rt.processes.by_id(execution.process_id) if execution.process_id else None
        if user is None or process is None:
            return
        org = rt.organisations.by_id(execution.organisation_id)
        rows = [
            (m.id, m.group_index, m.status == ExecutionStatus.SUCCESSFUL.value, m.message, bool(m.aggregator))
            for m in sorted(members, key=lambda m: m.group_index or 0)
        ]
        service = rt.registry.resolve(process.service_key)
        face = service.description.platform
        message = messages.execution_finished(
            process_name=process.name,
            service_name=face.name if face is not None else service.description.title,
            organisation_name=org.name if org else execution.organisation_id,
            executions=rows,
            group_id=execution.group_id,
        )
        Notifications.from_settings(rt.settings).deliver(user, "processing_chain", message)
    except Exception:  # a notification must never break the end of an execution
        log.exception("completion notification for execution %s failed", execution.id)


def _user(rt: Any, user_id: str) -> Any:
    from terrafuse.store.accounts import Users

    return Users(rt.db).get(user_id)


# -- expiry -----------------------------------------------------------------------------------
def expire_executions(platform: Any, now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Warn about executions whose outputs are deleted soon, and delete expired ones.

    Each group (or lone execution) is warned once, ``expiry_warning_hours`` ahead, by a
    compare-and-set on ``delete_warning_status``. Running executions are never deleted. Returns
    (warned, deleted) execution ids.
    """
    now = now or utcnow()
    rt = platform.rt
    soon = now + timedelta(hours=rt.settings.expiry_warning_hours)
    finished = [s.value for s in ExecutionStatus if s.finished]
    with rt.db.read_conn() as c:
        warn_rows = c.execute(
            select(_X.c.id, _X.c.group_id, _X.c.process_id, _X.c.executed_by, _X.c.delete_expiry).where(
                _X.c.delete_expiry.is_not(None),
                _X.c.delete_expiry <= soon,
                _X.c.delete_expiry > now,
                _X.c.delete_warning_status == "none",
                _X.c.process_id.is_not(None),
            )
        ).all()
        expired = (
            c.execute(
                select(_X.c.id).where(
                    _X.c.delete_expiry.is_not(None), _X.c.delete_expiry <= now, _X.c.status.in_(finished)
                )
            )
            .scalars()
            .all()
        )
    warned: list[str] = []
    for row in warn_rows:
        key = _X.c.group_id == row.group_id if row.group_id else _X.c.id == row.id
        with rt.db.write_conn() as c:
            won = c.execute(
                update(_X)
                .where(key, _X.c.delete_warning_status == "none")
                .values(delete_warning_status="sent")
            ).rowcount
        if won:
            warned.append(row.id)
            _warn_expiry(rt, row)
    if expired:
        log.info("deleting %d expired execution(s)", len(expired))
        delete_executions(platform, list(expired))
    return warned, list(expired)


def _warn_expiry(rt: Any, row: Any) -> None:
    try:
        from terrafuse.notifications import Notifications, messages

        user = _user(rt, row.executed_by) if row.executed_by else None
        process = rt.processes.by_id(row.process_id)
        if user is None or process is None:
            return
        ids = [row.id]
        if row.group_id:
            from terrafuse.store.processes import group_execution_ids

            ids = group_execution_ids(rt.db, row.group_id)
        message = messages.expiry_warning(process.name, ids, row.delete_expiry)
        Notifications.from_settings(rt.settings).deliver(user, "processing_chain", message)
    except Exception:
        log.exception("expiry warning for execution %s failed", row.id)
