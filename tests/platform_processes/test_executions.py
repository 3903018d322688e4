"""Running processes: executions, groups, components, logs, deletion times, credits (402), stop,
deletion of executions and processes with their outputs. One real server with one Dask worker."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import fusion_platform
import httpx
import pytest
from fusion_platform.models.process import ProcessSchema
from fusion_platform.models.process_execution import ProcessExecutionSchema
from fusion_platform.models.process_service_execution import ProcessServiceExecutionSchema
from fusion_platform.models.process_service_execution_log import ProcessServiceExecutionLogSchema

from tests.support.server import ServerProcess

from .conftest import (
    CHEAP,
    CLOUDS,
    CLOUDS_V1,
    ELEVATION,
    GLASGOW,
    LAKE_DISTRICT,
    Api,
    create_process,
    decimal,
    new_tenant,
    ok,
    refused,
    run_process,
    sdk_organisation,
    services_by_name,
    upload_region,
    wait_finished,
    wait_for,
)

pytestmark = pytest.mark.e2e
SLICE_COMPONENTS = ["Sentinel-2 Ingestion", "Sentinel-2 Cloud Classification"]


@pytest.fixture(scope="module")
def ids(me: Api) -> dict[str, str]:
    return {name: s["id"] for name, s in services_by_name(me).items()}


@pytest.fixture(scope="module")
def glasgow(me: Api) -> str:
    return upload_region(me, "Glasgow", GLASGOW)


@pytest.fixture(scope="module")
def lake(me: Api) -> str:
    return upload_region(me, "Lake District", LAKE_DISTRICT)


@pytest.fixture(scope="module")
def group_run(me: Api, ids: dict[str, str], lake: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished cloud classification of the Lake District: a group of slices plus an aggregator."""
    return run_process(me, "Lake clouds", ids[CLOUDS], lake, CHEAP)


