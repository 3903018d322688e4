"""Raw results (``response=raw``): the output itself, multipart, or links (OGC 1.0 table 1.7)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import Response

from terrafuse.api.ogc.documents import output_media_type
from terrafuse.core.executions import Execution
from terrafuse.core.refs import resolve_object_refs
from terrafuse.services.base import ServiceDescription


def _encode(value: Any, media_type: str, schema: dict[str, Any]) -> bytes:
    if isinstance(value, str):
        if schema.get("contentEncoding") == "base64":
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return value.encode()
        if not media_type.endswith("json"):
            return value.encode()
    return json.dumps(value).encode()


def raw_response(
    root: str,
    execution: Execution,
    desc: ServiceDescription,
    url_for: Callable[[str], str],
    status: int = 200,
) -> Response:
    """The raw-form response for a finished execution's outputs."""
    outputs = resolve_object_refs(execution.outputs or {}, url_for)
    wanted = execution.request.outputs
    names = [n for n in outputs if wanted is None or n in wanted]
    by_ref = [n for n in names if wanted is not None and wanted[n].transmission == "reference"]
    job_url = f"{root}/jobs/{execution.id}"
    if not names:
        # Nothing to send (a multipart body needs at least one part): as OGC 2.0 answers "no outputs".
        return Response(status_code=204)
    if len(by_ref) == len(names):
        response = Response(status_code=204)
        for n in names:
            # One header line per link: clients (the OGC test suite) read Link headers line by line.
            response.headers.append("Link", f'<{job_url}/results/{n}>; rel="{n}"')
        return response
    if len(names) == 1:
        name = names[0]
        schema = desc.outputs[name].schema if name in desc.outputs else {}
        media_type = output_media_type(desc.outputs[name]) if name in desc.outputs else "application/json"
        return Response(_encode(outputs[name], media_type, schema), status_code=status, media_type=media_type)
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name in names:
        schema = desc.outputs[name].schema if name in desc.outputs else {}
        media_type = output_media_type(desc.outputs[name]) if name in desc.outputs else "application/json"
        if name in by_ref:
            head = f"Content-ID: <{name}>\r\nContent-Location: {job_url}/results/{name}\r\n\r\n".encode()
            parts.append(head)
        else:
            head = f"Content-ID: <{name}>\r\nContent-Type: {media_type}\r\n\r\n".encode()
            parts.append(head + _encode(outputs[name], media_type, schema))
    body = (
        b"".join(f"--{boundary}\r\n".encode() + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode()
    )
    return Response(body, status_code=status, media_type=f'multipart/related; boundary="{boundary}"')


def single_output_response(
    execution: Execution, desc: ServiceDescription, name: str, url_for: Callable[[str], str]
) -> Response:
    """One output as raw content (for ``/jobs/{id}/results/{output}``)."""
    outputs = resolve_object_refs(execution.outputs or {}, url_for)
    schema = desc.outputs[name].schema
    media_type = output_media_type(desc.outputs[name])
    return Response(_encode(outputs[name], media_type, schema), media_type=media_type)
