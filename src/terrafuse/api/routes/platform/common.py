"""What every platform-API route module shares: the caller, request bodies, replies."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from fastapi import Request

from terrafuse.api.deps import platform, principal
from terrafuse.api.fusion.wire import FusionJSONResponse, Shape, decode_json_body, model_envelope, parse_body
from terrafuse.core.accounts import Principal
from terrafuse.errors import Unauthorized


def signed_in(request: Request) -> Principal:
    """The signed-in caller (Bearer token, or HTTP Basic); the platform API has no anonymous access."""
    who = principal(request)
    if who.anonymous:
        raise Unauthorized("sign in first: POST /api/users/login, then send 'Authorization: Bearer <token>'")
    return who


async def model_fields(
    request: Request, model: str, writable: Mapping[str, Shape] | Collection[str]
) -> dict[str, Any]:
    """The writable fields of ``model`` in the request body (flat ``Model[field]`` or nested form)."""
    return parse_body(decode_json_body(await request.body()), model, writable)


def reply(
    model: Mapping[str, Any], extras: Mapping[str, Any] | None = None, status: int = 200
) -> FusionJSONResponse:
    """The ``{"model": ..., "extras": ...}`` envelope."""
    return FusionJSONResponse(model_envelope(model, extras), status_code=status)


__all__ = ["model_fields", "platform", "reply", "signed_in"]
