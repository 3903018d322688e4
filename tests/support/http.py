"""A static HTTP server on loopback for tests (Starlette: Range requests answer 206)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # only the main thread may install them
        pass


class _RecordRequests:
    """ASGI middleware noting (method, path, Range header, status) of every request."""

    def __init__(self, app: Any, log: list[tuple[str, str, str | None, int]]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rng = headers.get(b"range")

        async def send_and_record(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.log.append(
                    (scope["method"], scope["path"], rng.decode() if rng else None, message["status"])
                )
            await send(message)

        await self.app(scope, receive, send_and_record)


class StaticServer:
    """Serves ``root`` over HTTP on 127.0.0.1 (Starlette answers Range requests with 206).

    ``requests`` lists (method, path, Range header, status) of what was asked.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str, str | None, int]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        routes = [
            # /moved/<path> redirects to /<path> (like a catalog behind a permalink).
            Route("/moved/{path:path}", lambda request: RedirectResponse("/" + request.path_params["path"])),
            Mount("/", StaticFiles(directory=root)),
        ]
        app = _RecordRequests(Starlette(routes=routes), self.requests)
        self._server = _ThreadedServer(uvicorn.Config(app, log_level="warning", access_log=False))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def url(self, relative: str) -> str:
        return f"http://127.0.0.1:{self.port}/{relative.lstrip('/')}"

    def __enter__(self) -> StaticServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("static server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def find_stac_items(root_url: str) -> dict[str, str]:
    """Item id -> absolute URL, by walking a static STAC catalog over HTTP."""
    found: dict[str, str] = {}
    todo = [root_url]
    while todo:
        url = todo.pop()
        doc = httpx.get(url, timeout=30).raise_for_status().json()
        if doc.get("type") == "Feature":
            found[doc["id"]] = url
            continue
        for link in doc.get("links", []):
            if link.get("rel") in ("child", "item"):
                todo.append(urljoin(url, link["href"]))
    return found
