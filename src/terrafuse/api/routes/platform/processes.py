"""Platform API: processes (the Fusion SDK's ``Process``).

``processes/new?service_id=`` answers a template (loaded partially by the SDK) with
``extras.dispatchers`` (empty); ``POST processes`` validates and prices; ``execute`` and ``stop``
take no body and answer the process; ``DELETE`` stops it and removes its executions and their
outputs. The process record embeds its executions' statuses (newest first), which the SDK polls.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from terrafuse.api.fusion.process_shapes import process_model, template_model
from terrafuse.api.fusion.shapes import flat_body_schema
from terrafuse.api.fusion.wire import FusionJSONResponse, Shape, list_envelope, parse_list_query
from terrafuse.api.routes.platform.common import model_fields, platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER, json_body
from terrafuse.core.accounts import Principal
from terrafuse.core.processes import Process
from terrafuse.store.processes import PROCESS_LIST
from terrafuse.usecases import platform_executions as ex
from terrafuse.usecases import processes as uc
from terrafuse.usecases.catalogue import face

router = APIRouter()
_ROOT = "/organisations/{organisation_id}/processes"
_ITEM = _ROOT + "/{process_id}"
_SECURED: dict[str, Any] = {"security": BEARER}
_CREATE = {name: Shape(shape) for name, shape in uc.CREATE_FIELDS.items()}
_PATCH = {name: Shape(shape) for name, shape in uc.PATCH_FIELDS.items()}
_BODY = json_body(
    flat_body_schema(
        "Process",
        {
            "name": {"type": "string", "maxLength": uc.MAX_NAME_LENGTH},
            "service_id": {"type": "string"},
            "inputs": {"type": ["array", "string", "null"]},
            "options": {"type": ["array", "string", "null"]},
            "run_type": {"type": "string", "enum": ["run_once", "run_schedule"]},
            "repeat_count": {"type": "integer", "minimum": 0},
            "repeat_start": {"type": "string", "format": "date-time"},
            "repeat_end": {"type": ["string", "null"], "format": "date-time"},
            "repeat_gap": {"type": ["string", "object", "null"]},
            "repeat_offset": {"type": ["string", "object", "null"]},
            "output_storage_period": {"type": "integer", "minimum": 1},
        },
    )
)


def _model(request: Request, process: Process) -> dict[str, Any]:
    p = platform(request)
    service = uc.service_of(p, process)
    executions = ex.embedded(p, process.id)
    deletable = not process.executing
    return process_model(process, face(service), executions, deletable)


@router.get(_ROOT, openapi_extra=_SECURED)
def list_processes(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """A page of the organisation's processes (filters ``id``, ``name``...; ``search``)."""
    query = parse_list_query(
        request.query_params, filterable=PROCESS_LIST.filter_names, cursor_keys=PROCESS_LIST.cursor_keys
    )
    processes, last = uc.list_processes(platform(request), who, organisation_id, query)
    return FusionJSONResponse(list_envelope((_model(request, p) for p in processes), last))


@router.get(_ROOT + "/new", openapi_extra=_SECURED)
def new_process(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """The template of a process of ``?service_id=`` (options at their defaults, run once now)."""
    t = uc.template(platform(request), who, organisation_id, request.query_params.get("service_id"))
    model = template_model(organisation_id, face(t.service), t.name, t.options, t.inputs, t.schedule)
    return reply(model, {"dispatchers": []})


@router.post(_ROOT, openapi_extra={**_SECURED, **_BODY})
async def create_process(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Validate, price and store a process (flat ``Process[...]`` body, as the SDK sends it)."""
    fields = await model_fields(request, "Process", _CREATE)
    process = await run_in_threadpool(uc.create_process, platform(request), who, organisation_id, fields)
    return reply(await run_in_threadpool(_model, request, process))


@router.get(_ITEM, openapi_extra=_SECURED)
def get_process(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """One process with its embedded execution statuses."""
    return reply(_model(request, uc.get_process(platform(request), who, organisation_id, process_id)))


@router.patch(_ITEM, openapi_extra={**_SECURED, **_BODY})
async def update_process(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Rename or reschedule (inputs and options are fixed once created; echoed ones are ignored)."""
    fields = await model_fields(request, "Process", _PATCH)
    process = await run_in_threadpool(
        uc.update_process, platform(request), who, organisation_id, process_id, fields
    )
    return reply(_model(request, process))


@router.delete(_ITEM, openapi_extra=_SECURED)
def delete_process(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Stop the process, delete its executions and outputs, then the process."""
    p = platform(request)
    process = uc.delete_process(p, who, organisation_id, process_id)
    return reply(process_model(process, face(uc.service_of(p, process)), [], True))


@router.post(_ITEM + "/execute", openapi_extra=_SECURED)
def execute_process(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Run once now, or start the schedule (reserves the price; 402 without enough credits)."""
    return reply(_model(request, uc.execute_process(platform(request), who, organisation_id, process_id)))


@router.post(_ITEM + "/stop", openapi_extra=_SECURED)
def stop_process(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """No more firings; running executions are aborted and charged for the part done."""
    return reply(_model(request, uc.stop_process(platform(request), who, organisation_id, process_id)))


@router.get(_ITEM + "/copy", openapi_extra=_SECURED)
def copy_process(
    organisation_id: str, process_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """A template with the process's service, inputs and options (to create a copy)."""
    t = uc.copy_template(platform(request), who, organisation_id, process_id)
    model = template_model(organisation_id, face(t.service), t.name, t.options, t.inputs, t.schedule)
    return reply(model, {"dispatchers": []})
