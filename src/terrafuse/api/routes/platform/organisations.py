"""Platform API: organisations (the Fusion SDK's ``Organisation``).

Members read their organisation, with its members as ``users``; changing or deleting it needs
the ``manage`` privilege (403 without it). Any other organisation answers 404, exactly like one
that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from terrafuse.api.fusion.shapes import flat_body_schema, organisation_model
from terrafuse.api.fusion.wire import FusionJSONResponse
from terrafuse.api.routes.platform.common import model_fields, platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER, errors, json_body, model_reply
from terrafuse.core.accounts import Principal
from terrafuse.core.organisations import ORGANISATION_EDITABLE_FIELDS
from terrafuse.usecases import accounts as uc
from terrafuse.usecases import organisations as organisations_uc

router = APIRouter()

MODEL = "Organisation"
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 200}
WRITABLE: dict[str, dict[str, Any]] = {
    name: {"type": ["string", "null"], "maxLength": 200} if name == "address_line_2" else _TEXT
    for name in ORGANISATION_EDITABLE_FIELDS
}


@router.get(
    "/organisations/{organisation_id}",
    summary="Get an organisation",
    responses={**model_reply("Organisation", "The organisation"), **errors(401, 404)},
    openapi_extra={"security": BEARER},
)
def get_organisation(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """An organisation the caller is a member of, with its members."""
    accounts = platform(request).accounts
    org = uc.get_organisation(accounts, who, organisation_id)
    return reply(organisation_model(org, uc.members(accounts, who, organisation_id)))


@router.patch(
    "/organisations/{organisation_id}",
    summary="Change an organisation",
    description="Name and address (needs `manage`); read-only and unknown fields are ignored.",
    responses={
        **model_reply("Organisation", "The organisation afterwards"),
        **errors(400, 401, 403, 404),
    },
    openapi_extra={"security": BEARER, **json_body(flat_body_schema(MODEL, WRITABLE))},
)
async def update_organisation(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Change the organisation's name or address."""
    fields = await model_fields(request, MODEL, WRITABLE.keys())
    accounts = platform(request).accounts
    org = await run_in_threadpool(uc.update_organisation, accounts, who, organisation_id, fields)
    members = await run_in_threadpool(uc.members, accounts, who, organisation_id)
    return reply(organisation_model(org, members))


@router.delete(
    "/organisations/{organisation_id}",
    summary="Delete an organisation",
    description="Deletes it and everything it owns (needs `manage`).",
    responses={**model_reply("Organisation", "The organisation as it was"), **errors(401, 403, 404)},
    openapi_extra={"security": BEARER},
)
def delete_organisation(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Delete the organisation."""
    org = organisations_uc.delete_organisation(platform(request), who, organisation_id)
    return reply(organisation_model(org, None))
