"""Signed object URLs of the local object store: GET (with Range) and PUT (streamed, size-limited)."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterator, Sequence
from typing import Protocol

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from terrafuse.errors import Forbidden, NotFound, PayloadTooLarge
from terrafuse.storage.local import LocalObjectStore

router = APIRouter()
log = logging.getLogger(__name__)


class ObjectHook(Protocol):
    """Told about signed PUTs (``app.state.object_hooks``), e.g. to start analysing an upload."""

    def before_put(self, key: str) -> None:
        """Raise a domain error to refuse the upload before any byte is stored."""
        ...

    def after_put(self, key: str, size: int) -> None:
        """The object is stored (``size`` bytes)."""
        ...


def _hooks(request: Request) -> Sequence[ObjectHook]:
    return getattr(request.app.state, "object_hooks", ())


def _store(request: Request) -> LocalObjectStore:
    store = request.app.state.platform.rt.storage
    if not isinstance(store, LocalObjectStore):
        raise NotFound("objects are not served by this server")
    return store


def _check(store: LocalObjectStore, method: str, key: str, expires: int, signature: str) -> None:
    if not store.verify(method, key, expires, signature):
        raise Forbidden("the URL's signature is invalid or has expired")


@router.get("/objects/{key:path}", include_in_schema=False)
def get_object(
    key: str, request: Request, expires: int = Query(...), signature: str = Query(...)
) -> Response:
    """Serve an object (Range requests answered with 206)."""
    store = _store(request)
    _check(store, "GET", key, expires, signature)
    path = store.local_path(key)
    if path is None or not path.is_file():
        raise NotFound(f"no object {key!r}")
    media_type = "image/tiff" if key.endswith((".tif", ".tiff")) else mimetypes.guess_type(key)[0]
    return FileResponse(path, media_type=media_type or "application/octet-stream")


@router.put("/objects/{key:path}", include_in_schema=False)
async def put_object(
    key: str, request: Request, expires: int = Query(...), signature: str = Query(...)
) -> Response:
    """Store the request body under ``key`` (streamed; refused beyond the size limit)."""
    store = _store(request)
    _check(store, "PUT", key, expires, signature)
    limit = request.app.state.settings.max_object_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"upload exceeds the limit of {limit} bytes")
    for hook in _hooks(request):
        await run_in_threadpool(hook.before_put, key)
    body = request.stream()

    def chunks() -> Iterator[bytes]:
        # Runs in a worker thread: pull each chunk from the event loop, so memory stays bounded.
        while True:
            try:
                yield anyio.from_thread.run(body.__anext__)
            except StopAsyncIteration:
                return

    written = await run_in_threadpool(store.put_stream, key, chunks(), limit)
    for hook in _hooks(request):
        try:
            await run_in_threadpool(hook.after_put, key, written)
        except Exception:  # the bytes are stored; whoever needs them finds them later
            log.exception("object hook after storing %s failed", key)
    return JSONResponse({"key": key, "size": written})
