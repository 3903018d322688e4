"""Fixtures for the service tests: object store, run contexts, generated scenes, HTTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from terrafuse.engine.inline import InlineRunContext
from terrafuse.storage.local import LocalObjectStore
from tests.services.wb_helpers import Scene, make_scene


@dataclass
class Recorder:
    """Collects what a run context reports."""

    progress: list[float] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects", b"test-secret")


@pytest.fixture
def make_ctx(
    tmp_path: Path, store: LocalObjectStore
) -> Iterator[Callable[..., tuple[InlineRunContext, Recorder]]]:
    made: list[InlineRunContext] = []

    def make(execution_id: str = "exec1", cancelled: Callable[[], bool] | None = None):
        rec = Recorder()
        ctx = InlineRunContext(
            execution_id,
            store,
            tmp_path / "scratch",
            cancelled=cancelled,
            progress_sink=rec.progress.append,
            log_sink=rec.logs.append,
        )
        made.append(ctx)
        return ctx, rec

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    return make_scene(tmp_path / "scene")
