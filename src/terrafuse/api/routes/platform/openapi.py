"""The platform API's OpenAPI document (``GET /api/openapi.json``) and the pieces routes declare.

FastAPI generates the document from the ``/api/`` routes. Handlers read their bodies themselves
(flat ``Model[field]`` or nested, see ``terrafuse.api.fusion.wire``), so each route declares its
request body, replies and errors with the helpers here; the generated 422 replies are dropped
because validation errors answer 400 (``terrafuse.api.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from terrafuse import __version__
from terrafuse.api.fusion.shapes import (
    CREDIT_SCHEMA,
    ERROR_SCHEMA,
    LOGIN_REPLY_SCHEMA,
    ORGANISATION_SCHEMA,
    USER_SCHEMA,
    envelope_schema,
)

router = APIRouter()

PREFIX = "/api/"
SECURITY_SCHEME = "bearer"
BEARER: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]

_REF = "#/components/schemas/"
# The Fusion models, published once as components and referred to by name.
COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": ERROR_SCHEMA,
    "LoginReply": LOGIN_REPLY_SCHEMA,
    "User": USER_SCHEMA,
    "Organisation": ORGANISATION_SCHEMA,
    "Credit": CREDIT_SCHEMA,
}
_ERRORS = {
    400: "Invalid request: the body, a parameter or a value is not valid",
    401: "Not signed in, or the access token has expired",
    403: "Signed in, but without the privilege this needs",
    404: "No such record, or one the caller may not see (both answer alike)",
    429: "Too many failed sign-ins: try again after Retry-After seconds",
}
_DESCRIPTION = (
    "The terrafuse platform API, wire-compatible with the Fusion Platform API: the published "
    "`fusion-platform-python-sdk` works with `api_url='http://<host>:<port>/api'`. Replies are "
    '`{"model": ..., "extras": {...}}`; errors are `{"error_message": "..."}` with a 4xx/5xx '
    "status. Sign in with `POST /api/users/login`, then send `Authorization: Bearer <access_token>`."
)


def ref(component: str) -> dict[str, str]:
    """A reference to one of :data:`COMPONENTS`."""
    if component not in COMPONENTS:
        raise KeyError(component)
    return {"$ref": _REF + component}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error replies for a route's ``responses`` (each ``{"error_message": ...}``)."""
    return {
        status: {"description": _ERRORS[status], "content": {"application/json": {"schema": ref("Error")}}}
        for status in statuses
    }


def model_reply(component: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 reply carrying ``{"model": <component>, "extras": ...}``."""
    return {
        200: {
            "description": description,
            "content": {"application/json": {"schema": envelope_schema(ref(component))}},
        }
    }


def flat_reply(component: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 reply carrying a component as it is (no envelope)."""
    return {200: {"description": description, "content": {"application/json": {"schema": ref(component)}}}}


def json_body(schema: Mapping[str, Any], required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` declaring a JSON request body (the handler parses it itself)."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": dict(schema)}}}}


def platform_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the app's ``/api/`` routes (built once per app)."""
    cached = getattr(app.state, "platform_openapi", None)
    if cached is not None:
        return cached
    doc = get_openapi(
        title="terrafuse platform API", version=__version__, description=_DESCRIPTION, routes=app.routes
    )
    doc["paths"] = {path: ops for path, ops in doc.get("paths", {}).items() if path.startswith(PREFIX)}
    for operations in doc["paths"].values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    components = doc.setdefault("components", {})
    schemas = {**components.pop("schemas", {}), **COMPONENTS}
    used = _referenced(doc["paths"], schemas)
    if used:
        components["schemas"] = {name: schemas[name] for name in sorted(used)}
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "the access_token of POST /api/users/login",
        }
    }
    app.state.platform_openapi = doc
    return doc


def _referenced(value: Any, schemas: Mapping[str, Any]) -> set[str]:
    """Names of the component schemas ``value`` refers to, directly or through other schemas."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF):
                name = ref[len(_REF) :]
                if name not in found and name in schemas:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request) -> JSONResponse:
    """The platform API's OpenAPI document."""
    return JSONResponse(platform_openapi(request.app))
