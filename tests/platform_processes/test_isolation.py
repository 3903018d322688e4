"""Tenant isolation of processes, executions and components: a member of another organisation
gets exactly what a missing id gets (404), through their own organisation's paths and through the
first organisation's; lists never show the first organisation's processes; and a member who may
only view reads but changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import ServerProcess

from .conftest import (
    CHEAP,
    ELEVATION,
    GLASGOW,
    MISSING_ID,
    PASSWORD,
    Api,
    admin,
    create_process,
    login,
    new_tenant,
    ok,
    process_body,
    refused,
    run_process,
    services_by_name,
    upload_region,
)

pytestmark = pytest.mark.e2e
EXPIRY = {"ProcessExecution": {"delete_expiry": "2031-01-01T00:00:00+00:00"}}

# (method, path under /organisations/{org}, body)
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/processes/{process}", None),
    ("PATCH", "/processes/{process}", {"Process[name]": "taken over"}),
    ("POST", "/processes/{process}/execute", None),
    ("POST", "/processes/{process}/stop", None),
    ("GET", "/processes/{process}/copy", None),
    ("GET", "/processes/{process}/executions", None),
    ("GET", "/process_executions/{execution}", None),
    ("PATCH", "/process_executions/{execution}", {"ProcessExecution[delete_expiry]": "2031-01-01T00:00:00Z"}),
    ("POST", "/process_executions/{execution}/change_delete_expiry", EXPIRY),
    ("GET", "/process_executions/{execution}/process_service_executions", None),
    ("GET", "/process_service_executions/{component}", None),
    ("GET", "/process_service_executions/{component}/logs", None),
    ("GET", "/data/{output}", None),
    ("GET", "/data/{output}/files", None),
    ("DELETE", "/process_executions/{execution}", None),
    ("DELETE", "/processes/{process}", None),
]


@pytest.fixture(scope="module")
def acme_run(me: Api) -> dict[str, Any]:
    """A finished Glasgow elevation run of 'acme': the ids the other organisation will try."""
    service_id = services_by_name(me)[ELEVATION]["id"]
    region = upload_region(me, "Glasgow", GLASGOW)
    process, (execution,) = run_process(me, "Acme secret elevation", service_id, region, CHEAP)
    components = me.items(f"/process_executions/{execution['id']}/process_service_executions")
    return {
        "process": process["id"],
        "execution": execution["id"],
        "component": components[-1]["id"],
        "output": components[-1]["outputs"][0],
        "region": region,
        "service": service_id,
        "snapshot": _snapshot(me, process["id"], execution["id"]),
    }


@pytest.fixture(scope="module")
def other(server: ServerProcess, acme_run: dict[str, Any]) -> Api:
    """A member (all privileges) of another organisation, with a process of its own."""
    api = new_tenant(server, "globex", credits="20")
    region = upload_region(api, "Their Glasgow", GLASGOW)
    create_process(api, "Globex elevation", acme_run["service"], region, CHEAP)
    return api


def _snapshot(api: Api, process_id: str, execution_id: str) -> dict[str, Any]:
    process = api.process(process_id)
    return {
        "name": process["name"],
        "status": process["process_status"],
        "executions": [e["process_execution_id"] for e in process["executions"]],
        "expiry": api.model(f"/process_executions/{execution_id}")["delete_expiry"],
    }


def _request(api: Api, org_id: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return api.raw.request(method, f"/organisations/{org_id}{path}", json=body)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_another_organisation_gets_what_a_missing_id_gets(
    me: Api, other: Api, acme_run: dict[str, Any], method: str, path: str, body: dict[str, Any] | None
) -> None:
    theirs = path.format(**{k: acme_run[k] for k in ("process", "execution", "component", "output")})
    missing = path.format(process=MISSING_ID, execution=MISSING_ID, component=MISSING_ID, output=MISSING_ID)
    # Through the other organisation's own paths: 404, word for word like a missing id.
    foreign = _request(other, other.org_id, method, theirs, body)
    absent = _request(other, other.org_id, method, missing, body)
    message = refused(foreign, 404)
    assert absent.status_code == 404
    for key in ("process", "execution", "component", "output"):
        message = message.replace(acme_run[key], MISSING_ID)
    assert message == absent.json()["error_message"]
    # Through acme's paths: acme itself does not exist for them.
    refused(_request(other, me.org_id, method, theirs, body), 404, "organisation")
    assert (
        _request(other, me.org_id, method, missing, body).json()
        == _request(other, me.org_id, method, theirs, body).json()
    )
    # And nothing changed for acme.
    assert _snapshot(me, acme_run["process"], acme_run["execution"]) == acme_run["snapshot"]


def test_lists_never_show_another_organisations_processes(
    me: Api, other: Api, acme_run: dict[str, Any]
) -> None:
    theirs = other.items("/processes")
    assert [p["name"] for p in theirs] == ["Globex elevation"]
    assert {p["organisation_id"] for p in theirs} == {other.org_id}
    assert other.items("/processes", **{"filter[id__eq]": acme_run["process"]}) == []
    assert other.items("/processes", search="acme secret") == []
    assert other.items("/processes", **{"filter[name__contains]": "Acme"}) == []
    assert acme_run["process"] in me.process_ids()
    # Acme's lists are out of reach altogether.
    for path in ("/processes", "/services/latest", "/processes/new"):
        refused(other.raw.get(f"/organisations/{me.org_id}{path}"), 404, "organisation")


def test_another_organisations_region_cannot_be_bound(other: Api, acme_run: dict[str, Any]) -> None:
    before = other.process_ids()
    body = process_body("Borrowed region", acme_run["service"], acme_run["region"], CHEAP)
    foreign = refused(other.post("/processes", json=body), 400, "no data item")
    body = process_body("Missing region", acme_run["service"], MISSING_ID, CHEAP)
    absent = refused(other.post("/processes", json=body), 400)
    assert foreign.replace(acme_run["region"], MISSING_ID) == absent
    assert other.process_ids() == before


def test_a_viewer_reads_but_changes_nothing(server: ServerProcess, me: Api, acme_run: dict[str, Any]) -> None:
    email = f"viewer-{acme_run['process'][:8]}@example.com"
    admin(server, "user", "create", "--email", email, "--password", PASSWORD)
    admin(server, "org", "add-member", "--org", "acme", "--email", email, "--privileges", "view")
    viewer = login(server, email, PASSWORD)
    assert viewer.org_id == me.org_id
    assert viewer.process(acme_run["process"])["name"] == acme_run["snapshot"]["name"]
    assert [e["id"] for e in viewer.executions(acme_run["process"])] == [acme_run["execution"]]
    ok(viewer.get(f"/process_service_executions/{acme_run['component']}/logs"))
    ok(viewer.get("/processes/new", params={"service_id": acme_run["service"]}))
    for method, path, body in ROUTES:
        if method == "GET":
            continue
        url = path.format(**{k: acme_run[k] for k in ("process", "execution", "component", "output")})
        refused(_request(viewer, me.org_id, method, url, body), 403, "privilege")
    body = process_body("Viewer's process", acme_run["service"], acme_run["region"], CHEAP)
    refused(viewer.post("/processes", json=body), 403, "privilege")
    assert _snapshot(me, acme_run["process"], acme_run["execution"]) == acme_run["snapshot"]
