"""Platform API: executions, their components and logs (the SDK's ``ProcessExecution``,
``ProcessServiceExecution`` and ``ProcessServiceExecutionLog``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from terrafuse.api.fusion.process_shapes import component_model, execution_model, log_model, option_model
from terrafuse.api.fusion.shapes import flat_body_schema, nested_body_schema
from terrafuse.api.fusion.wire import FusionJSONResponse, Shape, list_envelope, parse_list_query
from terrafuse.api.routes.platform.common import model_fields, platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER, json_body
from terrafuse.core.accounts import Principal
from terrafuse.core.executions import Execution
from terrafuse.store.processes import COMPONENT_LIST, EXECUTION_LIST, LOG_LIST
from terrafuse.usecases import platform_executions as uc
from terrafuse.usecases.catalogue import face
from terrafuse.usecases.processes import service_of

router = APIRouter()
_ORG = "/organisations/{organisation_id}"
_EXECUTION = _ORG + "/process_executions/{execution_id}"
_COMPONENT = _ORG + "/process_service_executions/{component_id}"
_SECURED: dict[str, Any] = {"security": BEARER}
_EXPIRY = {"delete_expiry": Shape.VALUE}
_EXPIRY_SCHEMA = {"delete_expiry": {"type": "string", "format": "date-time"}}


def _model(request: Request, execution: Execution) -> dict[str, Any]:
    p = platform(request)
    options: list[dict[str, Any]] = []
    process = p.rt.processes.by_id(execution.process_id) if execution.process_id else None
    if process is not None and not execution.aggregator:
        f = face(service_of(p, process))
        options = [option_model(f, o, process.options.get(o.name)) for o in f.options]
    return execution_model(execution, options)


@router.get(_ORG + "/processes/{process_id}/executions", openapi_extra=_SECURED)
def list_executions(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """A page of a process's executions (``reverse=True``: newest first; filter ``group_id``)."""
    query = parse_list_query(
        request.query_params, filterable=EXECUTION_LIST.filter_names, cursor_keys=EXECUTION_LIST.cursor_keys
    )
    executions, last = uc.list_executions(platform(request), who, organisation_id, process_id, query)
    return FusionJSONResponse(list_envelope((_model(request, e) for e in executions), last))


@router.get(_EXECUTION, openapi_extra=_SECURED)
def get_execution(
    organisation_id: str, execution_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """One execution (``progress`` 100 once it ended; ``success`` says how)."""
    return reply(_model(request, uc.get_execution(platform(request), who, organisation_id, execution_id)))


@router.patch(
    _EXECUTION, openapi_extra={**_SECURED, **json_body(flat_body_schema("ProcessExecution", _EXPIRY_SCHEMA))}
)
async def update_execution(
    organisation_id: str, execution_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Change ``delete_expiry`` (the 1.1 SDK's way; applies to the whole group)."""
    fields = await model_fields(request, "ProcessExecution", _EXPIRY)
    p = platform(request)
    if "delete_expiry" in fields:
        execution = await run_in_threadpool(
            uc.change_delete_expiry, p, who, organisation_id, execution_id, fields["delete_expiry"]
        )
    else:
        execution = uc.get_execution(p, who, organisation_id, execution_id)
    return reply(_model(request, execution))


@router.post(
    _EXECUTION + "/change_delete_expiry",
    openapi_extra={
        **_SECURED,
        **json_body(nested_body_schema("ProcessExecution", _EXPIRY_SCHEMA, ["delete_expiry"])),
    },
)
async def change_delete_expiry(
    organisation_id: str, execution_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Change ``delete_expiry`` of the execution's whole group (the 2.x SDK's way)."""
    fields = await model_fields(request, "ProcessExecution", _EXPIRY)
    execution = await run_in_threadpool(
        uc.change_delete_expiry,
        platform(request),
        who,
        organisation_id,
        execution_id,
        fields.get("delete_expiry"),
    )
    return reply(_model(request, execution))


@router.delete(_EXECUTION, openapi_extra=_SECURED)
def delete_execution(
    organisation_id: str, execution_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Delete an ended execution and its outputs."""
    return reply(_model(request, uc.delete_execution(platform(request), who, organisation_id, execution_id)))


@router.get(_EXECUTION + "/process_service_executions", openapi_extra=_SECURED)
def list_components(
    organisation_id: str, execution_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """The execution's components in chain order."""
    p = platform(request)
    query = parse_list_query(
        request.query_params, filterable=COMPONENT_LIST.filter_names, cursor_keys=COMPONENT_LIST.cursor_keys
    )
    components, last = uc.list_components(p, who, organisation_id, execution_id, query)
    execution = uc.get_execution(p, who, organisation_id, execution_id)
    service_id = _service_id(request, execution)
    return FusionJSONResponse(
        list_envelope((component_model(c, execution, service_id) for c in components), last)
    )


@router.get(_COMPONENT, openapi_extra=_SECURED)
def get_component(
    organisation_id: str, component_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """One component."""
    p = platform(request)
    component = uc.get_component(p, who, organisation_id, component_id)
    execution = uc.get_execution(p, who, organisation_id, component.execution_id)
    return reply(component_model(component, execution, _service_id(request, execution)))


@router.get(_COMPONENT + "/logs", openapi_extra=_SECURED)
def component_logs(
    organisation_id: str, component_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """A page of the component's log lines."""
    query = parse_list_query(
        request.query_params, filterable=LOG_LIST.filter_names, cursor_keys=LOG_LIST.cursor_keys
    )
    lines, last = uc.component_logs(platform(request), who, organisation_id, component_id, query)
    return FusionJSONResponse(list_envelope((log_model(component_id, *line) for line in lines), last))


def _service_id(request: Request, execution: Execution) -> str:
    p = platform(request)
    process = p.rt.processes.by_id(execution.process_id) if execution.process_id else None
    return process.service_id if process is not None else execution.service_id
