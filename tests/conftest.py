"""Shared fixtures: hermetic settings, a real Dask cluster, SQLite and a real PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import postgres


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TERRAFUSE_* or AWS_* settings from the developer's shell leak into tests."""
    for name in list(os.environ):
        if name.startswith(("TERRAFUSE_", "AWS_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """One real Dask cluster (2 worker processes) for the whole session."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer | None]:
    """A PostgreSQL server for the session, when the binaries are installed."""
    if postgres.binaries() is None:
        yield None
        return
    server = postgres.PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'terrafuse.db'}"
    server = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip("PostgreSQL binaries are not installed")
    return server.create_database()


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The demo STAC catalog (20 m), built once per session and shared by all tests."""
    from terrafuse.demo.catalog import build_demo_catalog

    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "stac")
