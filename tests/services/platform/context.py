"""A run context for the platform service tests: the RunContext protocol, recorded in lists.

Outputs go to a local object store in a tmp folder and are analysed with
``terrafuse.analysis.analyse_file`` like uploads; a fixed ``histogram_ranges`` is applied by
recomputing that band's histogram over the range (as the platform's context promises).
Components, their inputs, outputs, logs and progress are kept for the tests to inspect.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import rasterio

from terrafuse.analysis import analyse_file
from terrafuse.errors import ExecutionCancelled
from terrafuse.services.base import GroupMember, OutputFile
from terrafuse.storage.local import LocalObjectStore

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class RecordedComponent:
    """What one component did."""

    name: str
    share: float
    inputs: list[str] = field(default_factory=list)
    outputs: list[OutputFile] = field(default_factory=list)
    histogram_ranges: list[Mapping[int, tuple[float, float]] | None] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)
    success: bool | None = None
    error: BaseException | None = None


class ComponentRecorder:
    """A ComponentContext that records into a :class:`RecordedComponent`."""

    def __init__(self, ctx: TestRunContext, record: RecordedComponent) -> None:
        self._ctx = ctx
        self.record = record
        self.name = record.name

    def progress(self, fraction: float) -> None:
        """Record progress (must stay within 0..1) and check cancellation."""
        assert 0.0 <= fraction <= 1.0, fraction
        self.record.progress.append(fraction)
        self._ctx.check_cancelled()

    def log(self, message: str) -> None:
        """Record a log line."""
        self.record.logs.append(message)

    def add_input(self, data_id: str) -> None:
        """Record an input Data id."""
        self.record.inputs.append(data_id)

    def add_output(
        self,
        path: Path,
        file_type: str,
        *,
        histogram_ranges: Mapping[int, tuple[float, float]] | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> OutputFile:
        """Store, analyse and record the file; refuses files analysis does not publish."""
        path = Path(path)
        analysis = analyse_file(path, file_type, path.name)
        assert analysis.publishable, f"{path.name}: {analysis.error}"
        selectors = [dataclasses.asdict(s) for s in analysis.selectors]
        for band, (lo, hi) in (histogram_ranges or {}).items():
            selectors[band - 1] = _fixed_histogram(path, band, lo, hi, selectors[band - 1])
        data_id = str(uuid.uuid4())
        key = f"{self._ctx.execution_id}/{data_id}/{path.name}"
        self._ctx.storage.put_file(key, path)
        out = OutputFile(data_id, str(uuid.uuid4()), key, path.name, file_type, tuple(selectors))
        self.record.outputs.append(out)
        self.record.histogram_ranges.append(histogram_ranges)
        self._ctx.analyses[key] = analysis
        return out


def _fixed_histogram(path: Path, band: int, lo: float, hi: float, selector: dict[str, Any]) -> dict[str, Any]:
    with rasterio.open(path) as ds:
        values = ds.read(band, masked=True).compressed()
    values = values[np.isfinite(values)]
    counts, _ = np.histogram(values, bins=10, range=(lo, hi))
    return {
        **selector,
        "histogram_minimum": lo,
        "histogram_maximum": hi,
        "histogram": [int(c) for c in counts],
    }


class TestRunContext:
    """Implements :class:`terrafuse.services.base.RunContext` for tests."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        root: Path,
        catalog_url: str,
        *,
        execution_id: str = "exec-1",
        input_data_ids: Sequence[str] = ("region-data",),
        members: Sequence[GroupMember] = (),
        cancel_after_checks: int | None = None,
    ) -> None:
        self.execution_id = execution_id
        self._root = Path(root)
        self._storage = LocalObjectStore(self._root / "objects", b"test-secret")
        self._catalog_url = catalog_url
        self._input_data_ids = tuple(input_data_ids)
        self._members = list(members)
        self._cancel_after = cancel_after_checks
        self._scratch: Path | None = None
        self.checks = 0
        self.components: list[RecordedComponent] = []
        self.logs: list[str] = []
        self.progress_values: list[float] = []
        self.analyses: dict[str, Any] = {}

    @property
    def storage(self) -> LocalObjectStore:
        """Where outputs are stored (a folder under the test's tmp path)."""
        return self._storage

    @property
    def catalog_url(self) -> str:
        """The STAC catalog the services search."""
        return self._catalog_url

    @property
    def input_data_ids(self) -> tuple[str, ...]:
        """Data items bound to the file inputs."""
        return self._input_data_ids

    def check_cancelled(self) -> None:
        """Raise ExecutionCancelled once ``cancel_after_checks`` checks were made."""
        self.checks += 1
        if self._cancel_after is not None and self.checks > self._cancel_after:
            raise ExecutionCancelled(f"execution {self.execution_id} was dismissed")

    def progress(self, fraction: float) -> None:
        """Record overall progress."""
        self.progress_values.append(fraction)
        self.check_cancelled()

    def log(self, message: str) -> None:
        """Record an execution log line."""
        self.logs.append(message)

    def scratch_dir(self) -> Path:
        """One scratch folder per context."""
        if self._scratch is None:
            (self._root / "scratch").mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=self._root / "scratch"))
        return self._scratch

    def output_key(self, *parts: str) -> str:
        """``<execution>/<execution>/<parts>``."""
        return "/".join([self.execution_id, self.execution_id, *parts])

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T]) -> list[R]:
        """Run in order, in this thread."""
        return [fn(self, item) for item in items]

    @contextmanager
    def component(self, name: str, share: float) -> Iterator[ComponentRecorder]:
        """Record a component; an exception marks it unsuccessful and propagates."""
        record = RecordedComponent(name, share)
        self.components.append(record)
        try:
            yield ComponentRecorder(self, record)
        except BaseException as exc:
            record.success, record.error = False, exc
            raise
        record.success = True

    def group_members(self) -> list[GroupMember]:
        """The group given to the constructor."""
        return list(self._members)

    def close(self) -> None:
        """Remove the scratch folder."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def output_path(self, out: OutputFile) -> Path:
        """The stored file of an output."""
        path = self._storage.local_path(out.key)
        assert path is not None
        return path

    def component_names(self) -> list[str]:
        """Names of the recorded components, in order."""
        return [c.name for c in self.components]
