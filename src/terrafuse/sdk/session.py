"""The HTTP session of the platform API: sign-in, JSON requests, retries, errors and paging.

One :class:`Session` belongs to one signed-in user; every model object holds it. Requests are
retried with exponential back-off when the failure is transient (no answer, 429, 502-504), but a
``POST`` is only retried when it cannot have reached the server (the connection was never made)
or the server said it did not take it (429, 503): retrying a ``POST .../execute`` whose answer
was lost could run, and charge, the work twice.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from terrafuse.sdk.errors import (
    AuthenticationError,
    ModelError,
    ServerError,
    TransportError,
    error_for_status,
)
from terrafuse.sdk.timing import Clock, RetryPolicy, SystemClock

__all__ = ["DEFAULT_API_URL", "Session", "SessionOptions", "encode_json", "json_default"]

DEFAULT_API_URL = "http://127.0.0.1:8000/api"
"""Where ``terrafuse serve`` answers by default (``make serve``)."""

log = logging.getLogger("terrafuse.sdk")

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Statuses meaning "not taken": safe to retry even for a POST.
_NOT_TAKEN = frozenset({429, 503})
# Failures before the request left the client: safe to retry even for a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class SessionOptions:
    """How a session talks to the server and waits.

    Attributes:
        request_timeout: seconds each HTTP request may take (connect, read or write).
        poll_interval: the longest pause between two status checks while waiting (the first
            checks come sooner, so short work is seen finishing at once).
        wait_timeout: the timeout of every wait that is not given one; a session lasts a day
            at most, so by default no wait outlives it.
        progress: progress bars on (True), off (False), or as the global switch says (None).
        retry: how transient failures are retried.
        clock: where time is read and slept (tests pass a fake clock).
    """

    request_timeout: float = 60.0
    poll_interval: float = 10.0
    wait_timeout: float = 86400.0
    progress: bool | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default_factory=SystemClock)


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: datetimes with offsets, Decimals as numbers,
    tuples and read-only mappings as lists and objects."""
    if isinstance(value, datetime):
        # The platform needs offsets; a naive time is taken as UTC, as the guide's examples are.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot send a {type(value).__name__} to the platform")


