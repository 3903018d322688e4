"""Jobs run on a Dask cluster made of separate ``dask scheduler`` and ``dask worker`` processes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terrafuse.api.app import create_app
from terrafuse.bootstrap import build_platform, close_platform
from terrafuse.config import Settings
from tests.support.postgres import free_port

pytestmark = pytest.mark.dask_cluster


def _dask_cli() -> list[str]:
    script = Path(sys.executable).parent / "dask"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dask"]


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` + two ``dask worker`` processes on loopback."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    files = contextlib.ExitStack()

    def log(name: str):  # type: ignore[no-untyped-def]
        return files.enter_context(open(logs / name, "wb"))

    procs = [
        subprocess.Popen(
            [*_dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log("scheduler.log"),
            stderr=subprocess.STDOUT,
            env=env,
        )
    ]
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [*_dask_cli(), "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
                stdout=log(f"worker{i}.log"),
                stderr=subprocess.STDOUT,
                env=env,
            )
        )
    from distributed import Client

    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with Client(address, timeout=5) as c:
                    c.wait_for_workers(2, timeout=30)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        files.close()


@pytest.fixture
def cluster_client(tmp_path: Path, external_cluster: str) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", dask_scheduler=external_cluster, demo=True)
    platform = build_platform(settings)
    try:
        assert platform.dispatcher.executor.info()["workers"] == 2  # type: ignore[attr-defined]
        with TestClient(create_app(platform, settings)) as client:
            yield client
    finally:
        close_platform(platform)


def _wait(client: TestClient, url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(url).json()
        if info["status"] in ("successful", "failed", "dismissed"):
            return info
        time.sleep(0.2)
    raise AssertionError(f"job did not finish: {info}")


def test_async_jobs_run_on_the_external_cluster(cluster_client: TestClient) -> None:
    urls = []
    for i in range(4):
        r = cluster_client.post(
            "/acme/ogc-api/processes/echo/execution",
            json={"inputs": {"string_input": f"hello {i}", "pause": 0.3}},
            headers={"Prefer": "respond-async"},
        )
        assert r.status_code == 201
        urls.append(r.headers["Location"])
    for i, url in enumerate(urls):
        assert _wait(cluster_client, url)["status"] == "successful"
        assert cluster_client.get(f"{url}/results").text == f"hello {i}"


def test_water_bodies_items_spread_over_workers(cluster_client: TestClient, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    from terrafuse.demo.catalog import SEED_AOI, SEED_ITEM_IDS

    items = [demo_catalog.item_paths[i].as_uri() for i in SEED_ITEM_IDS]  # file:// hrefs work too
    r = cluster_client.post(
        "/acme/ogc-api/processes/water-bodies/execution",
        json={"inputs": {"stac_items": items, "aoi": SEED_AOI}},
        headers={"Prefer": "respond-async;return=representation"},
    )
    assert r.status_code == 201, r.text
    info = _wait(cluster_client, r.headers["Location"])
    assert info["status"] == "successful", info
    results = cluster_client.get(r.headers["Location"] + "/results").json()
    features = results["stac_catalog"]["value"]["features"]
    assert [f["id"] for f in features] == list(SEED_ITEM_IDS)
