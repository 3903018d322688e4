"""Platform API: data items and their files (the Fusion SDK's ``Data`` and ``DataFile`` models).

Wire notes (reference/fusion-api.md sections 3, 4 and 9):

* a file's ``size``, ``publishable`` and ``error`` are left out until its analysis has finished:
  the SDK takes their presence as "analysed";
* the SDK's ``error`` is a Boolean: the reason travels in ``error_message`` and ``description``
  (which the SDK shows);
* ``resolution`` is an Integer (metres) and ``geojson`` a String on the wire; terrafuse adds
  ``resolution_m`` (exact), ``state``, ``notes``, ``detected_file_type``, ``valid``, ``columns``
  and ``rows``, which the SDK ignores.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from terrafuse.api.deps import base_url
from terrafuse.api.fusion.shapes import flat_body_schema, nested_body_schema
from terrafuse.api.fusion.wire import (
    OMIT,
    FusionJSONResponse,
    Shape,
    list_envelope,
    parse_list_query,
)
from terrafuse.api.routes.platform.common import model_fields, platform, reply, signed_in
from terrafuse.api.routes.platform.openapi import BEARER, json_body
from terrafuse.core.accounts import Principal
from terrafuse.core.data import Data, DataFile, FileState
from terrafuse.errors import InvalidParameter
from terrafuse.usecases import data as uc

router = APIRouter()

_ROOT = "/organisations/{organisation_id}/data"
_ITEM = _ROOT + "/{data_id}"
_CREATE_FIELDS = {"name": Shape.VALUE, "id": Shape.VALUE}
_PATCH_FIELDS = {"name": Shape.VALUE}
_ADD_FILE_FIELDS = {"name": Shape.VALUE, "file_type": Shape.VALUE}
_COPY_FIELDS = {"name": Shape.VALUE}
# The declared request bodies (``GET /api/openapi.json``); the handlers parse them themselves.
_NAME = {"type": "string", "maxLength": 200}
_SECURED: dict[str, Any] = {"security": BEARER}
_CREATE_BODY = json_body(flat_body_schema("Data", {"name": _NAME, "id": {"type": ["string", "null"]}}))
_PATCH_BODY = json_body(flat_body_schema("Data", {"name": _NAME}))
_COPY_BODY = json_body(nested_body_schema("Data", {"name": _NAME}, ["name"]))
_ADD_FILE_BODY = json_body(
    nested_body_schema("Data", {"name": _NAME, "file_type": {"type": "string"}}, ["name", "file_type"])
)


def _ctx(request: Request) -> uc.DataContext:
    return platform(request).data


# -- wire shapes ----------------------------------------------------------------------------------
def data_model(data: Data, deletable: bool) -> dict[str, Any]:
    """A data item as the SDK's ``DataSchema`` reads it."""
    return {
        "id": data.id,
        "created_at": data.created_at,
        "updated_at": data.updated_at,
        "organisation_id": data.organisation_id,
        "name": data.name,
        "unlinked": None,
        "unfulfilled": False,
        "bounds": list(data.bounds) if data.bounds else None,
        "file_with_preview": None,
        "uploaded_organisation_id": data.organisation_id if data.uploaded else None,
        "deletable": "true" if deletable else "false",  # a String in the SDK's schema
    }


def file_model(file: DataFile) -> dict[str, Any]:
    """A file as the SDK's ``DataFileSchema`` reads it (analysis fields once analysed)."""
    result = file.result
    model: dict[str, Any] = {
        "id": file.id,
        "created_at": file.created_at,
        "updated_at": file.updated_at,
        "organisation_id": file.organisation_id,
        "data_id": file.data_id,
        "file_id": file.id,
        "preview_file_id": None,
        "file_type": file.file_type,
        "file_name": file.file_name,
        "resolution": None,
        "crs": None,
        "bounds": None,
        "area": None,
        "length": None,
        "points": None,
        "lines": None,
        "polygons": None,
        # Absent, not null, until analysed: the SDK's "analysis complete" test is their presence.
        "size": OMIT,
        "error": OMIT,
        "publishable": OMIT,
        "alternative": None,
        "source": None,
        "selectors": None,
        "number_of_ingesters": 0,
        "ingesters": {},
        "downloads": file.downloads,
        "geojson": None,
        "title": file.file_name,
        "description": None,
        "state": file.state.value,
    }
    if result is None or file.state is not FileState.ANALYSED:
        return model
    model.update(
        resolution=_whole_metres(result.resolution),
        resolution_m=result.resolution,
        crs=result.crs,
        bounds=list(result.bounds) if result.bounds else None,
        area=result.area,
        length=result.length,
        points=result.points,
        lines=result.lines,
        polygons=result.polygons,
        size=result.size,
        error=result.error is not None,
        publishable=result.publishable,
        selectors=[dict(s) for s in result.selectors],
        geojson=result.geojson,
        description=result.error or ("; ".join(result.notes) or None),
        notes=list(result.notes),
        detected_file_type=result.detected_type,
        valid=result.valid,
        columns=list(result.columns) if result.columns is not None else None,
        rows=result.rows,
    )
    if result.error is not None:
        model["error_message"] = result.error
    return model


def _whole_metres(resolution: float | None) -> int | None:
    if resolution is None:
        return None
    return max(1, round(resolution)) if resolution > 0 else 0


def _flag(name: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "false", "0"):
        return False
    if text in ("true", "1"):
        return True
    raise InvalidParameter(f"{name} must be True or False, not {value!r}")


