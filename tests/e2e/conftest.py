"""A real server process with demo data, shared by the end-to-end tests of a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import find_stac_items
from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``terrafuse serve --demo`` on a free port (SQLite, local objects, local Dask cluster)."""
    server = ServerProcess(tmp_path_factory.mktemp("e2e") / "data", demo=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_items(demo_server: ServerProcess) -> dict[str, str]:
    """URLs of the demo STAC items served by the demo server."""
    return find_stac_items(f"{demo_server.url}/stac/catalog.json")


def data_path(server: ServerProcess) -> Path:
    """The server's data folder."""
    return server.data_dir
