"""A run context that executes everything in the calling thread.

Used for cheap synchronous executions in the API process and by unit tests. ``map`` runs
the items one after another and maps each item's progress into its share of the whole.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from terrafuse.errors import ExecutionCancelled
from terrafuse.storage.base import ObjectStore
from terrafuse.storage.local import check_key

if TYPE_CHECKING:
    from terrafuse.engine.components import ExecutionComponents
    from terrafuse.services.base import ComponentContext, GroupMember

T = TypeVar("T")
R = TypeVar("R")

ProgressSink = Callable[[float], None]
LogSink = Callable[[str], None]


def output_key(execution_id: str, *parts: str) -> str:
    """The object key of an execution's output: ``<id>/<id>/<parts>`` (as the seed notebook shows)."""
    return check_key("/".join([execution_id, execution_id, *parts]))


class InlineRunContext:
    """A :class:`terrafuse.services.base.RunContext` that runs in the current thread.

    Args:
        execution_id: id of the execution the work belongs to.
        storage: where outputs go.
        scratch_root: parent folder of the per-execution scratch folder.
        cancelled: returns True once the execution was dismissed.
        progress_sink: receives overall progress as a fraction 0.0-1.0.
        log_sink: receives log lines.
    """

    def __init__(
        self,
        execution_id: str,
        storage: ObjectStore,
        scratch_root: Path,
        cancelled: Callable[[], bool] | None = None,
        progress_sink: ProgressSink | None = None,
        log_sink: LogSink | None = None,
        _span: tuple[float, float] = (0.0, 1.0),
        components: ExecutionComponents | None = None,
        catalog_url: str = "",
    ) -> None:
        self.execution_id = execution_id
        self._storage = storage
        self._scratch_root = Path(scratch_root)
        self._cancelled = cancelled
        self._progress_sink = progress_sink
        self._log_sink = log_sink
        self._span = _span
        self._scratch: Path | None = None
        self._components = components
        self.catalog_url = catalog_url

    def component(self, name: str, share: float) -> AbstractContextManager[ComponentContext]:
        """Record one component of the chain (needs a runtime: see ``components``)."""
        if self._components is None:
            raise RuntimeError("this inline context records no components (no runtime given)")
        return self._components.component(name, share)

    @property
    def input_data_ids(self) -> tuple[str, ...]:
        """Data items bound to the process's file inputs (none without a runtime)."""
        if self._components is None:
            return ()
        from terrafuse.engine.components import input_data_ids

        return input_data_ids(self._components.rt, self._components.execution)

    def group_members(self) -> list[GroupMember]:
        """The slice executions of this execution's group (none without a runtime)."""
        if self._components is None:
            return []
        from terrafuse.engine.components import group_members

        return group_members(self._components.rt, self._components.execution)

    @property
    def storage(self) -> ObjectStore:
        """The object store outputs are written to."""
        return self._storage

    def check_cancelled(self) -> None:
        """Raise ``ExecutionCancelled`` once the execution was dismissed."""
        if self._cancelled is not None and self._cancelled():
            raise ExecutionCancelled(f"execution {self.execution_id} was dismissed")

    def progress(self, fraction: float) -> None:
        """Report this unit's progress; mapped into the overall progress."""
        self.check_cancelled()
        if self._progress_sink is not None:
            start, width = self._span
            self._progress_sink(start + width * min(max(fraction, 0.0), 1.0))

    def log(self, message: str) -> None:
        """Record a log line."""
        if self._log_sink is not None:
            self._log_sink(message)

    def scratch_dir(self) -> Path:
        """A private temporary folder (shared by the units of one inline run)."""
        if self._scratch is None:
            self._scratch_root.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix=f"{self.execution_id}-", dir=self._scratch_root))
        return self._scratch

    def output_key(self, *parts: str) -> str:
        """``<execution>/<execution>/<parts...>``."""
        return output_key(self.execution_id, *parts)

    def map(self, fn: Callable[[InlineRunContext, T], R], items: Sequence[T]) -> list[R]:
        """Run ``fn`` over the items in order; each gets an equal share of the progress."""
        results: list[R] = []
        start, width = self._span
        n = max(len(items), 1)
        for i, item in enumerate(items):
            self.check_cancelled()
            child = InlineRunContext(
                self.execution_id,
                self._storage,
                self._scratch_root,
                self._cancelled,
                self._progress_sink,
                self._log_sink,
                _span=(start + width * i / n, width / n),
            )
            child._scratch = self._scratch
            try:
                results.append(fn(child, item))
            finally:
                if child._scratch is not None and child._scratch != self._scratch:
                    shutil.rmtree(child._scratch, ignore_errors=True)
            self.progress((i + 1) / n)
        return results

    def close(self) -> None:
        """Remove the scratch folder."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
