"""Fixtures of the SDK tests: the in-process fake platform with a fake clock, a signed-in user on
it, and one real ``terrafuse serve --demo`` process shared by every end-to-end test here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import terrafuse
from terrafuse.sdk.session import SessionOptions
from terrafuse.sdk.timing import RetryPolicy
from tests.platform_processes.conftest import start_server
from tests.sdk.fake_platform import API, PASSWORD, FakeClock, FakePlatform
from tests.support.server import ServerProcess


@pytest.fixture(autouse=True)
def _progress_default() -> Iterator[None]:
    """Each test starts with the progress switch at its default, and leaves it there."""
    terrafuse.set_progress(None)
    yield
    terrafuse.set_progress(None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def options(clock: FakeClock) -> SessionOptions:
    """No jitter, so back-off delays are exact; the fake clock, so nothing sleeps."""
    return SessionOptions(
        poll_interval=10.0, wait_timeout=3600.0, retry=RetryPolicy(jitter=False), clock=clock
    )


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def user(platform: FakePlatform, options: SessionOptions) -> terrafuse.User:
    return terrafuse.login(
        email="me@org.com",
        password=PASSWORD,
        api_url=API,
        session_options=options,
        transport=platform.transport,
    )


@pytest.fixture
def organisation(user: terrafuse.User) -> terrafuse.Organisation:
    return next(user.organisations)


@pytest.fixture(scope="session")
def terrafuse_server(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Any) -> Iterator[ServerProcess]:
    """``terrafuse serve --demo`` with two Dask workers: me@org.com in 'acme' with 1000 credits."""
    server = start_server(tmp_path_factory.mktemp("sdk-e2e"), demo_catalog, {"TERRAFUSE_DASK_WORKERS": "2"})
    yield server
    server.stop()
