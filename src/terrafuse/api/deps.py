"""Request-scoped dependencies: the platform, the acting organisation, URLs, negotiation."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from terrafuse.config import Settings
from terrafuse.core.organisations import Organisation
from terrafuse.usecases import executions as uc
from terrafuse.usecases.executions import Platform


def platform(request: Request) -> Platform:
    """The platform the app was built with."""
    return request.app.state.platform


def settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def base_url(request: Request) -> str:
    """Public root URL of the server (``public_url`` when behind a proxy)."""
    configured = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


@dataclass(frozen=True)
class OgcScope:
    """The namespace an OGC request acts in, and the URL root of that namespace's API."""

    platform: Platform
    org: Organisation
    root: str
    base: str


def ogc_scope(request: Request) -> OgcScope:
    """Resolve ``/{namespace}/ogc-api`` (or the default namespace for ``/ogc-api``)."""
    namespace = request.path_params.get("namespace")
    base = base_url(request)
    p = platform(request)
    if namespace is None:
        org = uc.organisation(p, settings(request).default_namespace)
        root = f"{base}/ogc-api"
    else:
        org = uc.organisation(p, namespace)
        root = f"{base}/{namespace}/ogc-api"
    return OgcScope(p, org, root, base)


def wants_html(request: Request) -> bool:
    """``?f=html``, or a browser's Accept header, asks for HTML; JSON is the default."""
    f = request.query_params.get("f")
    if f:
        return f.lower() == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept
