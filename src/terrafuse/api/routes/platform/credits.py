"""Platform API: an organisation's credits (the Fusion SDK's ``Credit``).

The SDK fetches ``/organisations/{id}/credits/{id}``: a credit record's id is its organisation's
id. Any member may read it; other organisations answer 404, like ones that do not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from terrafuse.api.fusion.shapes import credit_model
from terrafuse.api.fusion.wire import FusionJSONResponse
from terrafuse.api.routes.platform.common import platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER, errors, model_reply
from terrafuse.core.accounts import Principal
from terrafuse.usecases import credits as uc

router = APIRouter()


@router.get(
    "/organisations/{organisation_id}/credits/{credit_id}",
    summary="Get an organisation's credits",
    description="`credit_id` is the organisation's id. Amounts are exact decimals.",
    responses={**model_reply("Credit", "The organisation's credits"), **errors(401, 404)},
    openapi_extra={"security": BEARER},
)
def get_credit(
    organisation_id: str, credit_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """The available credits and the monthly spend of an organisation the caller belongs to."""
    balance = uc.balance(platform(request).rt.credits, who, organisation_id, credit_id)
    return reply(credit_model(balance))
