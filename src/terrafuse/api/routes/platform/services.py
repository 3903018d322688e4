"""Platform API: the service catalogue (the Fusion SDK's ``Service``).

``services/latest`` and ``services`` list the built-in catalogue (one registry serves this API and
the OGC API: each service is also an OGC process). ``services/dispatchers`` is empty: terrafuse
has no dispatcher services. A service is owned by the platform's organisation; reading it through
any organisation the caller belongs to works.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from terrafuse.api.fusion.process_shapes import PLATFORM_ORGANISATION_ID, service_model
from terrafuse.api.fusion.wire import FusionJSONResponse, list_envelope, parse_list_query
from terrafuse.api.routes.platform.common import platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER
from terrafuse.core.accounts import Principal
from terrafuse.usecases import catalogue as uc

router = APIRouter()
_SECURED = {"security": BEARER}
_ROOT = "/organisations/{organisation_id}/services"


def _page(request: Request, who: Principal, organisation_id: str) -> FusionJSONResponse:
    query = parse_list_query(
        request.query_params, filterable=uc.SERVICE_FILTERS, cursor_keys=uc.SERVICE_CURSOR
    )
    services, last = uc.list_services(platform(request).rt.registry, who, organisation_id, query)
    return FusionJSONResponse(list_envelope((service_model(uc.face(s)) for s in services), last))


@router.get(_ROOT + "/latest", openapi_extra=_SECURED)
def latest_services(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """The latest version of every service (filters ``id``, ``ssd_id``, ``name``, ``keywords``;
    ``search``)."""
    return _page(request, who, organisation_id)


@router.get(_ROOT, openapi_extra=_SECURED)
def own_services(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Services the organisation owns (none: the built-in catalogue belongs to the platform)."""
    parse_list_query(request.query_params, filterable=uc.SERVICE_FILTERS, cursor_keys=uc.SERVICE_CURSOR)
    return FusionJSONResponse(
        list_envelope((service_model(uc.face(s)) for s in uc.own_services(who, organisation_id)), None)
    )


@router.get(_ROOT + "/dispatchers", openapi_extra=_SECURED)
def dispatcher_services(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Dispatcher services (none in terrafuse)."""
    parse_list_query(request.query_params, filterable=uc.SERVICE_FILTERS, cursor_keys=uc.SERVICE_CURSOR)
    services = uc.dispatcher_services(who, organisation_id)
    return FusionJSONResponse(list_envelope((service_model(uc.face(s)) for s in services), None))


@router.get(_ROOT + "/{service_id}", openapi_extra=_SECURED)
def get_service(
    organisation_id: str, service_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """One service, by its id or its ssd_id (read through any organisation of the caller, or the
    platform's own id)."""
    registry = platform(request).rt.registry
    if organisation_id == PLATFORM_ORGANISATION_ID:  # the owner's path (Service.get uses it)
        return reply(service_model(uc.face(uc.find_service(registry, service_id))))
    return reply(service_model(uc.face(uc.get_service(registry, who, organisation_id, service_id))))
