"""The one error table: domain errors -> HTTP status and wire body.

OGC routes answer RFC 7807 bodies with the OGC exception type URIs, served as
``application/json`` (the OGC test suite insists on it). Platform API routes (``/api/``)
answer ``{"error_message": ...}`` as the Fusion SDK expects.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from terrafuse import errors as e
from terrafuse.api.ogc.documents import EXCEPTIONS, exception

log = logging.getLogger(__name__)

OGC = f"{EXCEPTIONS}ogcapi-processes-1/1.0/"
OWN = "urn:terrafuse:error:"

# (status, type URI, title) per error class; the most specific class wins (MRO order).
TABLE: dict[type[e.TerrafuseError], tuple[int, str, str]] = {
    e.NoSuchService: (404, f"{OGC}no-such-process", "No such process"),
    e.NoSuchExecution: (404, f"{OGC}no-such-job", "No such job"),
    e.NoSuchNamespace: (404, f"{OWN}no-such-namespace", "No such namespace"),
    e.NotFound: (404, f"{OWN}not-found", "Not found"),
    e.ResultNotReady: (404, f"{OGC}result-not-ready", "Result not ready"),
    e.PayloadTooLarge: (413, f"{OWN}payload-too-large", "Payload too large"),
    e.InvalidParameter: (400, f"{OGC}invalid-query-parameter-value", "Invalid query parameter value"),
    e.InvalidInput: (400, f"{OGC}invalid-parameter-value", "Invalid parameter value"),
    e.Unauthorized: (401, f"{OWN}unauthorized", "Unauthorized"),
    e.InsufficientCredits: (402, f"{OWN}insufficient-credits", "Insufficient credits"),
    e.TooManyRequests: (429, f"{OWN}too-many-requests", "Too many requests"),
    e.Forbidden: (403, f"{OWN}forbidden", "Forbidden"),
    e.Conflict: (409, f"{OWN}conflict", "Conflict"),
    e.DataUnavailable: (400, f"{OGC}invalid-parameter-value", "Input data unavailable"),
    e.ExecutionFailed: (500, f"{OWN}execution-failed", "Job failed"),
    e.TerrafuseError: (500, f"{OWN}error", "Error"),
}
# Failure codes recorded on jobs that were the caller's fault.
CLIENT_FAULT_CODES = {"invalid-input", "data-unavailable", "invalid-parameter-value"}

_HTTP_TITLES = {
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    415: "Unsupported media type",
}


def classify(exc: e.TerrafuseError) -> tuple[int, str, str]:
    """Status, type URI and title of a domain error."""
    for cls in type(exc).__mro__:
        if cls in TABLE:
            status, type_, title = TABLE[cls]  # type: ignore[index]
            break
    else:  # pragma: no cover - TerrafuseError is in the table
        status, type_, title = 500, f"{OWN}error", "Error"
    if isinstance(exc, e.ExecutionFailed) and exc.code in CLIENT_FAULT_CODES:
        # A stored failure keeps only its code: answer as the live error would have been answered.
        status, type_ = 400, f"{OGC}invalid-parameter-value"
    return status, type_, title


def error_response(
    request: Request, status: int, type_: str, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The wire error for this request's API family."""
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer, Basic realm="terrafuse"'}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error_message": detail}, status_code=status, headers=headers)
    body = exception(type_, title, status, detail, instance=str(request.url.path))
    return JSONResponse(body, status_code=status, media_type="application/json", headers=headers)


def _where(loc: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("query", "path", "header", "body")) or "request"


def add_error_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every failure into a clean wire error."""

    @app.exception_handler(e.TerrafuseError)
    async def _domain(request: Request, exc: e.TerrafuseError) -> JSONResponse:
        status, type_, title = classify(exc)
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return error_response(request, status, type_, title, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{_where(err.get('loc', ()))}: {err.get('msg')}" for err in exc.errors())
        return error_response(
            request, 400, f"{OGC}invalid-query-parameter-value", "Invalid request", problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _HTTP_TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        return error_response(request, exc.status_code, f"{OWN}http-{exc.status_code}", title, detail)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            f"{OWN}internal-error",
            "Internal server error",
            "the server hit an unexpected error; the operators have the details",
        )
