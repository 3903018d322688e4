"""``/api/users``: sign-in, the caller's own account, password changes, deletion (in-process)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from fusion_platform.models.user import UserSchema

from terrafuse.usecases.accounts import ThrottlePolicy
from terrafuse.usecases.executions import Platform

from .conftest import PASSWORD, Member, Tenant, login, new_user


def _sdk_patch_body(model: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A PATCH body as the SDK builds it: every field it holds, flat, changes on top."""
    return {f"User[{key}]": value for key, value in {**model, **changes}.items()}


def _error(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error_message"}, body
    return body["error_message"]


def test_login_answers_the_tokens_the_sdk_reads(client: TestClient, tenant: Tenant) -> None:
    owner = tenant.owner
    reply = login(client, owner.email.upper())  # e-mail addresses are compared without case
    assert set(reply) >= {"access_token", "id_token", "refresh_token", "expires_in"}
    assert reply["expires_in"] == 24 * 3600 and reply["token_type"] == "Bearer"
    # The SDK decodes the id token without verifying it and takes the user id from `sub`.
    assert jwt.decode(reply["id_token"], options={"verify_signature": False})["sub"] == owner.id
    # By user id, and in the flat form.
    by_id = client.post(
        "/api/users/login", json={"User": {"email": None, "user_id": owner.id, "password": PASSWORD}}
    )
    assert by_id.status_code == 200, by_id.text
    flat = client.post("/api/users/login", json={"User[email]": owner.email, "User[password]": PASSWORD})
    assert flat.status_code == 200, flat.text
    for token in (reply["access_token"], by_id.json()["access_token"], flat.json()["access_token"]):
        me = client.get(f"/api/users/{owner.id}", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["model"]["email"] == owner.email


def test_bad_credentials_all_answer_alike(client: TestClient, tenant: Tenant) -> None:
    answers = []
    for user in (
        {"email": tenant.owner.email, "password": "Wrong-Password1!"},
        {"email": "nobody@example.com", "password": PASSWORD},
        {"user_id": "4b1c5a7e-0000-4000-8000-000000000000", "password": PASSWORD},
        {"email": "not an address", "password": PASSWORD},
    ):
        response = client.post("/api/users/login", json={"User": user})
        answers.append((response.status_code, _error(response)))
    assert len(set(answers)) == 1 and answers[0][0] == 401, answers


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"User": "me"}', "JSON object"),
        (b'{"User": {"email": "a@example.com"}}', "password is required"),
        (b'{"User": {"password": "x"}}', "e-mail address or a user id is required"),
        (b'{"User": {"email": ["a@example.com"], "password": "x"}}', "single value"),
        (b'{"User": {"email": 42, "password": "x"}}', "must be text"),
        (b'{"User": {"email": "a\\u0000@example.com", "password": "x"}}', "NUL"),
        (b"", "e-mail address or a user id is required"),
    ],
)
def test_malformed_logins_are_refused_with_a_reason(client: TestClient, body: bytes, words: str) -> None:
    response = client.post("/api/users/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert words in _error(response)


def test_failed_logins_are_throttled_with_retry_after(
    client: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform.accounts, "throttle", ThrottlePolicy(max_account_failures=2))
    member = new_user(client, platform, "throttled")
    wrong = {"User": {"email": member.email, "user_id": None, "password": "Wrong-Password1!"}}
    assert [client.post("/api/users/login", json=wrong).status_code for _ in range(2)] == [401, 401]
    for password in ("Wrong-Password1!", PASSWORD):  # even the right password waits now
        response = client.post("/api/users/login", json={"User": {**wrong["User"], "password": password}})
        assert response.status_code == 429, response.text
        assert int(response.headers["Retry-After"]) > 0
        assert "too many failed sign-ins" in _error(response)


def test_get_user_has_every_field_the_sdk_requires(client: TestClient, tenant: Tenant) -> None:
    owner = tenant.owner
    response = client.get(f"/api/users/{owner.id}", headers=owner.auth)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"model", "extras"}
    model = body["model"]
    loaded = UserSchema().load(model)  # the SDK's own validation: required fields present and non-null
    assert loaded["email"] == owner.email and loaded["given_name"] == "Owner"
    assert [str(o["id"]) for o in loaded["organisations"]] == [tenant.id]
    assert model["organisations"] == [{"id": tenant.id, "last": True}]
    for stamp in ("created_at", "updated_at", "last_request_at"):
        assert datetime.fromisoformat(model[stamp]).utcoffset() is not None, stamp
    assert "password" not in json.dumps(model) and "hash" not in json.dumps(model)


def test_user_routes_need_a_valid_token(client: TestClient, tenant: Tenant) -> None:
    path = f"/api/users/{tenant.owner.id}"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Token abc"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, response.text
        assert _error(response) and "Bearer" in response.headers["WWW-Authenticate"]
    # HTTP Basic works too (no session is opened).
    basic = client.get(path, auth=(tenant.owner.email, PASSWORD))
    assert basic.status_code == 200 and basic.json()["model"]["id"] == tenant.owner.id


