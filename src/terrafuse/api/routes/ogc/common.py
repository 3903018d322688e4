"""Helpers shared by the OGC route modules."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from terrafuse.api import html
from terrafuse.api.deps import OgcScope, wants_html


def reply(
    request: Request, doc: dict[str, Any], title: str, kind: str = "document", status: int = 200
) -> Response:
    """JSON by default, HTML when asked for."""
    if wants_html(request):
        return html.render(request, title, doc, kind, status)
    return JSONResponse(doc, status_code=status)


def url_signer(scope: OgcScope) -> Any:
    """Turn an object key into a signed, expiring GET URL for results."""
    rt = scope.platform.rt
    ttl = rt.settings.result_url_ttl

    def url_for(key: str) -> str:
        return rt.storage.signed_url(key, "GET", ttl, scope.base)

    return url_for
