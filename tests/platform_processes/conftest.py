"""Fixtures of the platform-API process tests: a real ``terrafuse serve --demo`` per module, signed-in
HTTP clients (raw wire checks) and the published SDK 2.2.5, second organisations made with the admin
CLI while the server runs, and small helpers (uploads, processes, polling).

Every server starts from the session's demo STAC catalog (``tests/conftest.py::demo_catalog``),
hard-linked into its data folder, so a module's server is up in seconds instead of generating the
demo imagery again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import fusion_platform
import httpx
import jwt
import pytest
from typer.testing import CliRunner

from terrafuse.cli import app as cli_app
from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD
from tests.support.server import ServerProcess

PASSWORD = "Correct-Horse1!"
GLASGOW = Path(fusion_platform.EXAMPLE_GLASGOW_FILE)
LAKE_DISTRICT = Path(fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE)
MISSING_ID = "00000000-0000-4000-8000-000000000000"

ELEVATION = "Elevation"
CLOUDS = "Demo: Sentinel-2 Cloud Classification"
CLOUDS_V1 = "Demo: Cloud Classification"
SERVICE_NAMES = {ELEVATION, CLOUDS, CLOUDS_V1, "Water Bodies", "NDVI"}
CHEAP = {"resolution": "120"}

T = TypeVar("T")
_cli = CliRunner()


# -- servers ----------------------------------------------------------------------------------------
def start_server(folder: Path, catalog: Any, env: Mapping[str, str] | None = None) -> ServerProcess:
    """A demo server whose data folder already holds the session's demo catalog (hard links)."""
    data = folder / "data"
    stac = data / "demo" / "stac"
    stac.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(catalog.root, stac, copy_function=os.link)
    except OSError:  # another file system: copy instead
        shutil.rmtree(stac, ignore_errors=True)
        shutil.copytree(catalog.root, stac)
    server = ServerProcess(data, demo=True, env={"TERRAFUSE_DASK_WORKERS": "1", **(env or {})})
    return server.start(timeout=300)


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Extra settings of the module's server (modules override this fixture)."""
    return {}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, demo_catalog: Any, server_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """One real server process per module (1 Dask worker unless the module says otherwise)."""
    srv = start_server(tmp_path_factory.mktemp("platform-processes"), demo_catalog, server_env)
    yield srv
    srv.stop()


