"""Request body size limit (pure ASGI middleware, so it also covers chunked bodies)."""

from __future__ import annotations

import json
from typing import Any

from terrafuse.api.ogc.documents import exception
from terrafuse.errors import PayloadTooLarge

Scope = dict[str, Any]


class BodyLimit:
    """Refuse bodies larger than ``max_bytes`` with 413 (signed object PUTs have their own limit)."""

    def __init__(self, app: Any, max_bytes: int, exempt_prefixes: tuple[str, ...] = ("/objects/",)) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Pass the request on, refusing it once its body is too large."""
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        too_big = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_big = True
                    # Abort the app's read: it must never act on a truncated body (a truncated or
                    # empty execute request can be a valid one). The 413 is sent instead of its answer.
                    raise PayloadTooLarge(f"the request body exceeds the limit of {self.max_bytes} bytes")
            return message

        started = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if too_big:
                if not started:
                    started = True
                    await self._refuse(scope, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except PayloadTooLarge:
            if not too_big:
                raise
            if not started:
                started = True
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Any) -> None:
        detail = f"the request body exceeds the limit of {self.max_bytes} bytes"
        if scope["path"].startswith("/api/"):
            body = {"error_message": detail}
        else:
            body = exception("urn:terrafuse:error:payload-too-large", "Payload too large", 413, detail)
        data = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
