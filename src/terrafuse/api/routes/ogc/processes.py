"""Process list, process description and execution."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from terrafuse.api.deps import OgcScope, ogc_scope
from terrafuse.api.ogc import documents as docs
from terrafuse.api.ogc.execute import choose_mode, parse_execute, parse_prefer, preference_applied
from terrafuse.api.ogc.raw import raw_response
from terrafuse.api.routes.ogc.common import reply, url_signer
from terrafuse.core.executions import ExecutionStatus, ResponseForm
from terrafuse.usecases import executions as uc
from terrafuse.usecases.executions import Mode

router = APIRouter()


@router.get("/processes", summary="List processes")
def list_processes(
    request: Request,
    scope: OgcScope = Depends(ogc_scope),
    limit: int = Query(10, ge=1, le=10000),
    offset: int = Query(0, ge=0),
) -> Response:
    """Summaries of the processes, ``limit`` at a time."""
    services = list(scope.platform.rt.registry)
    page = services[offset : offset + limit]
    url = f"{scope.root}/processes"
    links = docs.self_links(f"{url}?limit={limit}&offset={offset}", "processes")
    if offset + limit < len(services):
        links.append(
            docs.link(f"{url}?limit={limit}&offset={offset + limit}", "next", docs.JSON, "next page")
        )
    if offset > 0:
        links.append(
            docs.link(
                f"{url}?limit={limit}&offset={max(offset - limit, 0)}", "prev", docs.JSON, "previous page"
            )
        )
    doc = {"processes": [docs.process_summary(scope.root, s.description) for s in page], "links": links}
    return reply(request, doc, "Processes", "processes")


@router.get("/processes/{process_id}", summary="Describe a process")
def describe_process(process_id: str, request: Request, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """The process description: inputs and outputs with their schemas."""
    service = scope.platform.rt.registry.get(process_id)
    return reply(
        request,
        docs.process_description(scope.root, service.description),
        service.description.title,
        "process",
    )


@router.post("/processes/{process_id}/execution", summary="Execute a process", status_code=200)
async def execute(process_id: str, request: Request, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """Create a job: synchronous (200 with results) or asynchronous (201 + ``Location``)."""
    service = scope.platform.rt.registry.get(process_id)
    desc = service.description
    prefs = parse_prefer(request.headers.getlist("prefer"))
    body = await request.body()
    parsed = parse_execute(body, desc, prefs)
    mode = choose_mode(prefs, desc, parsed.asks_async)
    execution = await run_in_threadpool(
        uc.submit,
        scope.platform,
        scope.org,
        service,
        parsed.inputs,
        parsed.request,
        mode,
        principal=scope.principal,
    )
    applied = preference_applied(prefs, mode, parsed.request)
    headers = {"Preference-Applied": applied} if applied else {}
    job_url = f"{scope.root}/jobs/{execution.id}"

    if mode is Mode.ASYNC or not execution.status.finished:
        headers["Location"] = job_url
        return JSONResponse(docs.status_info(scope.root, execution), status_code=201, headers=headers)
    # Synchronous: a job exists anyway, so say where to monitor it (OGC 1.0, 7.11.2).
    monitor = f"<{job_url}>; rel=monitor"
    if execution.status is not ExecutionStatus.SUCCESSFUL:
        # Raises the job's failure as the matching domain error (the one error table answers).
        await run_in_threadpool(uc.results, scope.platform, scope.org, execution.id)
    url_for = url_signer(scope)
    if execution.request.response is ResponseForm.DOCUMENT:
        response: Response = JSONResponse(docs.results_document(scope.root, execution, desc, url_for))
    else:
        response = raw_response(scope.root, execution, desc, url_for)
    response.headers.update(headers)
    # Added, not set: raw results sent by reference carry their own Link headers.
    response.headers.append("Link", monitor)
    return response
