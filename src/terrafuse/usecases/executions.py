"""Execution use cases: submit, read, list, dismiss, results.

Each function takes the acting organisation explicitly; an execution of another organisation
answers exactly as one that does not exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from terrafuse.core.accounts import ANONYMOUS, Principal, Privilege
from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.executions import Execution, ExecutionFilter, ExecutionRequest, ExecutionStatus
from terrafuse.core.organisations import Organisation
from terrafuse.engine.dispatcher import Dispatcher
from terrafuse.engine.inline import InlineRunContext
from terrafuse.engine.runner import Heartbeat, Runtime, run_claimed
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
) -> Execution:
    """Validate and record a new execution, then run it (sync) or queue it (async).

    Nothing is stored when the inputs are invalid. In sync mode the returned execution is
    finished unless ``sync_timeout`` passed first.
    """
    inputs = validate_inputs(service.description, raw_inputs)
    service.check_inputs(inputs)
    now = utcnow()
    inline = mode is Mode.SYNC and service.description.inline
    execution = Execution(
        id=new_id(),
        organisation_id=org.id,
        service_id=service.description.id,
        service_version=service.description.version,
        # An inline run is claimed by this process from the start (one write fewer).
        status=ExecutionStatus.RUNNING if inline else ExecutionStatus.ACCEPTED,
        inputs=inputs,
        request=request,
        created_at=now,
        updated_at=now,
        started_at=now if inline else None,
        heartbeat_at=now if inline else None,
        attempts=1 if inline else 0,
    )
    rt = platform.rt
    rt.executions.add(execution)
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
        )

    run_claimed(rt, execution, make_context)


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
    """Stop the execution if it is queued or running, and delete its outputs."""
    before = get(platform, org, execution_id)
    execution = platform.rt.executions.dismiss(execution_id, "dismissed by the client")
    assert execution is not None
    if before.status is ExecutionStatus.ACCEPTED:
        # Not started: drop the queued task. Running work sees the dismissal (heartbeat) and stops
        # by itself; its task is left to end, so the executor keeps tracking it until it really has.
        platform.dispatcher.executor.cancel(execution_id)
    platform.rt.storage.delete_prefix(f"{execution_id}/")
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
