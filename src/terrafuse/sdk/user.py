"""Signing in, and the signed-in user (``POST /users/login``, ``/users/{id}``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from terrafuse.sdk.errors import ModelError
from terrafuse.sdk.model import Model
from terrafuse.sdk.organisation import Organisation
from terrafuse.sdk.session import DEFAULT_API_URL, Session, SessionOptions

__all__ = ["User", "login"]


class User(Model):
    """The signed-in account, and the way into everything else (its organisations).

    Made by :func:`login`. Endpoint: ``/users/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    email: str
    given_name: str
    family_name: str
    telephone: str | None
    role: int | None
    default_output_storage_period: int
    time_zone: str
    locale: str
    units: str
    notification_service_status: list[str] | None
    notification_account: list[str] | None
    notification_processing_chain: list[str] | None
    notification_new_features: list[str] | None
    notification_contact: list[str] | None
    last_request_at: datetime | None

    @property
    def session(self) -> Session:
        """The signed-in session (its ``api_url`` and ``options``)."""
        return self._session

    @property
    def _path(self) -> str:
        return f"users/{self._require('id')}"

    def get(self) -> User:
        """Reload the account (``GET /users/{id}``); itself."""
        model, _ = self._session.model("GET", self._path)
        self._load(model)
        return self

    @property
    def organisations(self) -> Iterator[Organisation]:
        """The user's organisations (``GET /organisations/{id}`` each), lazily."""
        session = self._session
        ids = [str(entry["id"]) for entry in self._raw.get("organisations") or () if entry.get("id")]
        for organisation_id in ids:
            model, _ = session.model("GET", f"organisations/{organisation_id}")
            yield Organisation(session, model)

    def find_organisations(
        self, id: str | None = None, name: str | None = None
    ) -> tuple[Organisation | None, Iterator[Organisation]]:
        """``(first match or None, iterator over all matches)`` among the user's organisations,
        by ``id`` or by ``name`` (names starting with it, ignoring case)."""
        wanted_id = id.strip() if id is not None else None
        prefix = name.lower() if name is not None else None
        matches = [
            o
            for o in self.organisations
            if (wanted_id is None or o.id == wanted_id)
            and (prefix is None or o.name.lower().startswith(prefix))
        ]
        return (matches[0] if matches else None), iter(matches)

    def update(self, **fields: Any) -> User:
        """Change the account, e.g. ``update(given_name='Joe', family_name='Bloggs')``
        (``PATCH /users/{id}``); itself."""
        if not fields:
            raise ModelError("update needs at least one field, e.g. update(given_name='Joe')")
        body = {f"User[{name}]": value for name, value in fields.items()}
        model, _ = self._session.model("PATCH", self._path, body=body)
        self._load(model)
        return self

    def change_password(self, old: str, new: str) -> None:
        """Replace the password (``POST /users/{id}/change_password``); the new one must meet the
        platform's policy (8+ characters, upper and lower case, a digit, a special character)."""
        body = {"User": {"old_password": old, "new_password": new}}
        self._session.request("POST", f"{self._path}/change_password", body=body, log_body=False)

    def delete(self) -> None:
        """Delete the account (``DELETE /users/{id}``)."""
        self._session.request("DELETE", self._path)


def login(
    email: str | None = None,
    user_id: str | None = None,
    password: str | None = None,
    api_url: str = DEFAULT_API_URL,
    session_options: SessionOptions | Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    progress: bool | None = None,
    timeout: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> User:
    """Sign in with ``email`` (or ``user_id``) and ``password``; the signed-in :class:`User`.

    Calls ``POST {api_url}/users/login`` then ``GET {api_url}/users/{id}``. ``api_url`` is the
    platform API's root, e.g. ``http://127.0.0.1:8000/api`` for ``terrafuse serve``.

    Args:
        email: the account's e-mail address.
        user_id: the account's id, instead of the e-mail address (``id`` is accepted too).
        password: the account's password.
        api_url: the platform API's root URL.
        session_options: a :class:`~terrafuse.sdk.session.SessionOptions`, or a dict of its
            fields (``api_update_wait_period`` is read as ``poll_interval``).
        progress: progress bars on (True) or off (False) for this session; None follows
            :func:`terrafuse.set_progress`.
        timeout: the default timeout in seconds of every wait (else ``wait_timeout``: a day).
        transport: an ``httpx`` transport to talk through (tests pass an in-process one).

    Raises:
        ModelError: no e-mail/user id, or no password.
        AuthenticationError: the platform refused the credentials.
    """
    user_id = user_id if user_id is not None else id
    if not email and not user_id:
        raise ModelError("login needs email= or user_id=")
    if not password:
        raise ModelError("login needs password=")
    options = _options(session_options)
    if progress is not None:
        options = replace(options, progress=progress)
    if timeout is not None:
        options = replace(options, wait_timeout=timeout)
    session = Session(api_url, options, transport)
    signed_in = session.login(email, user_id, password)
    model, _ = session.model("GET", f"users/{signed_in}")
    return User(session, model)


def _options(given: SessionOptions | Mapping[str, Any] | None) -> SessionOptions:
    if given is None:
        return SessionOptions()
    if isinstance(given, SessionOptions):
        return given
    fields = dict(given)
    if "api_update_wait_period" in fields:  # the Fusion SDK 2.x's name for the poll interval
        fields["poll_interval"] = fields.pop("api_update_wait_period")
    known = set(SessionOptions.__dataclass_fields__)
    unknown = set(fields) - known
    if unknown:
        raise ModelError(f"unknown session options {sorted(unknown)}; known: {sorted(known)}")
    return SessionOptions(**fields)
