"""Request-scoped dependencies: the platform, the acting organisation, URLs, negotiation."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from fastapi import Request

from terrafuse.config import Settings
from terrafuse.core.accounts import ANONYMOUS, Principal, Privilege
from terrafuse.core.organisations import Organisation
from terrafuse.errors import Unauthorized
from terrafuse.usecases import accounts as accounts_uc
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
    """The namespace an OGC request acts in, who acts, and the URL root of that namespace's API."""

    platform: Platform
    org: Organisation
    root: str
    base: str
    principal: Principal = ANONYMOUS


# Reading needs ``view``; anything else (execute, dismiss) needs ``execute``.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def principal(request: Request) -> Principal:
    """Who sends the request: ``Authorization: Bearer <access token>``, HTTP Basic (e-mail
    address or user id, and password; no session is opened), or nobody."""
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    accounts = platform(request).accounts
    if scheme.lower() == "bearer" and credentials:
        return accounts_uc.authenticate(accounts, credentials)
    if scheme.lower() == "basic" and credentials:
        try:
            username, sep, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        if sep and username:
            client = request.client.host if request.client else None
            return accounts_uc.authenticate_password(accounts, username, password, client)
    raise Unauthorized("unreadable Authorization header: use Bearer <access token> or Basic")


def ogc_scope(request: Request) -> OgcScope:
    """Resolve ``/{namespace}/ogc-api`` (or the default namespace for ``/ogc-api``) for the caller.

    Reads need the ``view`` privilege, executing and dismissing need ``execute``; namespaces that
    allow anonymous access need neither (bad credentials are refused even there).
    """
    namespace = request.path_params.get("namespace")
    base = base_url(request)
    p = platform(request)
    who = principal(request)
    needed = Privilege.VIEW if request.method in _READ_METHODS else Privilege.EXECUTE
    if namespace is None:
        org = uc.organisation(p, settings(request).default_namespace, who, needed)
        root = f"{base}/ogc-api"
    else:
        org = uc.organisation(p, namespace, who, needed)
        root = f"{base}/{namespace}/ogc-api"
    return OgcScope(p, org, root, base, who)


def wants_html(request: Request) -> bool:
    """``?f=html``, or a browser's Accept header, asks for HTML; JSON is the default."""
    f = request.query_params.get("f")
    if f:
        return f.lower() == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept
