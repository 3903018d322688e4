"""``GET /api/openapi.json``: a valid OpenAPI 3.1 document of the platform API that matches the wire."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from .conftest import PASSWORD, Tenant

OURS = {
    "/api/users/login": {"post"},
    "/api/users/{user_id}": {"get", "patch", "delete"},
    "/api/users/{user_id}/change_password": {"post"},
    "/api/organisations/{organisation_id}": {"get", "patch", "delete"},
    "/api/organisations/{organisation_id}/credits/{credit_id}": {"get"},
}
WITH_BODY = {
    ("/api/users/login", "post"),
    ("/api/users/{user_id}", "patch"),
    ("/api/users/{user_id}/change_password", "post"),
    ("/api/organisations/{organisation_id}", "patch"),
}


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def test_document_is_valid_and_lists_only_the_platform_api(doc: dict[str, Any]) -> None:
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.1")
    assert all(path.startswith("/api/") for path in doc["paths"]), list(doc["paths"])
    for path, methods in OURS.items():
        assert set(doc["paths"][path]) >= methods, path
    assert "/api/openapi.json" not in doc["paths"]


def test_every_operation_declares_its_body_errors_and_security(doc: dict[str, Any]) -> None:
    for path, methods in OURS.items():
        for method in methods:
            operation = doc["paths"][path][method]
            responses = operation["responses"]
            assert "422" not in responses  # validation errors answer 400
            assert ("200" in responses and "404" in responses) or path == "/api/users/login"
            for status, response in responses.items():
                schema = response["content"]["application/json"]["schema"]
                if status != "200":
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
            assert ((path, method) in WITH_BODY) == ("requestBody" in operation), (path, method)
            if path != "/api/users/login":
                assert "401" in responses and operation["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    patch = doc["paths"]["/api/organisations/{organisation_id}"]["patch"]
    assert "403" in patch["responses"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert "Organisation[name]" in body["properties"] and "Organisation" in body["properties"]


def _check(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    """The reply matches the schema the document declares for its status."""
    declared = doc["paths"][path][method]["responses"][str(response.status_code)]
    schema = {**declared["content"]["application/json"]["schema"], "components": doc["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
    assert not errors, (path, method, response.status_code, [e.message for e in errors])


def test_replies_match_the_declared_schemas(client: TestClient, doc: dict[str, Any], tenant: Tenant) -> None:
    owner, viewer = tenant.owner, tenant.viewer
    user, org = f"/api/users/{owner.id}", f"/api/organisations/{tenant.id}"
    credit = f"{org}/credits/{tenant.id}"
    calls = [
        (
            "/api/users/login",
            "post",
            "/api/users/login",
            {"User": {"email": owner.email, "password": PASSWORD}},
            None,
        ),
        (
            "/api/users/login",
            "post",
            "/api/users/login",
            {"User": {"email": owner.email, "password": "x"}},
            None,
        ),
        ("/api/users/login", "post", "/api/users/login", {"User": {}}, None),
        ("/api/users/{user_id}", "get", user, None, owner),
        ("/api/users/{user_id}", "get", user, None, None),
        ("/api/users/{user_id}", "get", user, None, viewer),
        ("/api/users/{user_id}", "patch", user, {"User[given_name]": "Joe"}, owner),
        ("/api/users/{user_id}", "patch", user, {"User[units]": "cubits"}, owner),
        (
            "/api/users/{user_id}/change_password",
            "post",
            f"{user}/change_password",
            {"User": {"old_password": "nope", "new_password": "Another-One2!"}},
            owner,
        ),
        ("/api/organisations/{organisation_id}", "get", org, None, viewer),
        ("/api/organisations/{organisation_id}", "patch", org, {"Organisation[name]": "Renamed"}, owner),
        ("/api/organisations/{organisation_id}", "patch", org, {"Organisation[name]": "Renamed"}, viewer),
        ("/api/organisations/{organisation_id}/credits/{credit_id}", "get", credit, None, viewer),
        ("/api/organisations/{organisation_id}/credits/{credit_id}", "get", f"{org}/credits/x", None, owner),
        ("/api/users/{user_id}", "delete", f"/api/users/{viewer.id}", None, viewer),
        ("/api/organisations/{organisation_id}", "delete", org, None, owner),
    ]
    statuses = set()
    for template, method, path, body, who in calls:
        response = client.request(method.upper(), path, json=body, headers=who.auth if who else {})
        _check(doc, template, method, response)
        statuses.add(response.status_code)
    assert statuses == {200, 400, 401, 403, 404}
