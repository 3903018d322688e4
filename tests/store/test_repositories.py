"""Persistence on SQLite and on a real PostgreSQL: migrations, transitions, filters."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.executions import (
    Execution,
    ExecutionFilter,
    ExecutionRequest,
    ExecutionStatus,
    OutputRequest,
    ResponseForm,
    Subscriber,
)
from terrafuse.store.db import Database
from terrafuse.store.executions import Executions
from terrafuse.store.organisations import Organisations


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def org_id(db: Database) -> str:
    return Organisations(db).ensure("Acme", "acme", allow_anonymous=True).id


def make_execution(org_id: str, service: str = "echo", created: datetime | None = None) -> Execution:
    now = created or utcnow()
    return Execution(
        id=new_id(),
        organisation_id=org_id,
        service_id=service,
        service_version="1.0.0",
        status=ExecutionStatus.ACCEPTED,
        inputs={"string_input": "x"},
        request=ExecutionRequest(
            response=ResponseForm.DOCUMENT,
            outputs={"string_input": OutputRequest("reference", "text/plain")},
            subscriber=Subscriber(success_uri="http://127.0.0.1:9/ok"),
        ),
        created_at=now,
        updated_at=now,
    )


def test_migrations_are_idempotent_and_create_the_schema(db: Database) -> None:
    db.migrate()  # a second start must not fail
    tables = set(inspect(db.engine).get_table_names())
    assert {"organisations", "executions", "execution_tasks", "execution_logs", "alembic_version"} <= tables


def test_organisations_are_unique_per_namespace(db: Database) -> None:
    orgs = Organisations(db)
    first = orgs.ensure("Acme", "acme", True)
    again = orgs.ensure("Other name", "acme", False)
    assert again.id == first.id and again.name == "Acme"
    assert orgs.by_id(first.id) == first
    assert orgs.by_namespace("nobody") is None


def test_round_trip_keeps_request_and_aware_timestamps(db: Database, org_id: str) -> None:
    repo = Executions(db)
    ex = make_execution(org_id)
    repo.add(ex)
    got = repo.get(ex.id)
    assert got is not None
    assert got.request == ex.request
    assert got.inputs == ex.inputs
    assert got.created_at == ex.created_at and got.created_at.tzinfo is not None
    assert repo.get(ex.id, organisation_id="someone-else") is None


def test_only_one_claim_wins(db: Database, org_id: str) -> None:
    repo = Executions(db)
    ex = make_execution(org_id)
    repo.add(ex)
    winners: list[str] = []

    def claim() -> None:
        if repo.claim(ex.id) is not None:
            winners.append(threading.current_thread().name)

    threads = [threading.Thread(target=claim, name=f"t{i}") for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    claimed = repo.get(ex.id)
    assert claimed is not None and claimed.status is ExecutionStatus.RUNNING and claimed.attempts == 1


def test_finish_loses_against_dismiss(db: Database, org_id: str) -> None:
    repo = Executions(db)
    ex = make_execution(org_id)
    repo.add(ex)
    assert repo.claim(ex.id) is not None
    dismissed = repo.dismiss(ex.id, "dismissed by the client")
    assert dismissed is not None and dismissed.status is ExecutionStatus.DISMISSED
    assert repo.finish(ex.id, ExecutionStatus.SUCCESSFUL, outputs={"a": 1}) is False
    after = repo.get(ex.id)
    assert after is not None and after.status is ExecutionStatus.DISMISSED and after.outputs is None
    assert repo.heartbeat(ex.id, progress=50) is False


def test_lost_worker_is_requeued_then_failed(db: Database, org_id: str) -> None:
    repo = Executions(db)
    ex = make_execution(org_id)
    repo.add(ex)
    repo.claim(ex.id)
    assert repo.stale_running(utcnow() + timedelta(seconds=1)) == [ex.id]
    assert repo.stale_running(utcnow() - timedelta(seconds=60)) == []
    assert repo.requeue_or_fail(ex.id, max_attempts=2, message="lost") is ExecutionStatus.ACCEPTED
    repo.claim(ex.id)
    assert repo.requeue_or_fail(ex.id, max_attempts=2, message="lost twice") is ExecutionStatus.FAILED
    failed = repo.get(ex.id)
    assert failed is not None and failed.message == "lost twice" and failed.error_code == "worker-lost"
    assert failed.attempts == 2
    assert repo.requeue_or_fail(ex.id, max_attempts=2, message="again") is None


def test_progress_logs_and_task_parts(db: Database, org_id: str) -> None:
    repo = Executions(db)
    ex = make_execution(org_id)
    repo.add(ex)
    repo.claim(ex.id)
    assert repo.heartbeat(ex.id, progress=42)
    assert repo.get(ex.id).progress == 42  # type: ignore[union-attr]
    repo.set_task_progress(ex.id, 0, 0.25)
    repo.set_task_progress(ex.id, 1, 0.5)
    repo.set_task_progress(ex.id, 0, 0.75)
    assert repo.task_progress(ex.id) == {0: 0.75, 1: 0.5}
    repo.add_log(ex.id, "first")
    repo.add_log(ex.id, "second")
    assert [m for _, m in repo.logs(ex.id)] == ["first", "second"]


def test_list_filters_and_paging(db: Database, org_id: str) -> None:
    repo = Executions(db)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    for i in range(5):
        ex = make_execution(
            org_id, "echo" if i % 2 == 0 else "water-bodies", created=base + timedelta(hours=i)
        )
        repo.add(ex)
        made.append(ex)
    # made[4] ran for a while and succeeded; made[3] is running.
    repo.claim(made[4].id)
    repo.finish(made[4].id, ExecutionStatus.SUCCESSFUL, outputs={})
    repo.claim(made[3].id)
    now = utcnow()

    def ids(**kw: object) -> list[str]:
        page, _ = repo.list(org_id, ExecutionFilter(**kw), now)  # type: ignore[arg-type]
        return [e.id for e in page]

    assert ids(limit=10) == [e.id for e in reversed(made)]
    assert ids(service_ids=("water-bodies",)) == [made[3].id, made[1].id]
    assert ids(statuses=(ExecutionStatus.SUCCESSFUL, ExecutionStatus.RUNNING)) == [made[4].id, made[3].id]
    assert ids(created_from=base + timedelta(hours=3)) == [made[4].id, made[3].id]
    assert ids(created_to=base + timedelta(hours=1)) == [made[1].id, made[0].id]
    # Durations: only started jobs count; made[3] is still running (now - started).
    assert set(ids(min_duration=0)) == {made[3].id, made[4].id}
    assert ids(max_duration=-1) == []
    page, more = repo.list(org_id, ExecutionFilter(limit=2, offset=0), now)
    assert len(page) == 2 and more
    page, more = repo.list(org_id, ExecutionFilter(limit=2, offset=4), now)
    assert len(page) == 1 and not more
    other = Organisations(db).ensure("Other", "other", False)
    assert repo.list(other.id, ExecutionFilter(), now) == ([], False)
