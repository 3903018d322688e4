"""An in-process stand-in for the platform API (an ``httpx.MockTransport``) and a fake clock.

``FakePlatform`` answers the endpoints the SDK calls, with the wire shapes of the real server
(envelopes, absent analysis fields, text booleans, offsets on timestamps), and keeps state:
data items, files and their bytes, processes, executions that advance one step per status
request. ``faults`` lets a test break the next matching requests (an exception to raise, or a
response to send instead), so error paths run without a network and without sleeping.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

API = "http://platform.test/api"
OBJECTS = "http://objects.test"
PASSWORD = "Secret-Pass1!"
EPOCH = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when the SDK sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)

    def wait_event(self, event: threading.Event, seconds: float) -> bool:
        # A background thread may need a moment of real time; fake time moves on regardless.
        if event.wait(0.05):
            return True
        self.sleep(seconds)
        return event.is_set()


def _jwt(sub: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'sub': sub})}.signature"


def _stamp(offset: float = 0) -> str:
    return (EPOCH + timedelta(seconds=offset)).isoformat()


@dataclass
class Fault:
    """Break the next ``times`` requests matching ``method`` and ``pattern`` (a regex on the URL)."""

    method: str
    pattern: str
    answer: Callable[[httpx.Request], httpx.Response]
    times: int = 1


@dataclass
class FakePlatform:
    """One user in one organisation, one service with one input and four typed options."""

    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    org_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ssd_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    requests: list[httpx.Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How executions behave: steps of progress each needs, the group size, who fails and why.
    steps: int = 3
    group_size: int = 1
    fail: dict[int, str] = field(default_factory=dict)
    analysis_error: str | None = None
    analysis_polls: int = 1
    range_support: bool = True
    dispatchers: list[dict[str, Any]] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # group indexes not listed yet
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def break_next(
        self, method: str, pattern: str, answer: Callable[[httpx.Request], httpx.Response], times: int = 1
    ) -> None:
        self.faults.append(Fault(method, pattern, answer, times))

    def sent(self, method: str, pattern: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and re.search(pattern, str(r.url))]

    # -- dispatch -----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method == request.method
                    and re.search(fault.pattern, str(request.url))
                ):
                    fault.times -= 1
                    return fault.answer(request)
        return self.route(request)

    def route(self, request: httpx.Request) -> httpx.Response:
        """The normal answer (what a fault's answer may fall back to)."""
        if str(request.url).startswith(OBJECTS):
            return self._object(request)
        path = request.url.path.removeprefix("/api/")
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return handler(request, *match.groups())
        return httpx.Response(404, json={"error_message": "Not Found"})

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        org = r"organisations/([^/]+)"
        return [
            ("POST", r"users/login", self._login),
            ("GET", r"users/([^/]+)", self._user),
            ("PATCH", r"users/([^/]+)", self._user),
            ("GET", org, self._organisation),
            ("GET", org + r"/credits/([^/]+)", self._credit),
            ("GET", org + r"/services/latest", self._services),
            ("POST", org + r"/data", self._create_data),
            ("GET", org + r"/data/uploaded", self._list_data),
            ("GET", org + r"/data/([^/]+)", self._get_data),
            ("DELETE", org + r"/data/([^/]+)", self._delete_data),
            ("POST", org + r"/data/([^/]+)/add_file", self._add_file),
            ("GET", org + r"/data/([^/]+)/files", self._list_files),
            ("GET", org + r"/data/([^/]+)/download_file/([^/]+)", self._download_url),
            ("GET", org + r"/processes/new", self._template),
            ("POST", org + r"/processes", self._create_process),
            ("GET", org + r"/processes/([^/]+)", self._get_process),
            ("PATCH", org + r"/processes/([^/]+)", self._patch_process),
            ("POST", org + r"/processes/([^/]+)/execute", self._execute),
            ("GET", org + r"/processes/([^/]+)/executions", self._list_executions),
            ("GET", org + r"/process_executions/([^/]+)", self._get_execution),
        ]

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def model(value: dict[str, Any], extras: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.Response(200, json={"model": value, "extras": extras or {}})

    @staticmethod
    def listing(items: list[dict[str, Any]]) -> httpx.Response:
        return httpx.Response(200, json={"list": items, "last": None, "extras": {}})

    @staticmethod
    def body(request: httpx.Request) -> dict[str, Any]:
        return json.loads(request.content or b"{}")

    def _missing(self, what: str) -> httpx.Response:
        return httpx.Response(404, json={"error_message": f"no such {what}"})

    # -- accounts ---------------------------------------------------------------------------
    def _login(self, request: httpx.Request) -> httpx.Response:
        user = self.body(request)["User"]
        if user.get("password") != PASSWORD or user.get("email") not in ("me@org.com", None):
            return httpx.Response(401, json={"error_message": "wrong e-mail address or password"})
        return httpx.Response(200, json={"access_token": "token-1", "id_token": _jwt(self.user_id)})

    def _user(self, request: httpx.Request, user_id: str) -> httpx.Response:
        if user_id != self.user_id:
            return self._missing("user")
        return self.model(
            {
                "id": self.user_id,
                "created_at": _stamp(),
                "updated_at": _stamp(),
                "email": "me@org.com",
                "given_name": "Me",
                "family_name": "Tester",
                "telephone": None,
                "default_output_storage_period": 30,
                "time_zone": "UTC",
                "locale": "en",
                "units": "metric",
                "notification_service_status": ["email"],
                "organisations": [{"id": self.org_id, "last": True}],
            }
        )

    def _organisation(self, request: httpx.Request, org_id: str) -> httpx.Response:
        if org_id != self.org_id:
            return self._missing("organisation")
        return self.model({"id": self.org_id, "created_at": _stamp(), "updated_at": _stamp(), "name": "Acme"})

    def _credit(self, request: httpx.Request, org_id: str, credit_id: str) -> httpx.Response:
        return self.model(
            {"id": org_id, "organisation_id": org_id, "any_credits": 12.5, "cloud_storage_credits": 0.1}
        )

    def service(self) -> dict[str, Any]:
        return {
            "id": self.service_id,
            "ssd_id": self.ssd_id,
            "organisation_id": str(uuid.uuid4()),
            "name": "Clouds",
            "keywords": ["Cloud"],
            "version": 1,
        }

    def _services(self, request: httpx.Request, org_id: str) -> httpx.Response:
        name = request.url.params.get("filter[name__begins_with]")
        services = [self.service()]
        return self.listing([s for s in services if name is None or s["name"].startswith(name)])

    # -- data --------------------------------------------------------------------------------
    def _create_data(self, request: httpx.Request, org_id: str) -> httpx.Response:
        data_id = str(uuid.uuid4())
        self.data[data_id] = {
            "id": data_id,
            "organisation_id": org_id,
            "name": self.body(request)["Data[name]"],
            "created_at": _stamp(),
            "updated_at": _stamp(),
            "deletable": "true",
        }
        return self.model(self.data[data_id])

    def _list_data(self, request: httpx.Request, org_id: str) -> httpx.Response:
        return self.listing(list(self.data.values()))

    def _get_data(self, request: httpx.Request, org_id: str, data_id: str) -> httpx.Response:
        return self.model(self.data[data_id]) if data_id in self.data else self._missing("data")

    def _delete_data(self, request: httpx.Request, org_id: str, data_id: str) -> httpx.Response:
        return self.model(self.data.pop(data_id))

    def add_file(self, data_id: str, name: str, file_type: str, content: bytes | None = None) -> str:
        file_id = str(uuid.uuid4())
        self.files[file_id] = {
            "id": file_id,
            "file_id": file_id,
            "data_id": data_id,
            "organisation_id": self.org_id,
            "file_type": file_type,
            "file_name": name,
            "created_at": _stamp(),
            "updated_at": _stamp(),
            "_polls": 0,
        }
        if content is not None:
            self.objects[file_id] = content
        return file_id

    def _add_file(self, request: httpx.Request, org_id: str, data_id: str) -> httpx.Response:
        given = self.body(request)["Data"]
        file_id = self.add_file(data_id, given["name"], given["file_type"])
        return self.model(self.data[data_id], {"file": file_id, "url": f"{OBJECTS}/{file_id}?signature=s"})

    def _file_model(self, file: dict[str, Any]) -> dict[str, Any]:
        model = {k: v for k, v in file.items() if not k.startswith("_")}
        analysed = file["id"] in self.objects and file["_polls"] >= self.analysis_polls
        if analysed:
            model.update(size=len(self.objects[file["id"]]), error=self.analysis_error is not None)
            model["publishable"] = self.analysis_error is None
            if self.analysis_error:
                model["error_message"] = self.analysis_error
            model["selectors"] = [{"selector": "band_1", "histogram": [1, 0, 2, 0, 0, 0, 0, 0, 0, 3]}]
        return model

    def _list_files(self, request: httpx.Request, org_id: str, data_id: str) -> httpx.Response:
        found = [f for f in self.files.values() if f["data_id"] == data_id]
        wanted = request.url.params.get("filter[id__eq]")
        found = [f for f in found if wanted is None or f["id"] == wanted]
        for file in found:
            if file["id"] in self.objects:
                file["_polls"] += 1
        return self.listing([self._file_model(f) for f in found])

    def _download_url(
        self, request: httpx.Request, org_id: str, data_id: str, file_id: str
    ) -> httpx.Response:
        file = self.files.get(file_id)
        if file is None:
            return self._missing("file")
        if request.url.params.get("preview") == "true":
            return httpx.Response(400, json={"error_message": f"{file['file_name']} has no preview"})
        return self.model(self._file_model(file), {"url": f"{OBJECTS}/{file_id}?signature=s"})

    def _object(self, request: httpx.Request) -> httpx.Response:
        key = request.url.path.strip("/")
        if request.method == "PUT":
            self.objects[key] = request.read()
            return httpx.Response(200, json={"size": len(self.objects[key])})
        content = self.objects.get(key)
        if content is None:
            return httpx.Response(404, text="no such object")
        ranged = request.headers.get("range")
        if ranged and self.range_support:
            start = int(ranged.removeprefix("bytes=").split("-")[0])
            if start >= len(content):
                return httpx.Response(416, headers={"content-range": f"bytes */{len(content)}"})
            headers = {"content-range": f"bytes {start}-{len(content) - 1}/{len(content)}"}
            return httpx.Response(206, content=content[start:], headers=headers)
        return httpx.Response(200, content=content, headers={"content-length": str(len(content))})

    # -- processes ----------------------------------------------------------------------------
    def options(self) -> list[dict[str, Any]]:
        def option(name: str, data_type: str, value: str | None, validation: str | None) -> dict[str, Any]:
            return {
                "ssd_id": self.ssd_id,
                "name": name,
                "value": value,
                "required": value is not None,
                "data_type": data_type,
                "validation": validation,
                "title": name.replace("_", " ").title(),
                "description": f"The {name}.",
            }

        return [
            option("latest_date", "boolean", "true", None),
            option("start_date", "datetime", None, "format=%Y-%m-%dT%H:%M:%SZ"),
            option("resolution", "numeric", "20.0", "min=10;max=1000"),
            option("method", "constrained", "fast", "values=fast,exact;names=Fast,Exact"),
        ]

    def _template(self, request: httpx.Request, org_id: str) -> httpx.Response:
        if request.url.params.get("service_id") != self.service_id:
            return httpx.Response(400, json={"error_message": "unknown service"})
        return self.model(
            {
                "organisation_id": org_id,
                "ssd_id": self.ssd_id,
                "service_id": self.service_id,
                "name": None,
                "inputs": [
                    {
                        "ssd_id": self.ssd_id,
                        "input": 1,
                        "file_type": "GeoJSON",
                        "model": "Data",
                        "title": "Region",
                    }
                ],
                "options": self.options(),
                "run_type": "run_once",
                "repeat_count": 1,
                "repeat_start": _stamp(),
                "dispatchers": [],
            },
            {"dispatchers": copy.deepcopy(self.dispatchers)},
        )

    def _create_process(self, request: httpx.Request, org_id: str) -> httpx.Response:
        body = self.body(request)
        inputs = body.get("Process[inputs]") or []
        if not any(i.get("id") for i in inputs):
            return httpx.Response(400, json={"error_message": "input 1 (Region) needs a data item"})
        process_id = str(uuid.uuid4())
        process = {
            "id": process_id,
            "organisation_id": org_id,
            "created_at": _stamp(),
            "updated_at": _stamp(),
            "ssd_id": self.ssd_id,
            "service_id": self.service_id,
            "name": body["Process[name]"],
            "inputs": inputs,
            "options": body.get("Process[options]") or [],
            "run_type": body.get("Process[run_type]", "run_once"),
            "repeat_count": 1,
            "repeat_start": _stamp(),
            "process_status": "stop",
            "process_status_at": _stamp(),
            "price": 2.5,
            "has_executions": "false",
            "executions": [],
            "_body": body,
        }
        self.processes[process_id] = process
        return self.model(self._process_model(process))

    def _process_model(self, process: dict[str, Any]) -> dict[str, Any]:
        model = {k: v for k, v in process.items() if not k.startswith("_")}
        mine = [
            e
            for e in self.executions.values()
            if e["process_id"] == process["id"] and e["_index"] not in self.hidden
        ]
        model["executions"] = [
            {
                "process_execution_id": e["id"],
                "group_id": e["group_id"],
                "group_count": e["group_count"],
                "started_at": e["started_at"],
            }
            for e in mine
        ]
        model["has_executions"] = "true" if mine else "false"
        if mine and all(e["progress"] >= 100 for e in mine):
            model["process_status"] = "stop"
        return model

    def _get_process(self, request: httpx.Request, org_id: str, process_id: str) -> httpx.Response:
        process = self.processes.get(process_id)
        return self.model(self._process_model(process)) if process else self._missing("process")

    def _patch_process(self, request: httpx.Request, org_id: str, process_id: str) -> httpx.Response:
        process = self.processes[process_id]
        for key, value in self.body(request).items():
            process[key.removeprefix("Process[").removesuffix("]")] = value
        return self.model(self._process_model(process))

    def _execute(self, request: httpx.Request, org_id: str, process_id: str) -> httpx.Response:
        process = self.processes[process_id]
        started = _stamp(60 * len(self.executions))
        process.update(process_status="execute", repeat_start=started)
        group_id = str(uuid.uuid4()) if self.group_size > 1 else None
        for index in range(self.group_size):
            execution_id = str(uuid.uuid4())
            self.executions[execution_id] = {
                "id": execution_id,
                "organisation_id": org_id,
                "process_id": process_id,
                "group_id": group_id,
                "group_index": index if group_id else None,
                "group_count": self.group_size if group_id else None,
                "created_at": started,
                "started_at": started,
                "progress": 0,
                "success": False,
                "abort_reason": None,
                "_index": index,
                "_steps": 0,
            }
        return self.model(self._process_model(process))

    def _execution_model(self, execution: dict[str, Any], advance: bool) -> dict[str, Any]:
        if advance and execution["progress"] < 100:
            execution["_steps"] += 1
            execution["progress"] = min(100, round(100 * execution["_steps"] / self.steps))
            if execution["progress"] >= 100:
                reason = self.fail.get(execution["_index"])
                execution.update(success=reason is None, abort_reason=reason)
        return {k: v for k, v in execution.items() if not k.startswith("_")}

    def _list_executions(self, request: httpx.Request, org_id: str, process_id: str) -> httpx.Response:
        group = request.url.params.get("filter[group_id__eq]")
        wanted = request.url.params.get("filter[id__eq]")
        found = [
            e
            for e in self.executions.values()
            if e["process_id"] == process_id
            and e["_index"] not in self.hidden
            and (group is None or e["group_id"] == group)
            and (wanted is None or e["id"] == wanted)
        ]
        found.sort(key=lambda e: e["started_at"], reverse=request.url.params.get("reverse") == "true")
        return self.listing([self._execution_model(e, advance=False) for e in found])

    def _get_execution(self, request: httpx.Request, org_id: str, execution_id: str) -> httpx.Response:
        execution = self.executions.get(execution_id)
        return self.model(self._execution_model(execution, advance=True)) if execution else self._missing("x")
