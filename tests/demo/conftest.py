"""Shared fixtures of the demo-data tests: the catalog is built once per session (20 m)."""

from __future__ import annotations

from pathlib import Path

import pytest

from terrafuse.demo.catalog import DemoCatalog


@pytest.fixture(scope="session")
def seed_dirs(demo_catalog: DemoCatalog) -> dict[str, Path]:
    from terrafuse.demo.catalog import SEED_ITEM_IDS

    return {item_id: demo_catalog.item_paths[item_id].parent for item_id in SEED_ITEM_IDS}
