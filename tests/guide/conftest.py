"""Fixtures of the guide's examples: a real ``terrafuse serve --demo`` with two Dask workers, and
a Python environment with the SDK 1.1.4 plus what the 1.1 Detailed Example imports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.platform_api.conftest import sdk_v1_environment
from tests.support.server import ServerProcess

GUIDE_EXTRAS = ("rasterio>=1.4.4,<1.5", "numpy>=2.2,<2.5", "matplotlib>=3.8")


@pytest.fixture(scope="session")
def guide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The demo platform: me@org.com in 'acme' with 1000 credits, the demo imagery, 2 workers."""
    server = ServerProcess(
        tmp_path_factory.mktemp("guide") / "data", demo=True, env={"TERRAFUSE_DASK_WORKERS": "2"}
    ).start(timeout=300)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sdk_v1_guide_python(request: pytest.FixtureRequest) -> Path:
    """Python with the SDK 1.1.4, rasterio and matplotlib."""
    return sdk_v1_environment(request, GUIDE_EXTRAS)
