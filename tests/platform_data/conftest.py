"""Data API fixtures: a platform on the session's Dask cluster, members of three organisations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from terrafuse.api.app import create_app
from terrafuse.bootstrap import build_platform, close_platform
from terrafuse.config import Settings
from terrafuse.usecases import accounts as accounts_uc
from terrafuse.usecases.credits import purchase
from terrafuse.usecases.executions import Platform
from tests.support.ogc_api import path_of

PASSWORD = "Correct-Horse1"
MAX_OBJECT_BYTES = 256 * 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str, dask_scheduler: str) -> Settings:
    """A fresh platform whose signed PUTs accept at most MAX_OBJECT_BYTES."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        dask_scheduler=dask_scheduler,
        demo=True,
        max_object_bytes=MAX_OBJECT_BYTES,
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    p = build_platform(settings)
    p.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    yield p
    close_platform(p)


@pytest.fixture
def client(platform: Platform, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(platform, settings)) as c:
        yield c


@dataclass
class Member:
    """A signed-in user acting in one organisation through the API."""

    client: TestClient
    org: str
    headers: dict[str, str]

    def url(self, path: str = "", org: str | None = None) -> str:
        return f"/api/organisations/{org or self.org}/data{path}"

    def call(self, method: str, path: str = "", *, org: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, self.url(path, org), headers=self.headers, **kwargs)

    def ok(self, method: str, path: str = "", **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, name: str = "Region", **fields: Any) -> dict[str, Any]:
        body = {"Data[name]": name, **{f"Data[{k}]": v for k, v in fields.items()}}
        return self.ok("POST", json=body)["model"]

    def add_file(self, data_id: str, name: str, file_type: str) -> tuple[str, str]:
        extras = self.ok(
            "POST", f"/{data_id}/add_file", json={"Data": {"name": name, "file_type": file_type}}
        )["extras"]
        return extras["file"], extras["url"]

    def put(self, url: str, content: bytes) -> httpx.Response:
        return self.client.put(path_of(url), content=content)

    def upload(
        self, name: str, file_type: str, content: bytes, data_id: str | None = None
    ) -> tuple[str, str]:
        """Create (or reuse) a data item, add a file and PUT its bytes; (data id, file id)."""
        data_id = data_id or self.create(name)["id"]
        file_id, url = self.add_file(data_id, name, file_type)
        assert self.put(url, content).status_code == 200
        return data_id, file_id

    def files(self, data_id: str, **params: Any) -> list[dict[str, Any]]:
        return self.ok("GET", f"/{data_id}/files", params=params)["list"]

    def analysed(self, data_id: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The data item's files once every one of them is analysed (as the SDK polls)."""
        return wait_for(lambda: _all_analysed(self.files(data_id)), timeout)


def _all_analysed(files: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return files if files and all("size" in f and "publishable" in f for f in files) else None


def wait_for(probe: Callable[[], Any], timeout: float = 60, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(every)


@dataclass
class Cast:
    """The organisations and people of a test."""

    platform: Platform
    acme: str  # the demo organisation, with credits
    other: str  # another organisation, with credits
    broke: str  # an organisation without credits
    runner: Member  # acme: view, execute
    viewer: Member  # acme: view
    outsider: Member  # other: view, execute, manage
    pauper: Member  # broke: view, execute


@pytest.fixture
def cast(platform: Platform, client: TestClient) -> Cast:
    ctx = platform.accounts
    acme = ctx.organisations.by_namespace("acme")
    assert acme is not None
    other = ctx.organisations.create("Other", "other")
    broke = ctx.organisations.create("Broke", "broke")
    purchase(platform.rt.credits, other.id, 100)
    members = {}
    for email, org, privileges in [
        ("runner@example.com", acme, "view,execute"),
        ("viewer@example.com", acme, "view"),
        ("outsider@example.com", other, "view,execute,manage"),
        ("pauper@example.com", broke, "view,execute"),
    ]:
        accounts_uc.create_user(ctx, email, PASSWORD)
        accounts_uc.add_member(ctx, org.namespace, email, privileges)
        token = accounts_uc.login(ctx, email=email, password=PASSWORD).access_token
        members[email.split("@")[0]] = Member(client, org.id, {"Authorization": f"Bearer {token}"})
    return Cast(platform, acme.id, other.id, broke.id, **members)
