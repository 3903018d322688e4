"""Job list, status, dismiss and results."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from terrafuse.api.deps import OgcScope, ogc_scope
from terrafuse.api.ogc import documents as docs
from terrafuse.api.ogc.raw import raw_response, single_output_response
from terrafuse.api.routes.ogc.common import reply, url_signer
from terrafuse.core.executions import ExecutionFilter, ExecutionStatus, ResponseForm
from terrafuse.errors import InvalidParameter, NotFound
from terrafuse.usecases import executions as uc

router = APIRouter()


def _split(values: list[str] | None) -> tuple[str, ...]:
    """Array query parameters may repeat (``a=1&a=2``) or use commas (``a=1,2``)."""
    return tuple(v.strip() for value in values or [] for v in value.split(",") if v.strip())


def _instant(text: str, name: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"{name}: {text!r} is not an RFC 3339 date-time") from None
    if value.tzinfo is None:
        raise InvalidParameter(f"{name}: {text!r} needs a time zone (e.g. 'Z')")
    return value


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None]:
    """An instant (``t``) or interval (``a/b``, ``../b``, ``a/..``) as a (from, to) pair."""
    if not text:
        return None, None
    if "/" in text:
        start, _, end = text.partition("/")
        lo, hi = _instant(start, "datetime"), _instant(end, "datetime")
        if lo and hi and lo > hi:
            raise InvalidParameter("datetime: the interval ends before it starts")
        return lo, hi
    instant = _instant(text, "datetime")
    return instant, instant


def job_filter(
    type_: list[str] | None,
    process_id: list[str] | None,
    status: list[str] | None,
    datetime_: str | None,
    min_duration: float | None,
    max_duration: float | None,
    limit: int,
    offset: int,
) -> ExecutionFilter | None:
    """The filter of a job-list request, or None when it can match nothing (``type`` not process)."""
    types = _split(type_)
    if types and "process" not in types:
        return None
    statuses = []
    for value in _split(status):
        try:
            statuses.append(ExecutionStatus(value))
        except ValueError:
            raise InvalidParameter(
                f"status: {value!r} is not one of {', '.join(s.value for s in ExecutionStatus)}"
            ) from None
    for name, value in (("minDuration", min_duration), ("maxDuration", max_duration)):
        if value is not None and value < 0:
            raise InvalidParameter(f"{name} must not be negative")
    created_from, created_to = parse_datetime(datetime_)
    return ExecutionFilter(
        service_ids=_split(process_id),
        statuses=tuple(statuses),
        created_from=created_from,
        created_to=created_to,
        min_duration=min_duration,
        max_duration=max_duration,
        limit=limit,
        offset=offset,
    )


@router.get("/jobs", summary="List jobs")
def list_jobs(
    request: Request,
    scope: OgcScope = Depends(ogc_scope),
    type_: list[str] | None = Query(None, alias="type"),
    process_id: list[str] | None = Query(None, alias="processID"),
    status: list[str] | None = Query(None),
    datetime_: str | None = Query(None, alias="datetime"),
    min_duration: float | None = Query(None, alias="minDuration"),
    max_duration: float | None = Query(None, alias="maxDuration"),
    limit: int = Query(10, ge=1, le=10000),
    offset: int = Query(0, ge=0),
) -> Response:
    """The namespace's jobs, newest first, filtered and paged (``next``/``prev`` links)."""
    flt = job_filter(type_, process_id, status, datetime_, min_duration, max_duration, limit, offset)
    executions, more = uc.list_executions(scope.platform, scope.org, flt) if flt else ([], False)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "f")]
    url = f"{scope.root}/jobs"

    def page(at: int) -> str:
        return f"{url}?{urlencode([*params, ('offset', at)])}"

    links = docs.self_links(page(offset), "jobs")
    if more:
        links.append(docs.link(page(offset + limit), "next", docs.JSON, "next page"))
    if offset > 0:
        links.append(docs.link(page(max(offset - limit, 0)), "prev", docs.JSON, "previous page"))
    return reply(request, docs.job_list(scope.root, executions, links), "Jobs", "jobs")


@router.get("/jobs/{job_id}", summary="Job status")
def job_status(job_id: str, request: Request, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """The job's statusInfo."""
    execution = uc.get(scope.platform, scope.org, job_id)
    return reply(request, docs.status_info(scope.root, execution), f"Job {job_id}", "job")


@router.delete("/jobs/{job_id}", summary="Dismiss a job")
async def dismiss_job(job_id: str, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """Stop the job if it is queued or running and delete its results."""
    execution = await run_in_threadpool(uc.dismiss, scope.platform, scope.org, job_id)
    return JSONResponse(docs.status_info(scope.root, execution))


@router.get("/jobs/{job_id}/results", summary="Job results")
def job_results(job_id: str, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """The results, in the form the execute request asked for."""
    execution = uc.results(scope.platform, scope.org, job_id)
    desc = scope.platform.rt.registry.resolve(execution.service_id).description
    url_for = url_signer(scope)
    if execution.request.response is ResponseForm.DOCUMENT:
        return JSONResponse(docs.results_document(scope.root, execution, desc, url_for))
    return raw_response(scope.root, execution, desc, url_for)


@router.get("/jobs/{job_id}/results/{output_id}", summary="One output of a job")
def job_output(job_id: str, output_id: str, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """A single output's raw content (the target of results sent by reference)."""
    execution = uc.results(scope.platform, scope.org, job_id)
    desc = scope.platform.rt.registry.resolve(execution.service_id).description
    if output_id not in (execution.outputs or {}):
        raise NotFound(f"job {job_id!r} has no output {output_id!r}")
    return single_output_response(execution, desc, output_id, url_signer(scope))


@router.get("/jobs/{job_id}/logs", summary="Job log")
async def job_logs(job_id: str, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """The job's log lines (what it did, and why it failed)."""
    lines = await run_in_threadpool(uc.logs, scope.platform, scope.org, job_id)
    return JSONResponse({"jobID": job_id, "logs": [{"time": docs.iso(t), "message": m} for t, m in lines]})
