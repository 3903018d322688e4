"""Fixtures for the ingest tests: a static HTTP server on loopback (with Range support)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[StaticServer]:
    root = tmp_path / "www"
    root.mkdir()
    with StaticServer(root) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
