"""``/api/organisations`` and their credits (in-process, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from fusion_platform.models.credit import CreditSchema
from fusion_platform.models.organisation import OrganisationSchema

from terrafuse.core.credits import EntryKind
from terrafuse.usecases.executions import Platform

from .conftest import Tenant


def _error(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error_message"}, body
    return body["error_message"]


def _sdk_patch_body(model: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {f"Organisation[{key}]": value for key, value in {**model, **changes}.items()}


def test_get_organisation_has_every_field_the_sdk_requires(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"/api/organisations/{tenant.id}", headers=tenant.viewer.auth)
    assert response.status_code == 200, response.text
    model = response.json()["model"]
    loaded = OrganisationSchema().load(model)
    assert str(loaded["id"]) == tenant.id and loaded["name"] == f"Org {tenant.namespace}"
    assert loaded["address_country"] == "GB" and model["namespace"] == tenant.namespace
    assert {u["email"]: u["roles"] for u in model["users"]} == {
        tenant.owner.email: ["view", "execute", "manage"],
        tenant.viewer.email: ["view"],
    }
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(model[stamp]).utcoffset() is not None


def test_patch_organisation_as_the_sdk_sends_it(client: TestClient, tenant: Tenant) -> None:
    path = f"/api/organisations/{tenant.id}"
    model = client.get(path, headers=tenant.owner.auth).json()["model"]
    body = _sdk_patch_body(
        model,
        name="My Organisation",
        address_line_1="1 High Street",
        address_line_2=None,
        address_town_city="Glasgow",
        # Read-only fields are ignored: membership is not changed through the organisation.
        users=[{"id": tenant.owner.id, "email": tenant.owner.email, "roles": ["view"]}],
        namespace="stolen",
        maximum_output_storage_period=1,
        income_tax_rate=Decimal("20.5"),
    )
    response = client.patch(path, content=json.dumps(body, default=str), headers=tenant.owner.auth)
    assert response.status_code == 200, response.text
    changed = response.json()["model"]
    assert (changed["name"], changed["address_line_1"], changed["address_town_city"]) == (
        "My Organisation",
        "1 High Street",
        "Glasgow",
    )
    assert changed["namespace"] == tenant.namespace and changed["maximum_output_storage_period"] is None
    assert changed["users"] == model["users"] and changed["updated_at"] >= model["updated_at"]
    assert client.get(path, headers=tenant.viewer.auth).json()["model"]["name"] == "My Organisation"
    for bad, words in (
        ({"Organisation[name]": "  "}, "non-empty"),
        ({"Organisation[address_line_1]": 7}, "text"),
    ):
        refused = client.patch(path, json=bad, headers=tenant.owner.auth)
        assert refused.status_code == 400 and words in _error(refused)


def test_members_without_manage_cannot_change_or_delete(client: TestClient, tenant: Tenant) -> None:
    path = f"/api/organisations/{tenant.id}"
    before = client.get(path, headers=tenant.owner.auth).json()["model"]
    for response in (
        client.patch(path, json={"Organisation[name]": "Taken over"}, headers=tenant.viewer.auth),
        client.delete(path, headers=tenant.viewer.auth),
    ):
        assert response.status_code == 403, response.text
        assert "manage" in _error(response)
    assert client.get(path, headers=tenant.owner.auth).json()["model"] == before


def test_delete_organisation(client: TestClient, tenant: Tenant) -> None:
    path = f"/api/organisations/{tenant.id}"
    response = client.delete(path, headers=tenant.owner.auth)
    assert response.status_code == 200, response.text
    assert response.json()["model"]["id"] == tenant.id
    for gone in (path, f"{path}/credits/{tenant.id}"):
        assert client.get(gone, headers=tenant.owner.auth).status_code == 404
    me = client.get(f"/api/users/{tenant.owner.id}", headers=tenant.owner.auth).json()["model"]
    assert me["organisations"] == []


def test_credits(client: TestClient, platform: Platform, tenant: Tenant) -> None:
    path = f"/api/organisations/{tenant.id}/credits/{tenant.id}"
    response = client.get(path, headers=tenant.viewer.auth)  # any member may read them
    assert response.status_code == 200, response.text
    assert '"any_credits":250.000000' in response.text  # an exact decimal, not a float
    loaded = CreditSchema().load(response.json()["model"])
    assert str(loaded["id"]) == str(loaded["organisation_id"]) == tenant.id
    assert loaded["any_credits"] == Decimal(250) and loaded["spend"] == []
    assert loaded["cloud_storage_credits"] == loaded["runtime_any_credits"] == Decimal(0)

    platform.rt.credits.add(tenant.id, EntryKind.STORAGE_CHARGE, "0.125", reference="storage:test")
    platform.rt.credits.reserve(tenant.id, "10", reference="execution:test")
    model = client.get(path, headers=tenant.owner.auth).json()["model"]
    assert Decimal(str(model["any_credits"])) == Decimal("239.875")
    assert Decimal(str(model["reserved"])) == Decimal(10)
    this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert [(datetime.fromisoformat(s["month"]), Decimal(str(s["credits"]))) for s in model["spend"]] == [
        (this_month, Decimal("0.125"))
    ]
    CreditSchema().load(model)
    # The credit record's id is the organisation's id; nothing else names it.
    wrong = client.get(f"/api/organisations/{tenant.id}/credits/{tenant.owner.id}", headers=tenant.owner.auth)
    assert wrong.status_code == 404 and "credit" in _error(wrong)
