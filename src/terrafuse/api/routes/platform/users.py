"""Platform API: sign-in and the caller's own account (the Fusion SDK's ``User``).

``POST /users/login`` answers flat JSON (``access_token``, ``id_token``...), as the SDK's
``Session.login`` reads it; everything else answers the ``{"model": ..., "extras": ...}``
envelope. A user sees only their own account: any other user id answers 404 like an unknown one.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from terrafuse.api.fusion.shapes import (
    LOGIN_BODY_SCHEMA,
    flat_body_schema,
    login_reply,
    nested_body_schema,
    user_model,
)
from terrafuse.api.fusion.wire import FusionJSONResponse, Shape
from terrafuse.api.routes.platform.common import model_fields, platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER, errors, flat_reply, json_body, model_reply
from terrafuse.core.accounts import MAX_OUTPUT_STORAGE_PERIOD, NOTIFICATION_FIELDS, UNITS, Principal
from terrafuse.usecases import accounts as uc

router = APIRouter()

MODEL = "User"
_CHANNELS: dict[str, Any] = {
    "type": ["array", "string", "null"],
    "items": {"type": "string", "enum": ["email", "sms"]},
    "description": "channels (a list, or its JSON text)",
}
# What the caller may change on their account, with the shape and schema of each value; the SDK
# sends every field it holds and the rest is ignored.
WRITABLE: dict[str, tuple[Shape, dict[str, Any]]] = {
    "given_name": (Shape.VALUE, {"type": "string", "maxLength": 100}),
    "family_name": (Shape.VALUE, {"type": "string", "maxLength": 100}),
    "telephone": (Shape.VALUE, {"type": ["string", "null"], "maxLength": 32}),
    "time_zone": (Shape.VALUE, {"type": "string", "description": "IANA name, e.g. Europe/London"}),
    "locale": (Shape.VALUE, {"type": "string", "maxLength": 20}),
    "units": (Shape.VALUE, {"type": "string", "enum": list(UNITS)}),
    "default_output_storage_period": (
        Shape.VALUE,
        {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUT_STORAGE_PERIOD},
    ),
    **{name: (Shape.LIST, _CHANNELS) for name in NOTIFICATION_FIELDS},
}
_SHAPES = {name: shape for name, (shape, _) in WRITABLE.items()}
_PASSWORDS = {"old_password": {"type": "string"}, "new_password": {"type": "string"}}


@router.post(
    "/users/login",
    summary="Sign in",
    description="Opens a one-day session. Give `email` or `user_id`, and `password`.",
    responses={
        **flat_reply("LoginReply", "Signed in"),
        **errors(400, 401, 429),
    },
    openapi_extra=json_body(LOGIN_BODY_SCHEMA),
)
async def login(request: Request) -> FusionJSONResponse:
    """Sign in by e-mail address or user id and password."""
    fields = await model_fields(request, MODEL, ("email", "user_id", "password"))
    accounts = platform(request).accounts
    result = await run_in_threadpool(
        partial(
            uc.login,
            accounts,
            email=fields.get("email"),
            user_id=fields.get("user_id"),
            password=fields.get("password"),
            client_address=request.client.host if request.client else None,
        )
    )
    return FusionJSONResponse(login_reply(result, int(uc.SESSION_LIFETIME.total_seconds())))


@router.get(
    "/users/{user_id}",
    summary="Get the caller's account",
    responses={**model_reply("User", "The account"), **errors(401, 404)},
    openapi_extra={"security": BEARER},
)
def get_user(user_id: str, request: Request, who: Principal = Depends(signed_in)) -> FusionJSONResponse:
    """The caller's own account, with the ids of their organisations."""
    user = uc.get_user(platform(request).accounts, who, user_id)
    return reply(user_model(user, who.memberships))


@router.patch(
    "/users/{user_id}",
    summary="Change the caller's account",
    description="Names, telephone, time zone, locale, units, default output storage period and "
    "notification channels; read-only and unknown fields are ignored.",
    responses={**model_reply("User", "The account afterwards"), **errors(400, 401, 404)},
    openapi_extra={
        "security": BEARER,
        **json_body(flat_body_schema(MODEL, {k: s for k, (_, s) in WRITABLE.items()})),
    },
)
async def update_user(
    user_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Change the caller's own account."""
    fields = await model_fields(request, MODEL, _SHAPES)
    user = await run_in_threadpool(uc.update_user, platform(request).accounts, who, user_id, fields)
    return reply(user_model(user, who.memberships))


@router.delete(
    "/users/{user_id}",
    summary="Delete the caller's account",
    responses={**model_reply("User", "The account as it was"), **errors(401, 404)},
    openapi_extra={"security": BEARER},
)
def delete_user(user_id: str, request: Request, who: Principal = Depends(signed_in)) -> FusionJSONResponse:
    """Delete the caller's own account (its sessions and memberships go with it)."""
    user = uc.delete_user(platform(request).accounts, who, user_id)
    return reply(user_model(user, who.memberships))


@router.post(
    "/users/{user_id}/change_password",
    summary="Change the caller's password",
    description="The old password must be right and the new one must meet the password policy. "
    "The caller's other sessions end.",
    responses={**model_reply("User", "The account afterwards"), **errors(400, 401, 404, 429)},
    openapi_extra={
        "security": BEARER,
        **json_body(nested_body_schema(MODEL, _PASSWORDS, ("old_password", "new_password"))),
    },
)
async def change_password(
    user_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Replace the caller's password."""
    fields = await model_fields(request, MODEL, _PASSWORDS.keys())
    user = await run_in_threadpool(
        uc.change_password,
        platform(request).accounts,
        who,
        user_id,
        fields.get("old_password"),
        fields.get("new_password"),
        request.client.host if request.client else None,
    )
    return reply(user_model(user, who.memberships))
