"""A stand-in for the Fusion API under the real SDK: answers from canned models, records requests.

It replaces ``requests.request``/``requests.put`` as the SDK's ``Session`` calls them, so the
bodies and query strings recorded are exactly the bytes the SDK would send over the wire
(``json.dumps(body, default=json_default)`` in ``fusion_platform.session.Session.request``).
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from requests.models import PreparedRequest

API = "http://fusion.test/api"
NOW = "2026-03-01T12:00:00+00:00"


@dataclass
class Sent:
    """One request as the server would receive it."""

    method: str
    path: str
    query: str  # the encoded query string
    body: bytes | None


class FakeResponse:
    """Just what ``Session.request`` uses of a ``requests.Response``."""

    def __init__(self, payload: Any, status: int = 200) -> None:
        self.payload, self.status_code, self.headers = payload, status, {}

    def __bool__(self) -> bool:
        return self.status_code < 400

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def json(self) -> Any:
        return copy.deepcopy(self.payload)


def _stamps() -> dict[str, str]:
    return {"created_at": NOW, "updated_at": NOW}


class FakeFusion:
    """Serves one user, one organisation, one service; keeps created data and processes."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.user_id, self.org_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.service_id, self.ssd_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.data: dict[str, dict[str, Any]] = {}
        self.file_id = str(uuid.uuid4())

    # -- transport ------------------------------------------------------------------------
    def request(
        self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None
    ) -> Any:
        prepared = PreparedRequest()
        prepared.prepare_url(url, params)  # what requests really puts on the wire
        split = urlsplit(prepared.url)
        path = split.path.removeprefix(urlsplit(API).path)
        body = data.encode() if isinstance(data, str) else data
        self.sent.append(Sent(method, path, split.query, body))
        return FakeResponse(self._answer(method, path))

    def put(self, url: str, data: Any = None, **_: Any) -> FakeResponse:
        data.read()
        return FakeResponse({})

    def bodies(self, method: str, pattern: str) -> list[bytes]:
        """The bodies sent with ``method`` to paths matching ``pattern``."""
        return [s.body or b"" for s in self.sent if s.method == method and re.fullmatch(pattern, s.path)]

    # -- canned answers -------------------------------------------------------------------
    def _answer(self, method: str, path: str) -> Any:
        org = f"/organisations/{self.org_id}"
        if path == "/users/login":
            token = jwt.encode(
                {"sub": self.user_id}, "the SDK does not check this signature", algorithm="HS256"
            )
            return {"access_token": "access", "id_token": token, "refresh_token": "refresh"}
        if path in (f"/users/{self.user_id}", f"/users/{self.user_id}/change_password"):
            return {"model": self._user(), "extras": {}}
        if path == org:
            return {"model": self._organisation(), "extras": {}}
        if path == f"{org}/data/new":
            return {"model": {"organisation_id": self.org_id, "name": None}, "extras": {}}
        if path == f"{org}/data" and method == "POST":
            data_id = str(uuid.uuid4())
            self.data[data_id] = {"id": data_id, "organisation_id": self.org_id, "name": "new", **_stamps()}
            return {"model": self.data[data_id], "extras": {}}
        if match := re.fullmatch(rf"{org}/data/([^/]+)/add_file", path):
            return {"model": self.data[match[1]], "extras": {"file": self.file_id, "url": "http://store/put"}}
        if match := re.fullmatch(rf"{org}/data/([^/]+)/files", path):
            return {"list": [self._file(match[1])], "last": None, "extras": {}}
        if match := re.fullmatch(rf"{org}/data/([^/]+)", path):
            return {"model": self.data[match[1]], "extras": {}}
        if path == f"{org}/services/latest":
            return {"list": [self._service()], "last": None, "extras": {}}
        if path == f"{org}/processes/new":
            return {"model": self._process(template=True), "extras": {"dispatchers": []}}
        if path == f"{org}/processes":
            return {"model": self._process(template=False), "extras": {"dispatchers": []}}
        raise AssertionError(f"the fake does not serve {method} {path}")

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "email": "me@example.org",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "default_output_storage_period": 30,
            "time_zone": "UTC",
            "locale": "en",
            "units": "metric",
            "notification_account": ["email"],
            "notification_new_features": [],
            "organisations": [{"id": self.org_id, "last": True}],
            **_stamps(),
        }

    def _organisation(self) -> dict[str, Any]:
        return {
            "id": self.org_id,
            "name": "Acme",
            "address_line_1": "1 Road",
            "address_town_city": "Glasgow",
            "address_post_zip_code": "G1",
            "address_country": "UK",
            **_stamps(),
        }

    def _file(self, data_id: str) -> dict[str, Any]:
        return {
            "id": self.file_id,
            "data_id": data_id,
            "file_id": self.file_id,
            "file_type": "GeoJSON",
            "file_name": "region.geojson",
            "size": 10,
            "publishable": True,
            **_stamps(),
        }

    def _service(self) -> dict[str, Any]:
        text = {
            f"documentation_{k}": "."
            for k in ("summary", "description", "assumptions", "performance", "actions")
        }
        return {
            "id": self.service_id,
            "organisation_id": self.org_id,
            "ssd_id": self.ssd_id,
            "version": 1,
            "approval_status": "approved",
            "name": "Elevation",
            "categories": ["Terrain"],
            "keywords": ["dem", "elevation"],
            "image_id": str(uuid.uuid4()),
            "license_id": str(uuid.uuid4()),
            **text,
            **_stamps(),
        }

    def _process(self, template: bool) -> dict[str, Any]:
        option = {
            "ssd_id": self.ssd_id,
            "name": "start_date",
            "value": None,
            "required": False,
            "data_type": "datetime",
            "validation": "format=%Y-%m-%dT%H:%M:%SZ",
            "title": "Start",
            "description": "First day",
        }
        flag = {**option, "name": "latest_date", "value": "false", "data_type": "boolean", "validation": None}
        an_input = {
            "ssd_id": self.ssd_id,
            "input": 1,
            "file_type": "GeoJSON",
            "model": "Data",
            "change_trigger": False,
            "title": "Region",
            "description": "Region of interest",
        }
        model = {
            "organisation_id": self.org_id,
            "ssd_id": self.ssd_id,
            "service_id": self.service_id,
            "name": None,
            "inputs": [an_input],
            "options": [flag, option],
            "run_type": "run_once",
            "repeat_count": 0,
            "repeat_start": NOW,
            "repeat_gap": '{"days": 1}',
            "repeat_offset": '{"days": 0, "seconds": 3600, "microseconds": 0}',
            "output_storage_period": 30,
            "process_status": "stop",
            "process_status_at": NOW,
            "test_run": False,
            "price": 12.5,
            "has_executions": "false",
            "has_executions_organisation_id": "false",
        }
        if not template:
            bound = {**an_input, "id": next(iter(self.data))}  # a stored input is bound to data
            model |= {"id": str(uuid.uuid4()), "name": "My process", "inputs": [bound], **_stamps()}
        return model


def now() -> datetime:
    """The fake's clock as an aware datetime."""
    return datetime.fromisoformat(NOW).astimezone(UTC)