# -- signed-in clients ----------------------------------------------------------------------------
@dataclass
class Api:
    """A user signed in through ``POST /api/users/login``, acting in one organisation.

    ``get``/``post``/``patch``/``delete`` take paths relative to ``/api/organisations/{org}``;
    ``raw`` is the client itself (paths relative to ``/api``).
    """

    server: ServerProcess
    email: str
    user_id: str
    org_id: str
    token: str
    raw: httpx.Client = field(repr=False)

    def _org(self, path: str) -> str:
        return f"/organisations/{self.org_id}{path}"

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.raw.get(self._org(path), **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.raw.post(self._org(path), **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.raw.patch(self._org(path), **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.raw.delete(self._org(path), **kw)

    # -- reads
    def model(self, path: str, **kw: Any) -> dict[str, Any]:
        """The ``model`` of a successful GET."""
        return ok(self.get(path, **kw))["model"]

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list (following ``last`` cursors)."""
        found: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 100, **params}
        while True:
            body = ok(self.get(path, params=query))
            found += body["list"]
            if not body["last"]:
                return found
            query = {**query, **{f"last[{k}]": v for k, v in body["last"].items()}}

    def credits(self) -> dict[str, Any]:
        return self.model(f"/credits/{self.org_id}")

    def process(self, process_id: str) -> dict[str, Any]:
        return self.model(f"/processes/{process_id}")

    def executions(self, process_id: str, **params: Any) -> list[dict[str, Any]]:
        return self.items(f"/processes/{process_id}/executions", **params)

    def process_ids(self) -> set[str]:
        return {p["id"] for p in self.items("/processes")}


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, (response.status_code, response.text[:2000])
    return response.json()


def refused(response: httpx.Response, status: int, *words: str) -> str:
    """The ``error_message`` of a refused request (status and words checked)."""
    assert response.status_code == status, (response.status_code, response.text[:2000])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error_message"}, body
    message = body["error_message"]
    assert isinstance(message, str) and message.strip()
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


def login(server: ServerProcess, email: str, password: str, organisation: str | None = None) -> Api:
    """Sign in; the client acts in ``organisation`` (a name) or the user's first organisation."""
    client = httpx.Client(base_url=f"{server.url}/api", timeout=60)
    reply = ok(
        client.post("/users/login", json={"User": {"email": email, "user_id": None, "password": password}})
    )
    token = reply["access_token"]
    user_id = jwt.decode(reply["id_token"], options={"verify_signature": False})["sub"]
    client.headers["Authorization"] = f"Bearer {token}"
    orgs = [o["id"] for o in ok(client.get(f"/users/{user_id}"))["model"]["organisations"]]
    assert orgs, f"{email} belongs to no organisation"
    org_id = orgs[0]
    if organisation is not None:
        names = {ok(client.get(f"/organisations/{o}"))["model"]["name"]: o for o in orgs}
        org_id = names[organisation]
    return Api(server, email, user_id, org_id, token, client)


@pytest.fixture(scope="module")
def me(server: ServerProcess) -> Iterator[Api]:
    """The demo account (me@org.com) in 'acme', with 1000 credits."""
    api = login(server, DEMO_EMAIL, DEMO_PASSWORD)
    yield api
    api.raw.close()


def sdk_organisation(server: ServerProcess, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> Any:
    """The user's first organisation through the published SDK 2.2.5."""
    user = fusion_platform.login(
        email=email,
        password=password,
        api_url=f"{server.url}/api",
        session_options={"api_update_wait_period": 0.5},
    )
    return next(user.organisations)


# -- second organisations, made with the admin CLI while the server runs ---------------------------
def admin(server: ServerProcess, *args: str) -> str:
    """``terrafuse admin ... --data-dir <server data>`` (asserting success); its output."""
    result = _cli.invoke(cli_app, ["admin", *args, "--data-dir", str(server.data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def new_tenant(server: ServerProcess, label: str, credits: str | None = None) -> Api:
    """A fresh organisation with one member holding every privilege (and ``credits``), signed in."""
    tag = uuid.uuid4().hex[:8]
    email = f"{label}-{tag}@example.com"
    namespace = f"{label}-{tag}"
    admin(server, "user", "create", "--email", email, "--password", PASSWORD, "--given-name", label.title())
    admin(server, "org", "create", "--name", f"{label.title()} {tag}", "--namespace", namespace)
    admin(server, "org", "add-member", "--org", namespace, "--email", email,
          "--privileges", "view,execute,manage")  # fmt: skip
    if credits is not None:
        admin(server, "credits", "add", "--org", namespace, "--amount", credits)
    return login(server, email, PASSWORD)


# -- services, uploads and processes ----------------------------------------------------------------
def services_by_name(api: Api) -> dict[str, dict[str, Any]]:
    """The catalogue (services/latest) by name."""
    return {s["name"]: s for s in api.items("/services/latest")}


def upload(api: Api, name: str, file_name: str, file_type: str, content: bytes, *, put: bool = True) -> str:
    """A data item with one file uploaded through the signed PUT URL, analysed (unless ``put=False``,
    which leaves the file waiting for its bytes)."""
    data_id = ok(api.post("/data", json={"Data[name]": name}))["model"]["id"]
    reply = ok(
        api.post(f"/data/{data_id}/add_file", json={"Data": {"name": file_name, "file_type": file_type}})
    )
    if not put:
        return data_id
    put_reply = httpx.put(reply["extras"]["url"], content=content, timeout=60)
    assert put_reply.status_code == 200, put_reply.text
    wait_for(
        lambda: all("size" in f for f in api.items(f"/data/{data_id}/files")) or None,
        60,
        f"the analysis of {file_name}",
    )
    return data_id


def upload_region(api: Api, name: str, path: Path) -> str:
    """An example region (GeoJSON) uploaded and analysed."""
    return upload(api, name, path.name, "GeoJSON", path.read_bytes())


def process_body(
    name: str | None,
    service_id: str | None,
    data_id: str | None,
    options: Mapping[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A flat ``Process[...]`` create body (lists as JSON text, as the SDK sends them)."""
    body: dict[str, Any] = {}
    if name is not None:
        body["Process[name]"] = name
    if service_id is not None:
        body["Process[service_id]"] = service_id
    if data_id is not None:
        body["Process[inputs]"] = json.dumps([{"input": 1, "id": data_id}])
    if options:
        body["Process[options]"] = json.dumps([{"name": k, "value": v} for k, v in options.items()])
    body.update({f"Process[{k}]": v for k, v in fields.items()})
    return body


def create_process(
    api: Api,
    name: str,
    service_id: str,
    data_id: str,
    options: Mapping[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A created process's model (asserting success)."""
    return ok(api.post("/processes", json=process_body(name, service_id, data_id, options, **fields)))[
        "model"
    ]


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, period: float = 0.2) -> T:
    """Poll ``predicate`` until it returns something truthy (its value), failing after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(period)


def wait_finished(api: Api, process_id: str, timeout: float = 120) -> list[dict[str, Any]]:
    """The process's executions once every one has ended and the process is back to 'stop'."""

    def done() -> list[dict[str, Any]] | None:
        process = api.process(process_id)
        executions = api.executions(process_id)
        finished = executions and all(e["progress"] >= 100 for e in executions)
        return executions if finished and process["process_status"] == "stop" else None

    return wait_for(done, timeout, f"the executions of process {process_id} to end")


def run_process(
    api: Api, name: str, service_id: str, data_id: str, options: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create, execute and wait for a process; (process, its executions)."""
    process = create_process(api, name, service_id, data_id, options)
    ok(api.post(f"/processes/{process['id']}/execute"))
    executions = wait_finished(api, process["id"])
    return api.process(process["id"]), executions


def decimal(value: Any) -> Decimal:
    """A wire number as an exact Decimal."""
    return Decimal(str(value))
