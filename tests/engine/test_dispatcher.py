"""Recovery: accepted jobs that were never dispatched, and running jobs whose worker went silent."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from terrafuse.bootstrap import build_platform, close_platform
from terrafuse.config import Settings
from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.executions import Execution, ExecutionRequest, ExecutionStatus
from terrafuse.usecases.executions import Platform


@pytest.fixture
def platform(tmp_path: Path, database_url: str, dask_scheduler: str):  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        dask_scheduler=dask_scheduler,
        job_lease_seconds=2,
    )
    p = build_platform(settings)
    yield p
    close_platform(p)


def _execution(
    platform: Platform, status: ExecutionStatus, attempts: int = 0, stale: bool = False
) -> Execution:
    org = platform.rt.organisations.by_namespace("public")
    assert org is not None
    now = utcnow()
    started = now - timedelta(seconds=30) if status is ExecutionStatus.RUNNING else None
    ex = Execution(
        id=new_id(),
        organisation_id=org.id,
        service_id="echo",
        service_version="1.0.0",
        status=status,
        inputs={"string_input": "recovered", "pause": 0},
        request=ExecutionRequest(),
        created_at=now,
        updated_at=now,
        started_at=started,
        heartbeat_at=started if stale else None,
        attempts=attempts,
    )
    platform.rt.executions.add(ex)
    return ex


def _wait(platform: Platform, execution_id: str, timeout: float = 30) -> Execution:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ex = platform.rt.executions.get(execution_id)
        assert ex is not None
        if ex.status.finished:
            return ex
        time.sleep(0.05)
    raise AssertionError(f"{execution_id} did not finish: {ex}")


def test_undispatched_accepted_job_is_dispatched_by_the_sweep(platform: Platform) -> None:
    ex = _execution(platform, ExecutionStatus.ACCEPTED)
    counts = platform.dispatcher.recover()
    assert counts["dispatched"] >= 1
    done = _wait(platform, ex.id)
    assert done.status is ExecutionStatus.SUCCESSFUL and done.outputs == {"string_input": "recovered"}


def test_silent_running_job_is_rerun_after_its_lease(platform: Platform) -> None:
    ex = _execution(platform, ExecutionStatus.RUNNING, attempts=1, stale=True)
    counts = platform.dispatcher.recover()
    assert counts["requeued"] == 1
    done = _wait(platform, ex.id)
    assert done.status is ExecutionStatus.SUCCESSFUL and done.attempts == 2


def test_silent_running_job_fails_clearly_when_out_of_attempts(platform: Platform) -> None:
    ex = _execution(platform, ExecutionStatus.RUNNING, attempts=2, stale=True)
    fresh = _execution(platform, ExecutionStatus.RUNNING, attempts=1, stale=False)
    platform.rt.executions.heartbeat(fresh.id)
    counts = platform.dispatcher.recover()
    assert counts["failed"] == 1
    failed = platform.rt.executions.get(ex.id)
    assert failed is not None and failed.status is ExecutionStatus.FAILED
    assert "stopped responding" in (failed.message or "")
    # A running job with a fresh heartbeat belongs to a live worker: left alone.
    alive = platform.rt.executions.get(fresh.id)
    assert alive is not None and alive.status is ExecutionStatus.RUNNING


def test_a_rerun_starts_clean_of_the_lost_attempt(platform: Platform) -> None:
    """What a lost worker's attempt recorded (components, files) is gone when the re-run ends."""
    from terrafuse.core.processes import Component

    ex = _execution(platform, ExecutionStatus.RUNNING, attempts=1, stale=True)
    platform.rt.components.start(
        Component(
            id=new_id(),
            execution_id=ex.id,
            organisation_id=ex.organisation_id,
            chain_index=0,
            name="half done",
            started_at=utcnow(),
        )
    )
    partial = f"{ex.id}/lost/partial.tif"
    platform.rt.storage.put_bytes(partial, b"half a file")
    assert [c.name for c in platform.rt.components.of_execution(ex.id)] == ["half done"]
    assert platform.dispatcher.recover()["requeued"] == 1
    done = _wait(platform, ex.id)
    assert done.status is ExecutionStatus.SUCCESSFUL and done.attempts == 2
    assert platform.rt.components.of_execution(ex.id) == []
    assert not platform.rt.storage.exists(partial)


def test_an_execution_deleted_while_it_runs_ends_quietly(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """Its process was deleted mid-run: the next write of the run fails on the missing row; that
    is no crash (no error logged), and nothing it wrote is left behind."""
    from sqlalchemy import delete

    from terrafuse.engine.components import ExecutionComponents
    from terrafuse.engine.inline import InlineRunContext
    from terrafuse.engine.runner import Heartbeat, run_claimed
    from terrafuse.services.base import ServiceDescription
    from terrafuse.store.tables import ExecutionRow

    rt = platform.rt

    class SelfDeleting:
        description = ServiceDescription(
            id="self-deleting", version="1", title="Self-deleting", description="test", inputs={}, outputs={}
        )

        def check_inputs(self, inputs: dict) -> None:
            pass

        def run(self, ctx, inputs: dict) -> dict:  # type: ignore[no-untyped-def]
            rt.storage.put_bytes(f"{ctx.execution_id}/partial.bin", b"half")
            with rt.db.write_conn() as conn:
                conn.execute(
                    delete(ExecutionRow.__table__).where(ExecutionRow.__table__.c.id == ctx.execution_id)
                )
            with ctx.component("after the deletion", share=1.0):
                pass
            return {}

    rt.registry.register(SelfDeleting())  # type: ignore[arg-type]
    ex = replace(_execution(platform, ExecutionStatus.RUNNING, attempts=1), service_id="self-deleting")
    with rt.db.write_conn() as conn:
        conn.execute(
            ExecutionRow.__table__.update()
            .where(ExecutionRow.__table__.c.id == ex.id)
            .values(service_id="self-deleting")
        )

    def context(e: Execution, heartbeat: Heartbeat) -> InlineRunContext:
        return InlineRunContext(
            e.id,
            rt.storage,
            rt.settings.scratch_dir,
            cancelled=heartbeat.cancelled.is_set,
            progress_sink=heartbeat.set_progress,
            log_sink=lambda message: None,
            components=ExecutionComponents(rt, e, heartbeat.set_progress),
            catalog_url=rt.settings.resolved_stac_catalog,
        )

    with caplog.at_level("INFO", logger="terrafuse"):
        status = run_claimed(rt, ex, context)
    assert status is ExecutionStatus.DISMISSED
    assert rt.executions.get(ex.id) is None and not rt.storage.exists(f"{ex.id}/partial.bin")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], [r.getMessage() for r in caplog.records]
