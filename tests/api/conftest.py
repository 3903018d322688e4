"""API fixtures: a platform on the session's Dask cluster and an in-process client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terrafuse.api.app import create_app
from terrafuse.bootstrap import build_platform, close_platform
from terrafuse.config import Settings
from terrafuse.usecases.executions import Platform


@pytest.fixture
def settings(tmp_path: Path, database_url: str, dask_scheduler: str) -> Settings:
    """Settings of a fresh platform in a temp folder."""
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, dask_scheduler=dask_scheduler, demo=True
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    """A running platform (dispatcher + executor connected to the session cluster)."""
    p = build_platform(settings)
    yield p
    close_platform(p)


@pytest.fixture
def client(platform: Platform, settings: Settings) -> Iterator[TestClient]:
    """An HTTP client talking to the app in-process."""
    with TestClient(create_app(platform, settings)) as c:
        yield c
