"""Execution use cases: submit, read, list, dismiss, results.

Each function takes the acting organisation explicitly; an execution of another organisation
answers exactly as one that does not exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from terrafuse.core.accounts import ANONYMOUS, Principal, Privilege
from terrafuse.core.clock import utcnow
from terrafuse.core.executions import Execution, ExecutionFilter, ExecutionRequest, ExecutionStatus
from terrafuse.core.organisations import Organisation
from terrafuse.engine.components import ExecutionComponents
from terrafuse.engine.dispatcher import Dispatcher
from terrafuse.engine.inline import InlineRunContext
from terrafuse.engine.runner import Heartbeat, Runtime, discard_outputs, run_claimed
from terrafuse.errors import (
    ExecutionFailed,
    NoSuchExecution,
    NoSuchNamespace,
    NotFound,
    ResultNotReady,
    Unauthorized,
)
from terrafuse.services.base import Service
from terrafuse.usecases.accounts import Accounts, require
from terrafuse.usecases.data import DataContext, build_data_context
from terrafuse.usecases.validation import validate_inputs


class Mode(enum.StrEnum):
    """Whether the caller waits for the execution to finish."""

    SYNC = "sync"
    ASYNC = "async"


@dataclass
class Platform:
    """Everything the use cases act on (built by ``terrafuse.bootstrap``)."""

    rt: Runtime
    dispatcher: Dispatcher
    accounts: Accounts = None  # type: ignore[assignment]  # built from ``rt`` when not given
    data: DataContext = None  # type: ignore[assignment]  # built from ``rt`` when not given

    def __post_init__(self) -> None:
        if self.accounts is None:
            self.accounts = Accounts(self.rt.db, self.rt.settings.secret_bytes(), self.rt.organisations)
        if self.data is None:
            self.data = build_data_context(self.rt, self.dispatcher.executor)


def organisation(
    platform: Platform,
    namespace: str,
    principal: Principal = ANONYMOUS,
    privilege: Privilege = Privilege.VIEW,
) -> Organisation:
    """The organisation named by ``namespace``, if the principal may act in it with ``privilege``.

    Anyone may act in a namespace that allows anonymous access. Elsewhere: no credentials ->
    ``Unauthorized``; not a member -> ``NoSuchNamespace``, exactly as for a namespace that does
    not exist; a member without the privilege -> ``Forbidden``.
    """
    org = platform.rt.organisations.by_namespace(namespace)
    missing = NoSuchNamespace(f"no namespace {namespace!r}")
    if org is None:
        raise missing
    if org.allow_anonymous:
        return org
    if principal.anonymous:
        raise Unauthorized(f"namespace {namespace!r} needs credentials")
    try:
        require(principal, org.id, privilege)
    except NotFound:
        raise missing from None
    return org


def submit(
    platform: Platform,
    org: Organisation,
    service: Service,
    raw_inputs: dict[str, Any],
    request: ExecutionRequest,
    mode: Mode,
    sync_timeout: float = 600.0,
    principal: Principal = ANONYMOUS,
) -> Execution:
    """Validate, price and record a new job, then run it (sync) or queue it (async).

    The job is the one execution of a new run-once process of the organisation (so the platform
    API sees it too); its price is reserved from the organisation's credits in the same
    transaction, and nothing is stored when the inputs are invalid or the credits too few. In
    sync mode the returned execution is finished unless ``sync_timeout`` passed first.
    """
    from terrafuse.usecases.firings import plan_executions, record_firing
    from terrafuse.usecases.processes import ogc_process

    inputs = validate_inputs(service.description, raw_inputs)
    service.check_inputs(inputs)
    rt = platform.rt
    process = ogc_process(platform, principal, org.id, service, inputs)
    now = process.created_at
    inline = mode is Mode.SYNC and service.description.inline
    [planned] = plan_executions(platform, process, now, principal.user_id)
    execution = replace(
        planned,
        request=request,
        # An inline run is claimed by this process from the start (one write fewer).
        status=ExecutionStatus.RUNNING if inline else ExecutionStatus.ACCEPTED,
        started_at=now if inline else None,
        heartbeat_at=now if inline else None,
        attempts=1 if inline else 0,
    )
    with rt.db.write_conn() as conn:
        rt.processes.add(process, conn)
        record_firing(platform, process, [execution], conn, {})
    if inline:
        _run_inline(rt, execution)
    else:
        platform.dispatcher.dispatch(execution.id)
        if mode is Mode.ASYNC:
            return execution  # as stored: accepted
        platform.dispatcher.executor.wait(execution.id, sync_timeout)
    return get(platform, org, execution.id)


def _run_inline(rt: Runtime, execution: Execution) -> None:
    def make_context(ex: Execution, heartbeat: Heartbeat) -> InlineRunContext:
        return InlineRunContext(
            ex.id,
            rt.storage,
            rt.settings.scratch_dir,
            cancelled=heartbeat.cancelled.is_set,
            progress_sink=heartbeat.set_progress,
            log_sink=lambda message: rt.executions.add_log(ex.id, message),
            components=ExecutionComponents(rt, ex, heartbeat.set_progress),
            catalog_url=rt.settings.resolved_stac_catalog,
        )

    run_claimed(rt, execution, make_context)
    rt.ended(execution.id)


def get(platform: Platform, org: Organisation, execution_id: str) -> Execution:
    """The execution (raises ``NoSuchExecution``)."""
    execution = platform.rt.executions.get(execution_id, org.id)
    if execution is None:
        raise NoSuchExecution(f"no job with id {execution_id!r}")
    return execution


def list_executions(
    platform: Platform, org: Organisation, flt: ExecutionFilter
) -> tuple[list[Execution], bool]:
    """A page of the organisation's executions, newest first, and whether more follow."""
    return platform.rt.executions.list(org.id, flt, utcnow())


def dismiss(platform: Platform, org: Organisation, execution_id: str) -> Execution:
    """Stop the job if it is queued or running (charging the part done), and delete its results."""
    from terrafuse.usecases.firings import abort

    get(platform, org, execution_id)
    # Queued work is dropped; running work sees the dismissal (heartbeat) and stops by itself.
    abort(platform, execution_id, "dismissed by the client")
    execution = platform.rt.executions.dismiss(execution_id, "dismissed by the client")
    assert execution is not None
    discard_outputs(platform.rt, execution_id)
    return execution


def results(platform: Platform, org: Organisation, execution_id: str) -> Execution:
    """The execution, if it succeeded (its ``outputs`` are the results)."""
    execution = get(platform, org, execution_id)
    if execution.status is ExecutionStatus.SUCCESSFUL:
        return execution
    if execution.status is ExecutionStatus.FAILED:
        raise ExecutionFailed(execution.message or "the job failed", code=execution.error_code)
    if execution.status is ExecutionStatus.DISMISSED:
        raise NoSuchExecution(f"job {execution_id!r} was dismissed; its results were deleted")
    raise ResultNotReady(f"job {execution_id!r} is {execution.status.value}; results are not ready yet")


def logs(platform: Platform, org: Organisation, execution_id: str) -> list[tuple[Any, str]]:
    """The execution's log lines."""
    get(platform, org, execution_id)
    return platform.rt.executions.logs(execution_id)
