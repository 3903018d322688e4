"""Landing page, conformance and the API definition of one namespace."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from terrafuse.api.deps import OgcScope, ogc_scope, wants_html
from terrafuse.api.ogc import documents as docs
from terrafuse.api.ogc.openapi import openapi_document
from terrafuse.api.routes.ogc.common import reply

router = APIRouter()


@router.get("/", summary="Landing page")
def landing(request: Request, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """Links to the API definition, conformance, processes and jobs."""
    return reply(request, docs.landing_page(scope.root, f"terrafuse · {scope.org.name}"), scope.org.name)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """The conformance classes this API implements."""
    return reply(request, docs.conformance(), "Conformance")


@router.get("/api", summary="API definition (OpenAPI 3.0)")
def api_definition(request: Request, scope: OgcScope = Depends(ogc_scope)) -> Response:
    """The OpenAPI 3.0 document of this namespace's API."""
    doc = openapi_document(scope.root, list(scope.platform.rt.registry))
    if wants_html(request):
        from terrafuse.api import html

        return html.render(request, "API definition", doc, "openapi")
    return JSONResponse(doc, media_type=docs.OPENAPI_JSON)
