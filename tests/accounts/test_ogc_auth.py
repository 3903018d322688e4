"""OGC namespaces that need credentials: Bearer tokens, HTTP Basic, privileges, hidden namespaces."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from terrafuse.api.app import create_app
from terrafuse.bootstrap import build_platform, close_platform
from terrafuse.cli import app
from terrafuse.config import Settings
from terrafuse.usecases import accounts as uc
from terrafuse.usecases.executions import Platform

from .conftest import PASSWORD

ECHO = {"inputs": {"string_input": "hello"}}


@pytest.fixture
def platform(tmp_path: Path, database_url: str, dask_scheduler: str) -> Iterator[Platform]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, dask_scheduler=dask_scheduler, demo=True
    )
    p = build_platform(settings)
    ctx = p.accounts
    ctx.organisations.create("Private", "private")
    ctx.organisations.create("Other", "other")
    for email in ("viewer@example.com", "runner@example.com", "outsider@example.com"):
        uc.create_user(ctx, email, PASSWORD)
    uc.add_member(ctx, "private", "viewer@example.com", "view")
    uc.add_member(ctx, "private", "runner@example.com", "view,execute")
    uc.add_member(ctx, "other", "outsider@example.com", "view,execute,manage")
    yield p
    close_platform(p)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform, platform.rt.settings)) as c:
        yield c


def bearer(platform: Platform, email: str, password: str = PASSWORD) -> dict[str, str]:
    token = uc.login(platform.accounts, email=email, password=password).access_token
    return {"Authorization": f"Bearer {token}"}


def basic(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_credentials_are_needed(client: TestClient, platform: Platform) -> None:
    response = client.get("/private/ogc-api/processes")
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert response.json()["type"].endswith("unauthorized")
    for path in ("/", "/conformance", "/jobs", "/processes/echo"):
        assert client.get(f"/private/ogc-api{path}").status_code == 401
    assert client.post("/private/ogc-api/processes/echo/execution", json=ECHO).status_code == 401


def test_bearer_and_basic_open_the_namespace(client: TestClient, platform: Platform) -> None:
    for headers in (bearer(platform, "viewer@example.com"), basic("Viewer@Example.com")):
        response = client.get("/private/ogc-api/processes", headers=headers)
        assert response.status_code == 200, response.text
        assert any(p["id"] == "echo" for p in response.json()["processes"])
        links = client.get("/private/ogc-api/", headers=headers).json()["links"]
        assert any("/private/ogc-api/" in link["href"] for link in links)


def test_bad_credentials_are_refused(client: TestClient, platform: Platform) -> None:
    for headers in (
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Digest abc"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        basic("viewer@example.com", "Wrong-Password1"),
        basic("nobody@example.com"),
    ):
        response = client.get("/private/ogc-api/processes", headers=headers)
        assert response.status_code == 401, headers
        # Bad credentials are refused on anonymous namespaces too.
        assert client.get("/ogc-api/processes", headers=headers).status_code == 401
    assert client.get("/ogc-api/processes").status_code == 200


def test_other_organisations_answer_as_unknown_namespaces(client: TestClient, platform: Platform) -> None:
    headers = bearer(platform, "outsider@example.com")
    hidden = client.get("/private/ogc-api/processes", headers=headers)
    unknown = client.get("/nobody/ogc-api/processes", headers=headers)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["type"] == unknown.json()["type"]
    assert hidden.json()["detail"].replace("private", "X") == unknown.json()["detail"].replace("nobody", "X")
    assert client.get("/other/ogc-api/processes", headers=headers).status_code == 200


def test_executing_and_dismissing_need_the_execute_privilege(client: TestClient, platform: Platform) -> None:
    viewer, runner = bearer(platform, "viewer@example.com"), basic("runner@example.com")
    refused = client.post("/private/ogc-api/processes/echo/execution", json=ECHO, headers=viewer)
    assert refused.status_code == 403
    assert "execute" in refused.json()["detail"]
    done = client.post("/private/ogc-api/processes/echo/execution", json=ECHO, headers=runner)
    assert done.status_code == 200, done.text
    job_id = done.headers["Link"].split("/jobs/")[1].split(">")[0]
    # Viewing is enough to read the job; dismissing needs execute.
    assert client.get(f"/private/ogc-api/jobs/{job_id}", headers=viewer).json()["status"] == "successful"
    assert [j["jobID"] for j in client.get("/private/ogc-api/jobs", headers=viewer).json()["jobs"]] == [
        job_id
    ]
    assert client.delete(f"/private/ogc-api/jobs/{job_id}", headers=viewer).status_code == 403
    assert client.delete(f"/private/ogc-api/jobs/{job_id}", headers=runner).status_code == 200
    # Other organisations see nothing.
    outsider = bearer(platform, "outsider@example.com")
    assert client.get(f"/private/ogc-api/jobs/{job_id}", headers=outsider).status_code == 404
    assert client.get(f"/other/ogc-api/jobs/{job_id}", headers=outsider).status_code == 404


def test_logged_out_tokens_stop_working(client: TestClient, platform: Platform) -> None:
    headers = bearer(platform, "viewer@example.com")
    assert client.get("/private/ogc-api/jobs", headers=headers).status_code == 200
    uc.logout(platform.accounts, uc.authenticate(platform.accounts, headers["Authorization"][7:]))
    assert client.get("/private/ogc-api/jobs", headers=headers).status_code == 401


def test_demo_account_and_anonymous_namespaces(client: TestClient, platform: Platform) -> None:
    # build_platform(demo=True) made the guide's account a member of 'acme'.
    headers = bearer(platform, "me@org.com", "MyPassword123!")
    assert (
        client.post("/acme/ogc-api/processes/echo/execution", json=ECHO, headers=headers).status_code == 200
    )
    assert client.post("/acme/ogc-api/processes/echo/execution", json=ECHO).status_code == 200
    user_id = uc.find_user(platform.accounts, "me@org.com").id
    me = uc.authenticate(platform.accounts, headers["Authorization"][7:])
    assert [o.namespace for o in uc.organisations(platform.accounts, me)] == ["acme"]
    # A second start does not duplicate it.
    close_platform(build_platform(platform.rt.settings))
    assert uc.find_user(platform.accounts, "me@org.com").id == user_id
    assert len(platform.accounts.users.list()) == 4


def test_admin_cli_changes_reach_a_running_server(client: TestClient, platform: Platform) -> None:
    env = {"TERRAFUSE_DATABASE_URL": platform.rt.db.url}
    headers = basic("outsider@example.com")
    assert client.get("/private/ogc-api/jobs", headers=headers).status_code == 404
    args = ["admin", "org", "add-member", "--org", "private", "--email", "outsider@example.com"]
    result = CliRunner().invoke(app, [*args, "--privileges", "view"], env=env)
    assert result.exit_code == 0, result.output
    assert client.get("/private/ogc-api/jobs", headers=headers).status_code == 200


def test_guessing_passwords_over_basic_auth_is_throttled(client: TestClient) -> None:
    wrong = basic("viewer@example.com", "Wrong-password-1")
    codes = [client.get("/private/ogc-api/processes", headers=wrong).status_code for _ in range(5)]
    assert codes == [401] * 5
    blocked = client.get("/private/ogc-api/processes", headers=basic("viewer@example.com"))
    # Even the right password waits now: the account is locked for a while, and says so.
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["type"].endswith("too-many-requests")
