"""Shared fixtures of the demo-data tests: the catalog is built once per session (20 m)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from terrafuse.demo.catalog import DemoCatalog, build_demo_catalog


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> DemoCatalog:
    root = tmp_path_factory.mktemp("demo") / "stac"
    started = time.perf_counter()
    catalog = build_demo_catalog(root)
    print(f"\ndemo catalog built at 20 m in {time.perf_counter() - started:.1f} s")
    return catalog


@pytest.fixture(scope="session")
def seed_dirs(demo_catalog: DemoCatalog) -> dict[str, Path]:
    from terrafuse.demo.catalog import SEED_ITEM_IDS

    return {item_id: demo_catalog.item_paths[item_id].parent for item_id in SEED_ITEM_IDS}