def _data_reply(ctx: uc.DataContext, data: Data, extras: dict[str, Any] | None = None) -> FusionJSONResponse:
    return reply(data_model(data, uc.can_delete(ctx, data)), extras)


# -- data items -----------------------------------------------------------------------------------
@router.get(_ROOT + "/new", openapi_extra=_SECURED)
def new_data(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """The template of a new data item (loaded partially by the SDK's ``create_data``)."""
    org = uc.template(_ctx(request), who, organisation_id)
    return reply({"organisation_id": org, "name": None, "uploaded_organisation_id": org})


@router.get(_ROOT + "/uploaded", openapi_extra=_SECURED)
def list_uploaded(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """A page of the organisation's uploaded data items (filters ``id``, ``name``; ``search``)."""
    ctx = _ctx(request)
    query = parse_list_query(request.query_params, filterable=uc.DATA_FILTERS, cursor_keys=uc.DATA_CURSOR)
    items, last = uc.list_data(ctx, who, organisation_id, query)
    return FusionJSONResponse(list_envelope((data_model(d, uc.can_delete(ctx, d)) for d in items), last))


@router.post(_ROOT, openapi_extra={**_SECURED, **_CREATE_BODY})
async def create_data(
    organisation_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Create an empty data item (flat ``Data[name]``, optional client-chosen ``Data[id]``)."""
    ctx = _ctx(request)
    fields = await model_fields(request, "Data", _CREATE_FIELDS)
    data = await run_in_threadpool(uc.create_data, ctx, who, organisation_id, fields)
    return _data_reply(ctx, data)


@router.get(_ITEM, openapi_extra=_SECURED)
def get_data(
    organisation_id: str, data_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """One data item."""
    ctx = _ctx(request)
    return _data_reply(ctx, uc.get_data(ctx, who, organisation_id, data_id))


@router.patch(_ITEM, openapi_extra={**_SECURED, **_PATCH_BODY})
async def update_data(
    organisation_id: str, data_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Rename a data item (every other field the SDK echoes is ignored)."""
    ctx = _ctx(request)
    fields = await model_fields(request, "Data", _PATCH_FIELDS)
    data = await run_in_threadpool(uc.update_data, ctx, who, organisation_id, data_id, fields)
    return _data_reply(ctx, data)


@router.delete(_ITEM, openapi_extra=_SECURED)
def delete_data(
    organisation_id: str, data_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Delete a data item with its files and their bytes (refused while a process uses it)."""
    ctx = _ctx(request)
    data = uc.delete_data(ctx, who, organisation_id, data_id)
    return reply(data_model(data, True))


@router.post(_ITEM + "/copy", openapi_extra={**_SECURED, **_COPY_BODY})
async def copy_data(
    organisation_id: str, data_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Copy a data item and its files under a new name (``{"Data": {"name": ...}}``)."""
    ctx = _ctx(request)
    fields = await model_fields(request, "Data", _COPY_FIELDS)
    copy = await run_in_threadpool(uc.copy_data, ctx, who, organisation_id, data_id, fields)
    return _data_reply(ctx, copy)


# -- files ----------------------------------------------------------------------------------------
@router.post(_ITEM + "/add_file", openapi_extra={**_SECURED, **_ADD_FILE_BODY})
async def add_file(
    organisation_id: str, data_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """Add a file (``{"Data": {name, file_type}}``): ``extras.file`` is its id, ``extras.url`` a
    signed PUT URL for its bytes."""
    ctx = _ctx(request)
    fields = await model_fields(request, "Data", _ADD_FILE_FIELDS)
    data, file, url = await run_in_threadpool(
        uc.add_file, ctx, who, organisation_id, data_id, fields, base_url(request)
    )
    return _data_reply(ctx, data, {"file": file.id, "url": url})


@router.get(_ITEM + "/files", openapi_extra=_SECURED)
def list_files(
    organisation_id: str, data_id: str, request: Request, who: Principal = Depends(signed_in)
) -> FusionJSONResponse:
    """A page of the data item's files with their analysis (started here when it is due)."""
    query = parse_list_query(request.query_params, filterable=uc.FILE_FILTERS, cursor_keys=uc.FILE_CURSOR)
    files, last = uc.list_files(_ctx(request), who, organisation_id, data_id, query)
    return FusionJSONResponse(list_envelope((file_model(f) for f in files), last))


@router.get(_ITEM + "/download_file/{file_id}", openapi_extra=_SECURED)
def download_file(
    organisation_id: str,
    data_id: str,
    file_id: str,
    request: Request,
    who: Principal = Depends(signed_in),
) -> FusionJSONResponse:
    """``extras.url``: a signed GET URL of the file's bytes, valid for an hour."""
    preview = _flag("preview", request.query_params.get("preview"))
    file, url = uc.download_url(
        _ctx(request), who, organisation_id, data_id, file_id, preview, base_url(request)
    )
    return reply(file_model(file), {"url": url})


# -- object-store hooks ---------------------------------------------------------------------------
class DataUploads:
    """Hooks of the object store's signed PUT route for data files (see ``routes/objects.py``)."""

    def __init__(self, ctx: uc.DataContext) -> None:
        self.ctx = ctx

    def before_put(self, key: str) -> None:
        """Refuse the upload unless the file still awaits it."""
        uc.upload_starting(self.ctx, key)

    def after_put(self, key: str, size: int) -> None:
        """Start the stored file's analysis."""
        uc.upload_finished(self.ctx, key, size)