def encode_json(value: Any) -> str:
    """JSON text for a request body (datetimes with offsets, Decimals as numbers)."""
    return json.dumps(value, default=json_default)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_message(response: httpx.Response) -> str:
    """The server's explanation: Fusion ``error_message``, OGC ``detail``/``title``, or the text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error_message", "detail", "title", "message"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
    text = response.text.strip()
    return text[:500] if text else (response.reason_phrase or "no explanation given")


def _jwt_subject(token: str) -> str | None:
    """The ``sub`` claim of a JWT, read without verifying it (it came from the server we trust)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def send(
    client: httpx.Client,
    options: SessionOptions,
    method: str,
    url: str,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request, retrying transient failures; the final response (any status).

    Raises :class:`~terrafuse.sdk.errors.TransportError` when no answer came after the retries.
    """
    retry = options.retry
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            safe = method in _IDEMPOTENT or isinstance(exc, _NOT_SENT)
            if not safe or attempt >= retry.attempts:
                raise TransportError(
                    f"no answer from the server: {type(exc).__name__}: {exc}",
                    method,
                    _strip_query(url),
                    attempt,
                ) from exc
            delay = retry.delay(attempt)
            log.info("%s %s failed (%s); retrying in %.1f s", method, _strip_query(url), exc, delay)
            options.clock.sleep(delay)
            continue
        status = response.status_code
        retryable = status in _RETRY_STATUSES and (method in _IDEMPOTENT or status in _NOT_TAKEN)
        if not retryable or attempt >= retry.attempts:
            return response
        delay = _retry_after(response) or retry.delay(attempt)
        log.info("%s %s answered %d; retrying in %.1f s", method, _strip_query(url), status, delay)
        response.close()
        options.clock.sleep(delay)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(float(value), 300.0)  # never let a server park the client for ages
    return None


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def check(response: httpx.Response) -> httpx.Response:
    """``response`` when its status is a success; else the matching typed error."""
    if response.status_code >= 400:
        raise error_for_status(
            response.status_code,
            _error_message(response),
            response.request.method,
            _strip_query(str(response.request.url)),
        )
    return response


class Session:
    """A signed-in connection to the platform API (``api_url``, e.g. ``http://host:8000/api``).

    Made by :func:`terrafuse.login`; every model object keeps a reference to it. Not meant to be
    shared between threads that change objects: give each thread its own ``login``.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        options: SessionOptions | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.options = options or SessionOptions()
        timeout = httpx.Timeout(self.options.request_timeout)
        # One client for the API (base URL, auth) and one for pre-signed object URLs, which must
        # not carry the bearer token to wherever the bytes live.
        self._api = httpx.Client(
            base_url=self.api_url + "/",
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self.files = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)
        self.user_id: str | None = None

    @property
    def access_token(self) -> str | None:
        """The bearer token of the signed-in session (also accepted by the OGC API routes)."""
        header = self._api.headers.get("Authorization", "")
        return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None

    @property
    def clock(self) -> Clock:
        """The session's clock."""
        return self.options.clock

    def close(self) -> None:
        """Close the HTTP connections."""
        self._api.close()
        self.files.close()

    # -- sign-in ----------------------------------------------------------------------------
    def login(self, email: str | None, user_id: str | None, password: str) -> str:
        """Sign in (``POST /users/login``); the user's id. Raises ``AuthenticationError``."""
        body = {"User": {"email": email, "user_id": user_id, "password": password}}
        reply = self.request("POST", "users/login", body=body, log_body=False)
        token = reply.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthenticationError(200, "the server's sign-in reply has no access token", "POST", "")
        self._api.headers["Authorization"] = f"Bearer {token}"
        subject = _jwt_subject(str(reply.get("id_token", ""))) or user_id
        if subject is None:
            raise AuthenticationError(200, "the server's sign-in reply does not name the user", "POST", "")
        self.user_id = subject
        return subject

    # -- requests ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        log_body: bool = True,
    ) -> dict[str, Any]:
        """Send an API request (``path`` relative to ``api_url``); its decoded JSON object.

        Raises a :class:`~terrafuse.sdk.errors.RequestError` subclass carrying the server's
        message for error statuses, and :class:`~terrafuse.sdk.errors.TransportError` when the
        server could not be reached even after retrying.
        """
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        kwargs: dict[str, Any] = {"params": query} if query else {}
        if body is not None:
            kwargs["content"] = encode_json(body)
            kwargs["headers"] = {"Content-Type": "application/json"}
        log.debug("%s %s %s%s", method, path, query or "", f" {body}" if log_body and body else "")
        response = check(send(self._api, self.options, method, path.lstrip("/"), **kwargs))
        try:
            decoded = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise ServerError(response.status_code, "the server's reply is not JSON", method, path) from exc
        if not isinstance(decoded, dict):
            raise ServerError(response.status_code, "the server's reply is not a JSON object", method, path)
        return decoded

    def model(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(model, extras)`` of a reply in the ``{"model": ..., "extras": ...}`` envelope."""
        reply = self.request(method, path, params, body)
        model = reply.get("model")
        if not isinstance(model, dict):
            raise ServerError(200, "the server's reply has no 'model'", method, path)
        extras = reply.get("extras")
        return model, extras if isinstance(extras, dict) else {}

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list, following the ``last`` cursor page after page (lazily)."""
        query = dict(params or {})
        while True:
            reply = self.request("GET", path, query)
            items = reply.get("list")
            if not isinstance(items, list):
                raise ServerError(200, "the server's reply has no 'list'", "GET", path)
            yield from items
            last = reply.get("last")
            if not last or not items:
                return
            query = {k: v for k, v in query.items() if not k.startswith("last[")}
            query.update({f"last[{k}]": v for k, v in last.items()})

    def require_user(self) -> str:
        """The signed-in user's id (raises when the session never signed in)."""
        if self.user_id is None:
            raise ModelError("this session is not signed in: use terrafuse.login(...)")
        return self.user_id
