"""Helpers of the notification tests: the SMS webhook receiver and users with chosen preferences."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from terrafuse.core.accounts import User


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 recording every POST (path, headers, JSON body).

    It answers ``status`` (200 unless a test changes it).
    """

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.posts.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def make_user(**fields: Any) -> User:
    """A user with every notification channel off unless ``fields`` switch some on."""
    now = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": "u-" + fields.get("email", "ann@example.org").split("@")[0],
        "email": "ann@example.org",
        "created_at": now,
        "updated_at": now,
        "notification_service_status": (),
        "notification_account": (),
        "notification_processing_chain": (),
        "notification_new_features": (),
        "notification_contact": (),
    }
    return User(**{**base, **fields})
