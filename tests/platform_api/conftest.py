"""Platform API fixtures: an in-process app per database, tenants with their own users, a real
server process for the published SDKs, and a virtual environment holding the Fusion SDK 1.1.4.

The in-process app runs without an executor (these routes start no work) and with a cheap Argon2
hasher. Each test makes fresh organisations and users, so one app per module and database serves
all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from terrafuse.api.app import create_app
from terrafuse.bootstrap import build_runtime
from terrafuse.config import Settings
from terrafuse.core.accounts import ALL_PRIVILEGES, Privilege
from terrafuse.core.clock import utcnow
from terrafuse.engine.dispatcher import Dispatcher
from terrafuse.usecases import accounts as uc
from terrafuse.usecases.accounts import Accounts
from terrafuse.usecases.credits import purchase
from terrafuse.usecases.executions import Platform
from tests.support.server import ServerProcess
from tests.support.venvs import cached_environment

PASSWORD = "Correct-Horse1!"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)


class NoExecutor:
    """These routes start no work: an executor that is never asked for any."""

    owns_cluster = False

    def submit(self, execution_id: str) -> None:
        raise AssertionError(f"unexpected execution {execution_id}")

    def close(self) -> None:
        return None


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api_platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Platform, Settings]]:
    """A platform on SQLite, then on a fresh PostgreSQL database."""
    folder = tmp_path_factory.mktemp("platform-api")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'terrafuse.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip("PostgreSQL binaries are not installed")
        url = server.create_database()
    settings = Settings(data_dir=folder / "data", database_url=url, secret_key="k" * 40, demo=False)
    rt = build_runtime(settings)
    accounts = Accounts(rt.db, settings.secret_bytes(), rt.organisations, hasher=FAST_HASHER)
    yield Platform(rt=rt, dispatcher=Dispatcher(rt, NoExecutor()), accounts=accounts), settings  # type: ignore[arg-type]
    rt.db.dispose()


@pytest.fixture(scope="module")
def client(api_platform: tuple[Platform, Settings]) -> Iterator[TestClient]:
    """An HTTP client talking to the app in-process."""
    with TestClient(create_app(*api_platform)) as c:
        yield c


@pytest.fixture
def platform(api_platform: tuple[Platform, Settings]) -> Platform:
    return api_platform[0]


@dataclass
class Member:
    """A user signed in through the API."""

    id: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    """An organisation with a manager (every privilege) and a member who may only view."""

    id: str
    namespace: str
    owner: Member
    viewer: Member


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """The login reply (asserting success)."""
    response = client.post(
        "/api/users/login", json={"User": {"email": email, "user_id": None, "password": password}}
    )
    assert response.status_code == 200, response.text
    return response.json()


def new_user(client: TestClient, platform: Platform, name: str) -> Member:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    user = uc.create_user(platform.accounts, email, PASSWORD, name.title(), "Tester")
    return Member(user.id, email, login(client, email)["access_token"])


def new_tenant(client: TestClient, platform: Platform, credits: int = 250) -> Tenant:
    """A fresh organisation with its members (and credits, unless 0)."""
    namespace = f"t-{uuid.uuid4().hex[:10]}"
    org = platform.rt.organisations.create(f"Org {namespace}", namespace, address_country="GB")
    owner, viewer = new_user(client, platform, "owner"), new_user(client, platform, "viewer")
    memberships = platform.accounts.memberships
    memberships.set(owner.id, org.id, ALL_PRIVILEGES, utcnow())
    memberships.set(viewer.id, org.id, {Privilege.VIEW}, utcnow())
    if credits:
        purchase(platform.rt.credits, org.id, credits, reference=f"grant-{namespace}")
    return Tenant(org.id, namespace, owner, viewer)


@pytest.fixture
def tenant(client: TestClient, platform: Platform) -> Tenant:
    return new_tenant(client, platform)


@pytest.fixture
def other(client: TestClient, platform: Platform) -> Tenant:
    """A second, unrelated tenant."""
    return new_tenant(client, platform, credits=40)


# -- a real server, and the published SDKs ----------------------------------------------------------
SDK_V1 = "1.1.4"


@pytest.fixture(scope="session")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``terrafuse serve --demo``: the guide's account me@org.com in 'acme', with 1000 credits."""
    server = ServerProcess(
        tmp_path_factory.mktemp("platform-api-e2e") / "data", demo=True, env={"TERRAFUSE_DASK_WORKERS": "1"}
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sdk_v1_python(request: pytest.FixtureRequest) -> Path:
    """The Python of a virtual environment with ``fusion-platform-python-sdk==1.1.4``."""
    return sdk_v1_environment(request, ())


def sdk_v1_environment(request: pytest.FixtureRequest, extras: tuple[str, ...]) -> Path:
    """The Python of a cached virtual environment with the SDK 1.1.4 and ``extras`` (pip requirements)."""
    requirements = [f"fusion-platform-python-sdk=={SDK_V1}", *extras]
    return cached_environment(request, f"fusion-sdk-{SDK_V1}", requirements)