@pytest.fixture(scope="module")
def twice(me: Api, ids: dict[str, str], glasgow: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Glasgow elevation process executed twice (one finished run after the other)."""
    process = create_process(me, "Glasgow twice", ids[ELEVATION], glasgow, CHEAP)
    for _ in range(2):
        ok(me.post(f"/processes/{process['id']}/execute"))
        wait_finished(me, process["id"])
    return me.process(process["id"]), me.executions(process["id"])


def _group(me: Api, process_id: str, group_id: str) -> list[dict[str, Any]]:
    return me.executions(process_id, **{"filter[group_id__eq]": group_id})


def _outputs(me: Api, execution_id: str) -> list[str]:
    components = me.items(f"/process_executions/{execution_id}/process_service_executions")
    return [data_id for c in components for data_id in c["outputs"]]


# -- groups, ordering, components, logs --------------------------------------------------------------
def test_a_sliced_run_is_one_group_with_an_aggregator(
    me: Api, group_run: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    process, executions = group_run
    assert all(e["success"] and e["progress"] == 100 for e in executions), executions
    (group_id,) = {e["group_id"] for e in executions}
    count = executions[0]["group_count"]
    assert group_id and count >= 3 and len(executions) == count
    members = _group(me, process["id"], group_id)
    assert sorted(e["id"] for e in members) == sorted(e["id"] for e in executions)
    assert sorted(e["group_index"] for e in members) == list(range(count))
    assert {e["group_count"] for e in members} == {count}
    (aggregator,) = [e for e in members if e["aggregator"]]
    assert aggregator["group_index"] == count - 1
    # The price is shared between the members.
    assert sum(decimal(e["price"]) for e in members) == decimal(process["price"])
    # The process embeds the statuses the SDK polls.
    assert process["has_executions"] == "true" and process["process_status"] == "stop"
    assert process["non_aggregator_count"] == count - 1 and process["aggregator_count"] == 1
    assert sorted(e["process_execution_id"] for e in process["executions"]) == sorted(
        e["id"] for e in members
    )
    assert {e["job_status"] for e in process["executions"]} == {"successful"}
    # Another group id (or another process's) selects nothing here.
    assert _group(me, process["id"], "00000000-0000-4000-8000-000000000000") == []


def test_wire_models_load_with_the_sdk_schemas(
    me: Api, group_run: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    process, executions = group_run
    ProcessSchema().load(process)
    for execution in executions:
        loaded = ProcessExecutionSchema().load(execution)
        assert loaded["started_at"].tzinfo is not None and loaded["delete_expiry"].tzinfo is not None
        assert me.model(f"/process_executions/{execution['id']}") == execution
        for component in me.items(f"/process_executions/{execution['id']}/process_service_executions"):
            ProcessServiceExecutionSchema().load(component)
            for line in me.items(f"/process_service_executions/{component['id']}/logs"):
                ProcessServiceExecutionLogSchema().load(line)


def test_executions_are_listed_newest_first_with_reverse(
    me: Api, twice: tuple[dict[str, Any], list[dict[str, Any]]], server: ServerProcess
) -> None:
    process, _ = twice
    oldest_first = me.executions(process["id"], reverse="False")
    newest_first = me.executions(process["id"], reverse="True")
    assert len(oldest_first) == 2
    starts = [datetime.fromisoformat(e["started_at"]) for e in oldest_first]
    assert starts[0] < starts[1]
    assert [e["id"] for e in newest_first] == [e["id"] for e in reversed(oldest_first)]
    assert [e["process_execution_id"] for e in process["executions"]] == [e["id"] for e in newest_first]
    # Paging one by one gives the same order.
    first = ok(me.get(f"/processes/{process['id']}/executions", params={"limit": 1, "reverse": "True"}))
    cursor = {f"last[{k}]": v for k, v in first["last"].items()}
    second = ok(
        me.get(f"/processes/{process['id']}/executions", params={"limit": 1, "reverse": "True", **cursor})
    )
    assert [e["id"] for e in first["list"] + second["list"]] == [e["id"] for e in newest_first]
    # The SDK's Process.executions is newest first too.
    organisation = sdk_organisation(server)
    found, _ = organisation.find_processes(id=process["id"])
    assert [str(e.id) for e in found.executions] == [e["id"] for e in newest_first]


def test_components_are_in_chain_order_with_names_inputs_and_outputs(
    me: Api, lake: str, group_run: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    process, executions = group_run
    for execution in executions:
        components = me.items(f"/process_executions/{execution['id']}/process_service_executions")
        names = [c["name"] for c in components]
        assert [c["chain_index"] for c in components] == list(range(len(components)))
        assert {c["process_execution_id"] for c in components} == {execution["id"]}
        assert {c["process_id"] for c in components} == {process["id"]}
        assert all(c["success"] and c["ended_at"] and c["outputs"] for c in components)
        assert all(c["runtime"] >= 0 and c["cpu"] >= 0 and c["memory"] > 0 for c in components)
        one_by_one = [
            ok(
                me.get(
                    f"/process_executions/{execution['id']}/process_service_executions", params={"limit": 1}
                )
            )
        ]
        while one_by_one[-1]["last"]:
            cursor = {f"last[{k}]": v for k, v in one_by_one[-1]["last"].items()}
            path = f"/process_executions/{execution['id']}/process_service_executions"
            one_by_one.append(ok(me.get(path, params={"limit": 1, **cursor})))
        assert [c["id"] for page in one_by_one for c in page["list"]] == [c["id"] for c in components]
        if execution["aggregator"]:
            assert names == ["Statistics Aggregator"]
            (table,) = me.items(f"/data/{components[0]['outputs'][0]}/files")
            assert table["file_type"] == "CSV"
            continue
        assert names == SLICE_COMPONENTS
        ingestion, algorithm = components
        assert lake in ingestion["inputs"]
        assert set(ingestion["outputs"]) <= set(algorithm["inputs"])
        (product,) = algorithm["outputs"]
        assert me.model(f"/data/{product}")["id"] == product
        (tif,) = me.items(f"/data/{product}/files")
        assert tif["file_type"] == "GeoTIFF" and tif["publishable"] is True
        assert len(tif["selectors"][0]["histogram"]) == 10
        # GET of one component answers the listed record.
        assert me.model(f"/process_service_executions/{algorithm['id']}") == algorithm


def test_component_logs(
    me: Api, server: ServerProcess, group_run: tuple[dict[str, Any], list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, executions = group_run
    execution = next(e for e in executions if not e["aggregator"])
    components = me.items(f"/process_executions/{execution['id']}/process_service_executions")
    algorithm = components[1]
    lines = me.items(f"/process_service_executions/{algorithm['id']}/logs")
    assert lines and any("classified" in line["message"] for line in lines), lines
    assert {line["process_service_execution_id"] for line in lines} == {algorithm["id"]}
    newest_first = me.items(f"/process_service_executions/{algorithm['id']}/logs", reverse="True")
    assert [line["id"] for line in newest_first] == [line["id"] for line in reversed(lines)]
    # The SDK writes them to a CSV file.
    organisation = sdk_organisation(server)
    process, _ = organisation.find_processes(id=execution["process_id"])
    sdk_execution = next(e for e in process.executions if str(e.id) == execution["id"])
    sdk_components = list(sdk_execution.components)
    assert [c.name for c in sdk_components] == SLICE_COMPONENTS
    path = tmp_path / "log.csv"
    sdk_components[1].download_log_file(str(path))
    # The SDK writes ``logged_at,message`` lines without quoting (messages may hold commas).
    header, *rows = path.read_text().splitlines()
    assert header.split(",") == ["logged_at", "message"]
    assert [row.split(",", 1)[1] for row in rows] == [line["message"] for line in newest_first]


def test_the_process_records_who_executed_and_stopped_it(
    me: Api, twice: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    process, executions = twice
    assert process["process_status_changed_by"] == me.user_id
    # Outputs are kept for the process's storage period from the firing.
    for execution in executions:
        kept = datetime.fromisoformat(execution["delete_expiry"]) - datetime.fromisoformat(
            execution["started_at"]
        )
        assert kept == timedelta(days=process["output_storage_period"])
    stopped = ok(me.post(f"/processes/{process['id']}/stop"))["model"]
    assert stopped["process_status"] == "stop" and stopped["process_status_changed_by"] == me.user_id


def test_sdk_renames_a_run_once_process_after_it_ran(
    server: ServerProcess, me: Api, twice: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    process, executions = twice
    organisation = sdk_organisation(server)
    found, _ = organisation.find_processes(id=process["id"])
    found.update(name="Glasgow twice, renamed")
    assert me.process(process["id"])["name"] == "Glasgow twice, renamed"
    assert [e["id"] for e in me.executions(process["id"])] == [e["id"] for e in executions]


# -- deletion times ------------------------------------------------------------------------------------
def _expiries(me: Api, process_id: str, group_id: str) -> set[datetime]:
    return {datetime.fromisoformat(e["delete_expiry"]) for e in _group(me, process_id, group_id)}


def test_change_delete_expiry_moves_the_whole_group(
    me: Api, server: ServerProcess, group_run: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    process, executions = group_run
    group_id = executions[0]["group_id"]
    slice_ = next(e for e in executions if not e["aggregator"])
    in_three_days = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    body = {"ProcessExecution": {"delete_expiry": in_three_days.isoformat()}}
    reply = ok(me.post(f"/process_executions/{slice_['id']}/change_delete_expiry", json=body))
    assert datetime.fromisoformat(reply["model"]["delete_expiry"]) == in_three_days
    assert _expiries(me, process["id"], group_id) == {in_three_days}  # the aggregator too
    embedded = me.process(process["id"])["executions"]
    assert {datetime.fromisoformat(e["delete_expiry"]) for e in embedded} == {in_three_days}
    # The 1.1 SDK's way: PATCH with a flat body, from the aggregator this time.
    in_five_days = in_three_days + timedelta(days=2)
    aggregator = next(e for e in executions if e["aggregator"])
    body = {"ProcessExecution[delete_expiry]": in_five_days.isoformat(), "ProcessExecution[success]": False}
    reply = ok(me.patch(f"/process_executions/{aggregator['id']}", json=body))
    assert datetime.fromisoformat(reply["model"]["delete_expiry"]) == in_five_days
    assert reply["model"]["success"] is True  # read-only fields are ignored
    assert _expiries(me, process["id"], group_id) == {in_five_days}
    # The 2.x SDK's way.
    organisation = sdk_organisation(server)
    found, _ = organisation.find_processes(id=process["id"])
    sdk_execution = next(e for e in found.executions if str(e.id) == slice_["id"])
    in_a_week = in_three_days + timedelta(days=4)
    sdk_execution.change_delete_expiry(in_a_week)
    assert _expiries(me, process["id"], group_id) == {in_a_week}


@pytest.mark.parametrize(
    ("how", "value", "words"),
    [
        ("post", (datetime.now(UTC) - timedelta(hours=1)).isoformat(), ("future",)),
        ("patch", (datetime.now(UTC) - timedelta(days=1)).isoformat(), ("future",)),
        ("post", "tomorrow-ish", ("delete_expiry",)),
        ("post", None, ("delete_expiry",)),
    ],
)
def test_bad_delete_expiry_is_400_and_changes_nothing(
    me: Api, twice: tuple[dict[str, Any], list[dict[str, Any]]], how: str, value: Any, words: tuple[str, ...]
) -> None:
    process, executions = twice
    execution = executions[0]
    before = me.model(f"/process_executions/{execution['id']}")["delete_expiry"]
    if how == "post":
        body = {"ProcessExecution": {} if value is None else {"delete_expiry": value}}
        response = me.post(f"/process_executions/{execution['id']}/change_delete_expiry", json=body)
    else:
        response = me.patch(
            f"/process_executions/{execution['id']}", json={"ProcessExecution[delete_expiry]": value}
        )
    refused(response, 400, *words)
    assert me.model(f"/process_executions/{execution['id']}")["delete_expiry"] == before
    assert process["id"] == execution["process_id"]


# -- credits --------------------------------------------------------------------------------------------
def test_execute_without_enough_credits_is_402(server: ServerProcess, ids: dict[str, str]) -> None:
    poor = new_tenant(server, "poor", credits="0.5")
    region = upload_region(poor, "Glasgow", GLASGOW)
    process = create_process(poor, "Too dear", ids[ELEVATION], region, CHEAP)
    assert decimal(process["price"]) > Decimal("0.5")
    refused(poor.post(f"/processes/{process['id']}/execute"), 402, "credits")
    assert poor.executions(process["id"]) == []
    after = poor.process(process["id"])
    assert (
        after["process_status"] == "stop" and after["has_executions"] == "false" and after["executions"] == []
    )
    balance = poor.credits()
    assert decimal(balance["any_credits"]) == Decimal("0.5") and decimal(balance["reserved"]) == 0
    # The SDK sees the same refusal.
    organisation = sdk_organisation(server, poor.email, "Correct-Horse1!")
    found, _ = organisation.find_processes(id=process["id"])
    with pytest.raises(fusion_platform.session.RequestError, match="credits"):
        found.execute()


def test_a_group_is_paid_for_whole_or_not_at_all(server: ServerProcess, ids: dict[str, str]) -> None:
    """Credits for two slices but not for the whole group: 402, and no slice reserved or created."""
    short = new_tenant(server, "short", credits="5")
    lake = upload_region(short, "Lake District", LAKE_DISTRICT)
    process = create_process(short, "Half paid", ids[CLOUDS], lake, CHEAP)
    share = decimal(process["price"]) / (process["slices"] + 1)  # the slices and the aggregator
    assert decimal(process["price"]) > 5 > 2 * share
    refused(short.post(f"/processes/{process['id']}/execute"), 402, "credits")
    assert short.executions(process["id"]) == [] and short.process(process["id"])["process_status"] == "stop"
    balance = short.credits()
    assert decimal(balance["any_credits"]) == 5 and decimal(balance["reserved"]) == 0


def test_concurrent_executes_fire_once(me: Api, ids: dict[str, str], glasgow: str) -> None:
    """Several execute requests at the same moment: one run, paid once; the others are refused."""
    process = create_process(me, "Clicked six times", ids[ELEVATION], glasgow, CHEAP)
    before = decimal(me.credits()["any_credits"])
    barrier = threading.Barrier(6)

    def execute() -> int:
        with httpx.Client(base_url=me.raw.base_url, headers=me.raw.headers, timeout=60) as client:
            barrier.wait()
            return client.post(f"/organisations/{me.org_id}/processes/{process['id']}/execute").status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(lambda _: execute(), range(6)))
    executions = wait_finished(me, process["id"])
    charged = before - decimal(me.credits()["any_credits"])
    assert (codes, len(executions), charged) == ([200] + [409] * 5, 1, decimal(process["price"]))


def test_a_successful_run_charges_its_price(me: Api, ids: dict[str, str], glasgow: str) -> None:
    before = me.credits()
    process, executions = run_process(me, "Charged", ids[ELEVATION], glasgow, CHEAP)
    after = me.credits()
    assert decimal(before["any_credits"]) - decimal(after["any_credits"]) == decimal(process["price"])
    assert decimal(after["reserved"]) == 0
    spent = sum(decimal(s["credits"]) for s in after["spend"]) - sum(
        decimal(s["credits"]) for s in before["spend"]
    )
    assert spent == decimal(process["price"])
    assert len(executions) == 1 and executions[0]["group_id"] is None and executions[0]["success"]


# -- stop ------------------------------------------------------------------------------------------------
def test_stop_right_after_execute_aborts_the_group(me: Api, ids: dict[str, str], lake: str) -> None:
    before = me.credits()
    process = create_process(me, "Stopped clouds", ids[CLOUDS_V1], lake)  # 20 m: slower slices
    pid, price = process["id"], decimal(process["price"])
    started = ok(me.post(f"/processes/{pid}/execute"))["model"]
    assert started["process_status"] == "execute"
    count = started["executions"][0]["group_count"]
    assert len(started["executions"]) == count >= 3
    refused(me.post(f"/processes/{pid}/execute"), 409, "already executing")
    refused(me.patch(f"/processes/{pid}", json={"Process[output_storage_period]": 9}), 409, "executing")
    # The aggregator waits for every slice: it is certainly still pending, so it cannot be deleted.
    aggregator = next(e for e in me.executions(pid) if e["aggregator"])
    refused(me.delete(f"/process_executions/{aggregator['id']}"), 409, "running")
    held = me.credits()
    assert decimal(held["reserved"]) == price
    assert decimal(before["any_credits"]) - decimal(held["any_credits"]) == price

    stopped = ok(me.post(f"/processes/{pid}/stop"))["model"]
    assert stopped["process_status"] == "stop"
    executions = wait_finished(me, pid, timeout=60)
    assert len(executions) == count and all(e["progress"] == 100 for e in executions)
    halted = [e for e in executions if not e["success"]]
    # One worker: at most the slice it was running when the stop came can have finished.
    assert len(halted) >= count - 2, [(e["group_index"], e["status"]) for e in executions]
    assert any(e["aggregator"] for e in halted)
    for e in halted:
        assert e["stopped"] is True and e["success"] is False and e["exit_type"] == "stopped", e
        assert e["abort"] is True and e["abort_reason"]
    assert {e["job_status"] for e in me.process(pid)["executions"] if e["job_status"] != "successful"} == {
        "dismissed"
    }
    after = me.credits()
    charged = decimal(before["any_credits"]) - decimal(after["any_credits"])
    succeeded = sum(decimal(e["price"]) for e in executions if e["success"])
    assert succeeded <= charged <= price, (succeeded, charged, price)
    assert decimal(after["reserved"]) == 0
    spent = sum(decimal(s["credits"]) for s in after["spend"]) - sum(
        decimal(s["credits"]) for s in before["spend"]
    )
    assert spent == charged
    # The worker that was interrupted does not bring anything back to life.
    wait_for(lambda: me.credits()["reserved"] == 0, 5, "no reservation")
    assert [(e["id"], e["success"]) for e in me.executions(pid)] == [
        (e["id"], e["success"]) for e in executions
    ]
    assert decimal(me.credits()["any_credits"]) == decimal(after["any_credits"])


# -- deletion ------------------------------------------------------------------------------------------------
def test_deleting_a_finished_execution_removes_it_and_its_outputs(
    me: Api, ids: dict[str, str], glasgow: str
) -> None:
    process = create_process(me, "Delete one execution", ids[ELEVATION], glasgow, CHEAP)
    for _ in range(2):
        ok(me.post(f"/processes/{process['id']}/execute"))
        wait_finished(me, process["id"])
    old, new = me.executions(process["id"], reverse="False")
    outputs = _outputs(me, old["id"])
    assert outputs and all(ok(me.get(f"/data/{d}"))["model"]["id"] == d for d in outputs)
    reply = ok(me.delete(f"/process_executions/{old['id']}"))
    assert reply["model"]["id"] == old["id"]
    refused(me.get(f"/process_executions/{old['id']}"), 404, old["id"])
    refused(me.get(f"/process_executions/{old['id']}/process_service_executions"), 404)
    for data_id in outputs:
        refused(me.get(f"/data/{data_id}"), 404)
    assert [e["id"] for e in me.executions(process["id"])] == [new["id"]]
    assert [e["process_execution_id"] for e in me.process(process["id"])["executions"]] == [new["id"]]
    assert all(ok(me.get(f"/data/{d}"))["model"] for d in _outputs(me, new["id"]))
    refused(me.delete(f"/process_executions/{old['id']}"), 404)


def test_deleting_a_process_removes_its_executions_and_outputs_but_not_its_region(
    me: Api, ids: dict[str, str], group_run: tuple[dict[str, Any], list[dict[str, Any]]], lake: str
) -> None:
    process, executions = group_run
    components = {
        e["id"]: me.items(f"/process_executions/{e['id']}/process_service_executions") for e in executions
    }
    outputs = [d for cs in components.values() for c in cs for d in c["outputs"]]
    assert len(outputs) >= len(executions)
    reply = ok(me.delete(f"/processes/{process['id']}"))
    assert reply["model"]["id"] == process["id"]
    refused(me.get(f"/processes/{process['id']}"), 404)
    refused(me.get(f"/processes/{process['id']}/executions"), 404)
    for execution in executions:
        refused(me.get(f"/process_executions/{execution['id']}"), 404)
        for component in components[execution["id"]]:
            refused(me.get(f"/process_service_executions/{component['id']}"), 404)
    for data_id in outputs:
        refused(me.get(f"/data/{data_id}"), 404)
    assert process["id"] not in me.process_ids()
    assert me.model(f"/data/{lake}")["id"] == lake
    assert [f["file_type"] for f in me.items(f"/data/{lake}/files")] == ["GeoJSON"]


def test_data_bound_to_a_process_cannot_be_deleted_until_the_process_is(me: Api, ids: dict[str, str]) -> None:
    region = upload_region(me, "Bound region", GLASGOW)
    process = create_process(me, "Binds a region", ids[ELEVATION], region, CHEAP)
    assert me.model(f"/data/{region}")["deletable"] == "false"
    refused(me.delete(f"/data/{region}"), 409)
    assert me.model(f"/data/{region}")["id"] == region
    ok(me.delete(f"/processes/{process['id']}"))
    assert me.model(f"/data/{region}")["deletable"] == "true"
    assert ok(me.delete(f"/data/{region}"))["model"]["id"] == region
    refused(me.get(f"/data/{region}"), 404)


def test_sdk_runs_and_deletes_a_process(server: ServerProcess, glasgow: str, me: Api) -> None:
    organisation = sdk_organisation(server)
    region, _ = organisation.find_data(id=glasgow)
    service, _ = organisation.find_services(keyword="Elevation")
    process = organisation.new_process(name="SDK run", service=service)
    process.update(input_number=1, data=region)
    process.update(option_name="resolution", value=120.0)
    process.create()
    process.execute(wait=True)
    (execution,) = list(process.executions)
    assert execution.success and execution.progress == 100
    components = list(execution.components)
    assert [c.name for c in components] == ["DEM Ingestion", "Elevation"]
    outputs = [str(d.id) for c in components for d in c.outputs]
    assert outputs
    process.delete()
    refused(me.get(f"/processes/{process.id}"), 404)
    for data_id in outputs:
        refused(me.get(f"/data/{data_id}"), 404)
    assert me.model(f"/data/{glasgow}")["id"] == glasgow


# -- OGC jobs are executions -------------------------------------------------------------------------
def _ogc_execute(
    server: ServerProcess, token: str, namespace: str, process: str, inputs: dict[str, Any]
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/{namespace}/ogc-api/processes/{process}/execution",
        json={"inputs": inputs},
        headers={"Authorization": f"Bearer {token}", "Prefer": "respond-async"},
        timeout=60,
    )


def _ogc_job(server: ServerProcess, token: str, namespace: str, job_id: str) -> dict[str, Any]:
    reply = httpx.get(
        f"{server.url}/{namespace}/ogc-api/jobs/{job_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _glasgow_geometry() -> dict[str, Any]:
    return json.loads(GLASGOW.read_text())["features"][0]["geometry"]


def test_an_ogc_job_is_an_execution_of_a_process_in_the_organisation(me: Api, server: ServerProcess) -> None:
    """Issue 4, scope 6: an OGC execute by a member creates a run-once process in the
    organisation, charges its price, and its job id is the execution id; both APIs agree."""
    before = me.credits()
    response = _ogc_execute(
        server, me.token, "acme", "elevation", {"region": _glasgow_geometry(), "resolution": 120}
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]

    def finished() -> dict[str, Any] | None:
        job = _ogc_job(server, me.token, "acme", job_id)
        return job if job["status"] in ("successful", "failed", "dismissed") else None

    job = wait_for(finished, 60, "the OGC job")
    assert job["status"] == "successful" and job["progress"] == 100
    execution = me.model(f"/process_executions/{job_id}")
    assert execution["success"] is True and execution["progress"] == 100
    process = me.process(execution["process_id"])
    assert process["run_type"] == "run_once" and process["origin"] == "ogc"
    assert process["process_status"] == "stop" and [
        e["process_execution_id"] for e in process["executions"]
    ] == [job_id]
    assert process["service_key"] == "elevation" and decimal(process["price"]) > 0
    assert decimal(execution["price"]) == decimal(process["price"])
    after = me.credits()
    assert decimal(before["any_credits"]) - decimal(after["any_credits"]) == decimal(process["price"])
    assert decimal(after["reserved"]) == 0
    # The job's results are the execution's output data items.
    results = httpx.get(
        f"{server.url}/acme/ogc-api/jobs/{job_id}/results",
        headers={"Authorization": f"Bearer {me.token}"},
        timeout=30,
    )
    assert results.status_code == 200, results.text
    components = me.items(f"/process_executions/{job_id}/process_service_executions")
    assert [c["name"] for c in components][-1] and all(c["success"] for c in components)


def test_a_platform_run_is_an_ogc_job(
    me: Api, server: ServerProcess, ids: dict[str, str], glasgow: str
) -> None:
    """A job started through the platform API is visible through the OGC API, with the same status."""
    _, executions = run_process(me, "Seen by OGC", ids[ELEVATION], glasgow, CHEAP)
    [execution] = executions
    job = _ogc_job(server, me.token, "acme", execution["id"])
    assert (job["jobID"], job["status"], job["progress"]) == (execution["id"], "successful", 100)
    listed = httpx.get(
        f"{server.url}/acme/ogc-api/jobs?limit=100",
        headers={"Authorization": f"Bearer {me.token}"},
        timeout=30,
    ).json()
    assert execution["id"] in {j["jobID"] for j in listed["jobs"]}


def test_an_ogc_job_without_enough_credits_is_402_and_stores_nothing(server: ServerProcess) -> None:
    poor = new_tenant(server, "ogcpoor", credits="0.001")
    namespace = poor.email.split("@")[0]
    response = _ogc_execute(
        server, poor.token, namespace, "elevation", {"region": _glasgow_geometry(), "resolution": 120}
    )
    assert response.status_code == 402, response.text
    problem = response.json()
    assert "credits" in problem["detail"] and problem["type"].endswith("insufficient-credits")
    assert poor.process_ids() == set()
    jobs = httpx.get(
        f"{server.url}/{namespace}/ogc-api/jobs",
        headers={"Authorization": f"Bearer {poor.token}"},
        timeout=30,
    ).json()
    assert jobs["jobs"] == []
    balance = poor.credits()
    assert decimal(balance["any_credits"]) == Decimal("0.001") and decimal(balance["reserved"]) == 0


def test_dismissing_an_ogc_job_stops_its_process_and_charges_at_most_its_price(
    me: Api, server: ServerProcess
) -> None:
    # Most of the Lake District (the SDK's file is in British National Grid; OGC takes WGS84).
    west, south, east, north = -3.3, 54.3, -2.8, 54.6
    lake = {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }
    before = me.credits()
    response = _ogc_execute(server, me.token, "acme", "cloud-classification", {"region": lake})
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    execution = me.model(f"/process_executions/{job_id}")
    price = decimal(execution["price"])
    assert price > 0 and decimal(me.credits()["reserved"]) >= price
    dismissed = httpx.delete(
        f"{server.url}/acme/ogc-api/jobs/{job_id}",
        headers={"Authorization": f"Bearer {me.token}"},
        timeout=30,
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed", dismissed.text
    process_id = execution["process_id"]
    wait_for(lambda: me.process(process_id)["process_status"] == "stop", 30, "the process to stop")
    after_model = me.model(f"/process_executions/{job_id}")
    assert after_model["success"] is False and after_model["stopped"] is True
    wait_for(lambda: decimal(me.credits()["reserved"]) == 0, 30, "the hold to be settled")
    charged = decimal(before["any_credits"]) - decimal(me.credits()["any_credits"])
    assert 0 <= charged <= price
    results = httpx.get(
        f"{server.url}/acme/ogc-api/jobs/{job_id}/results",
        headers={"Authorization": f"Bearer {me.token}"},
        timeout=30,
    )
    assert results.status_code == 404, results.text