def test_patch_user_as_the_sdk_sends_it(client: TestClient, tenant: Tenant) -> None:
    owner = tenant.owner
    path = f"/api/users/{owner.id}"
    model = client.get(path, headers=owner.auth).json()["model"]
    body = _sdk_patch_body(
        model,
        given_name="Joe",
        family_name="Bloggs",
        telephone="+44 7700 900123",
        notification_new_features=["email", "sms"],
        # Read-only and hidden fields the SDK sends back are ignored, however they are changed.
        email="hijack@example.com",
        id="00000000-0000-4000-8000-000000000000",
        role=99,
        organisations=[{"id": "00000000-0000-4000-8000-000000000001", "last": True}],
    )
    response = client.patch(path, json=body, headers=owner.auth)
    assert response.status_code == 200, response.text
    changed = response.json()["model"]
    assert (changed["given_name"], changed["family_name"]) == ("Joe", "Bloggs")
    assert changed["telephone"] == "+44 7700 900123"
    assert changed["notification_new_features"] == ["email", "sms"]
    assert (changed["email"], changed["id"], changed["role"]) == (owner.email, owner.id, 0)
    assert changed["organisations"] == [{"id": tenant.id, "last": True}]
    assert changed["updated_at"] > model["updated_at"]
    reread = client.get(path, headers=owner.auth).json()["model"]
    assert {**reread, "last_request_at": None} == {**changed, "last_request_at": None}
    # The nested form, and lists sent as JSON text, work as well.
    nested = client.patch(
        path, json={"User": {"units": "imperial", "notification_account": '["sms"]'}}, headers=owner.auth
    )
    assert nested.status_code == 200, nested.text
    assert nested.json()["model"]["units"] == "imperial"
    assert nested.json()["model"]["notification_account"] == ["sms"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"User[units]": "furlongs"}, "units must be one of"),
        ({"User[time_zone]": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"User[time_zone]": "x" * 5000}, "unknown time zone"),
        ({"User[given_name]": "n" * 101}, "longer than 100"),
        ({"User[default_output_storage_period]": 0}, "default_output_storage_period"),
        ({"User[notification_account]": ["pigeon"]}, "unknown channel"),
        ({"User[notification_account]": "[oops"}, "must be a list"),
        ({"User[given_name]": ["Joe"]}, "single value"),
        ({"User[telephone]": "call me"}, "not a telephone number"),
    ],
)
def test_patch_user_refuses_bad_values(client: TestClient, tenant: Tenant, changes: dict, words: str) -> None:
    owner = tenant.owner
    response = client.patch(f"/api/users/{owner.id}", json=changes, headers=owner.auth)
    assert response.status_code == 400, response.text
    assert words in _error(response)


def test_change_password(client: TestClient, tenant: Tenant) -> None:
    owner = tenant.owner
    path = f"/api/users/{owner.id}/change_password"
    other_session = login(client, owner.email)["access_token"]
    new = "MyNewPassword123!"

    def change(old: Any, new_password: Any) -> Any:
        return client.post(
            path, json={"User": {"old_password": old, "new_password": new_password}}, headers=owner.auth
        )

    for old, new_password, words in (
        ("Not-The-Old-One1!", new, "old password is not correct"),
        (PASSWORD, "weakpassword", "too weak"),
        (None, new, "old password is required"),
        (PASSWORD, None, "new password is required"),
    ):
        response = change(old, new_password)
        assert response.status_code == 400, response.text
        assert words in _error(response)
    response = change(PASSWORD, new)
    assert response.status_code == 200, response.text
    assert UserSchema().load(response.json()["model"])["id"]
    failed = client.post("/api/users/login", json={"User": {"email": owner.email, "password": PASSWORD}})
    assert failed.status_code == 401
    assert login(client, owner.email, new)["access_token"]
    # The caller's session lives on; the user's other sessions end.
    assert client.get(f"/api/users/{owner.id}", headers=owner.auth).status_code == 200
    stale = client.get(f"/api/users/{owner.id}", headers={"Authorization": f"Bearer {other_session}"})
    assert stale.status_code == 401


def test_delete_user_answers_json_and_ends_the_account(
    client: TestClient, platform: Platform, tenant: Tenant
) -> None:
    viewer: Member = tenant.viewer
    response = client.delete(f"/api/users/{viewer.id}", headers=viewer.auth)
    assert response.status_code == 200, response.text
    assert response.json()["model"]["email"] == viewer.email
    assert client.get(f"/api/users/{viewer.id}", headers=viewer.auth).status_code == 401
    gone = client.post("/api/users/login", json={"User": {"email": viewer.email, "password": PASSWORD}})
    assert gone.status_code == 401
    members = client.get(f"/api/organisations/{tenant.id}", headers=tenant.owner.auth).json()["model"][
        "users"
    ]
    assert [m["email"] for m in members] == [tenant.owner.email]
