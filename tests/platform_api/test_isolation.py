"""Tenant isolation: another tenant's ids answer exactly like ids that do not exist.

Every route of the users, organisations and credits modules is walked with one tenant's token
against the other tenant's user and organisation ids (both ways), and with a random id; all
answer 404 with the same body (the id itself aside). Nothing of the target changes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from terrafuse.api.routes.platform import credits, organisations, users
from terrafuse.usecases.executions import Platform

from .conftest import PASSWORD, Member, Tenant, login

ROUTERS = (users.router, organisations.router, credits.router)
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/users/{user_id}"): {"User[given_name]": "Mallory", "User[time_zone]": "Europe/Paris"},
    ("POST", "/users/{user_id}/change_password"): {
        "User": {"old_password": PASSWORD, "new_password": "Mallory-Owns1!"}
    },
    ("PATCH", "/organisations/{organisation_id}"): {"Organisation[name]": "Pwned"},
}


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every route with an id in its path, from the routers themselves."""
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if "{" in route.path:
                found += [(method, route.path) for method in sorted(route.methods)]
    return found


def _call(client: TestClient, who: Member, method: str, template: str, ids: dict[str, str]) -> Any:
    path = "/api" + template.format(**ids)
    body = BODIES.get((method, template))
    return client.request(method, path, json=body, headers=who.auth)


def _normalised(response: Any, ids: dict[str, str]) -> tuple[int, str]:
    message = response.json()["error_message"]
    for value in ids.values():
        message = message.replace(value, "<id>")
    return response.status_code, message


def _snapshot(client: TestClient, tenant: Tenant) -> list[Any]:
    owner = tenant.owner
    return [
        client.get(path, headers=owner.auth).json()["model"]
        for path in (
            f"/api/organisations/{tenant.id}",
            f"/api/organisations/{tenant.id}/credits/{tenant.id}",
            f"/api/users/{owner.id}",
        )
    ]


def test_every_route_is_walked() -> None:
    walked = set(_routes())
    assert walked == {
        ("GET", "/users/{user_id}"),
        ("PATCH", "/users/{user_id}"),
        ("DELETE", "/users/{user_id}"),
        ("POST", "/users/{user_id}/change_password"),
        ("GET", "/organisations/{organisation_id}"),
        ("PATCH", "/organisations/{organisation_id}"),
        ("DELETE", "/organisations/{organisation_id}"),
        ("GET", "/organisations/{organisation_id}/credits/{credit_id}"),
    }


@pytest.mark.parametrize("direction", ["b-to-a", "a-to-b"])
def test_other_tenants_ids_answer_like_unknown_ones(
    client: TestClient, tenant: Tenant, other: Tenant, direction: str
) -> None:
    attacker, victim = (other, tenant) if direction == "b-to-a" else (tenant, other)
    before = _snapshot(client, victim)
    unknown = str(uuid.uuid4())
    targets = {
        "victim's ids": {"user_id": victim.owner.id, "organisation_id": victim.id, "credit_id": victim.id},
        "victim's viewer": {
            "user_id": victim.viewer.id,
            "organisation_id": victim.id,
            "credit_id": victim.id,
        },
        "unknown ids": {"user_id": unknown, "organisation_id": unknown, "credit_id": unknown},
    }
    # Credits of the attacker's own organisation named by the victim's id, and the other way round.
    mixed = {"organisation_id": attacker.id, "credit_id": victim.id}
    mixed_unknown = {"organisation_id": attacker.id, "credit_id": unknown}
    checked = 0
    for who in (attacker.owner, attacker.viewer):
        for method, template in _routes():
            answers = {}
            for name, ids in targets.items():
                response = _call(client, who, method, template, ids)
                assert response.status_code == 404, (who.email, method, template, name, response.text)
                answers[name] = _normalised(response, ids)
                checked += 1
            assert len(set(answers.values())) == 1, (method, template, answers)
        credit = "/organisations/{organisation_id}/credits/{credit_id}"
        assert _normalised(_call(client, who, "GET", credit, mixed), mixed) == _normalised(
            _call(client, who, "GET", credit, mixed_unknown), mixed_unknown
        )
    assert checked == 2 * 3 * len(_routes())
    # Nothing changed, and the victim's users still sign in with their own passwords.
    assert _snapshot(client, victim) == before
    assert login(client, victim.owner.email)["access_token"]
    assert login(client, victim.viewer.email)["access_token"]


def test_no_privilege_escalation(
    client: TestClient, platform: Platform, tenant: Tenant, other: Tenant
) -> None:
    viewer = tenant.viewer
    org_path = f"/api/organisations/{tenant.id}"
    for response in (
        client.patch(org_path, json={"Organisation[name]": "Mine now"}, headers=viewer.auth),
        client.delete(org_path, headers=viewer.auth),
    ):
        assert response.status_code == 403, response.text
    # A user cannot add organisations or a role to their own account.
    me = f"/api/users/{viewer.id}"
    response = client.patch(
        me,
        json={"User[organisations]": [{"id": other.id, "last": True}], "User[role]": 1},
        headers=viewer.auth,
    )
    assert response.status_code == 200
    assert response.json()["model"]["organisations"] == [{"id": tenant.id, "last": True}]
    assert response.json()["model"]["role"] == 0
    assert client.get(f"/api/organisations/{other.id}", headers=viewer.auth).status_code == 404
    # Members see each other in the organisation, but not each other's accounts.
    assert client.get(f"/api/users/{tenant.owner.id}", headers=viewer.auth).status_code == 404
    assert (
        client.get(org_path, headers=tenant.owner.auth).json()["model"]["name"] == f"Org {tenant.namespace}"
    )
