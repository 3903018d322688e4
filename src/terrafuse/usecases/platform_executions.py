"""Executions, components and logs as the platform API reads and changes them.

Executions belong to processes; their statuses are read from the executions table shared with
the OGC API (an OGC job is an execution or a group). Reading needs ``view``; deleting and
changing the deletion time need ``execute``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from terrafuse.core.accounts import Principal, Privilege
from terrafuse.core.clock import parse_datetime, utcnow
from terrafuse.core.executions import Execution
from terrafuse.core.listing import ListQuery
from terrafuse.core.processes import Component
from terrafuse.errors import Conflict, InvalidInput, NotFound
from terrafuse.store.processes import (
    execution_page,
    group_execution_ids,
    process_execution_ids,
    set_delete_expiry,
)
from terrafuse.usecases.accounts import require, require_write
from terrafuse.usecases.processes import get_process

EMBEDDED_LIMIT = 200
"""How many of a process's newest executions its record embeds."""


def _execution(platform: Any, organisation_id: str, execution_id: str) -> Execution:
    found = platform.rt.executions.get(execution_id, organisation_id)
    if found is None or found.process_id is None:
        raise NotFound(f"no execution with id {execution_id!r}")
    return found


def embedded(platform: Any, process_id: str) -> list[Execution]:
    """A process's executions, newest first (what its record embeds)."""
    ids = process_execution_ids(platform.rt.db, process_id)[-EMBEDDED_LIMIT:]
    return platform.rt.executions.summaries(list(reversed(ids)))


def list_executions(
    platform: Any, principal: Principal, organisation_id: str, process_id: str, query: ListQuery
) -> tuple[list[Execution], dict[str, Any] | None]:
    """A page of a process's executions (by firing time) and the next page's cursor."""
    get_process(platform, principal, organisation_id, process_id)
    ids, last = execution_page(platform.rt.db, process_id, query)
    return platform.rt.executions.summaries(ids), last


def get_execution(platform: Any, principal: Principal, organisation_id: str, execution_id: str) -> Execution:
    """One execution of the organisation's processes."""
    require(principal, organisation_id, Privilege.VIEW)
    return _execution(platform, organisation_id, execution_id)


def delete_execution(
    platform: Any, principal: Principal, organisation_id: str, execution_id: str
) -> Execution:
    """Delete an ended execution with its outputs (refused while it runs)."""
    from terrafuse.usecases.firings import delete_executions

    require_write(principal, organisation_id)
    execution = _execution(platform, organisation_id, execution_id)
    if not execution.status.finished:
        raise Conflict("the execution is still running; stop its process first")
    delete_executions(platform, [execution.id])
    return execution


def change_delete_expiry(
    platform: Any, principal: Principal, organisation_id: str, execution_id: str, value: Any
) -> Execution:
    """Move the deletion time of the execution (and of its whole group) to ``value``."""
    require_write(principal, organisation_id)
    execution = _execution(platform, organisation_id, execution_id)
    if value is None:
        raise InvalidInput("delete_expiry is required: an ISO-8601 date and time")
    try:
        expiry: datetime = value if isinstance(value, datetime) else parse_datetime(str(value))
    except ValueError:
        raise InvalidInput(f"delete_expiry must be an ISO-8601 date and time, not {value!r}") from None
    now = utcnow()
    if expiry <= now:
        raise InvalidInput("delete_expiry must be in the future (delete the execution to remove it now)")
    ids = group_execution_ids(platform.rt.db, execution.group_id) if execution.group_id else [execution.id]
    set_delete_expiry(platform.rt.db, ids, expiry, now)
    return _execution(platform, organisation_id, execution_id)


def list_components(
    platform: Any, principal: Principal, organisation_id: str, execution_id: str, query: ListQuery
) -> tuple[list[Component], dict[str, Any] | None]:
    """A page of an execution's components, in chain order."""
    get_execution(platform, principal, organisation_id, execution_id)
    return platform.rt.components.page(execution_id, query)


def get_component(platform: Any, principal: Principal, organisation_id: str, component_id: str) -> Component:
    """One component of the organisation's executions."""
    require(principal, organisation_id, Privilege.VIEW)
    found = platform.rt.components.get(organisation_id, component_id)
    if found is None:
        raise NotFound(f"no process service execution with id {component_id!r}")
    return found


def component_logs(
    platform: Any, principal: Principal, organisation_id: str, component_id: str, query: ListQuery
) -> tuple[list[tuple[int, datetime, str]], dict[str, Any] | None]:
    """A page of a component's log lines."""
    get_component(platform, principal, organisation_id, component_id)
    return platform.rt.components.log_page(component_id, query)
