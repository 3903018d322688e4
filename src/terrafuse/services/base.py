"""The contract between the platform and a service (an executable algorithm).

A service is a description (typed inputs and outputs, as JSON Schema, which the OGC API
publishes as a process description) plus a ``run`` function. ``run`` gets a
:class:`RunContext` that knows how to report progress, notice cancellation, log, write to
the object store, and fan work out over the cluster. Services never see HTTP, SQL or Dask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from terrafuse.core.catalogue import PlatformFace
from terrafuse.storage.base import ObjectStore

JobControl = Literal["sync-execute", "async-execute", "dismiss"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class InputDescription:
    """One input of a service: a JSON Schema plus cardinality."""

    title: str
    schema: dict[str, Any]
    description: str = ""
    min_occurs: int = 1
    max_occurs: int | Literal["unbounded"] = 1
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputDescription:
    """One output of a service: a JSON Schema (with ``contentMediaType`` for files)."""

    title: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class ServiceDescription:
    """What a client needs to know to call a service."""

    id: str
    version: str
    title: str
    description: str
    inputs: dict[str, InputDescription]
    outputs: dict[str, OutputDescription]
    keywords: tuple[str, ...] = ()
    job_control: tuple[JobControl, ...] = ("sync-execute", "async-execute", "dismiss")
    # Cheap services run in the API process for synchronous requests (no cluster round trip).
    inline: bool = False
    metadata: tuple[dict[str, str], ...] = field(default_factory=tuple)
    # Services users run over a region also appear in the platform catalogue (Fusion API).
    platform: PlatformFace | None = None


class TaskContext(Protocol):
    """What a unit of work running on a worker may use. Instances are picklable."""

    execution_id: str

    @property
    def storage(self) -> ObjectStore:
        """The object store that outputs are written to."""
        ...

    @property
    def catalog_url(self) -> str:
        """URL or path of the STAC catalog (``catalog.json``) to search for imagery."""
        ...

    def check_cancelled(self) -> None:
        """Raise :class:`terrafuse.errors.ExecutionCancelled` if the execution was dismissed."""
        ...

    def progress(self, fraction: float) -> None:
        """Report how far this unit of work is (0.0-1.0); also checks cancellation."""
        ...

    def log(self, message: str) -> None:
        """Record a log line for the execution."""
        ...

    def scratch_dir(self) -> Path:
        """A private temporary folder on this worker, removed when the execution ends."""
        ...

    def output_key(self, *parts: str) -> str:
        """Object-store key for an output file: ``<execution>/<execution>/<parts...>``."""
        ...


@dataclass(frozen=True)
class OutputFile:
    """A file a component published: a new Data item of the organisation with one file."""

    data_id: str
    file_id: str
    key: str
    file_name: str
    file_type: str
    selectors: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class GroupMember:
    """What an aggregator sees of one slice execution of its group."""

    execution_id: str
    group_index: int
    status: str  # an ExecutionStatus value
    area_km2: float
    outputs: tuple[OutputFile, ...]


class ComponentContext(Protocol):
    """One step of an execution's chain (ingestion, algorithm, aggregator) while it runs.

    Its start, end, runtime, cpu and memory are recorded; logs go to the component.
    """

    name: str

    def progress(self, fraction: float) -> None:
        """How far this component is (0.0-1.0); mapped into the execution's progress."""
        ...

    def log(self, message: str) -> None:
        """A log line of this component."""
        ...

    def add_input(self, data_id: str) -> None:
        """Record an existing Data item (e.g. the region, or the previous component's output) as input."""
        ...

    def add_output(
        self,
        path: Path,
        file_type: str,
        *,
        histogram_ranges: Mapping[int, tuple[float, float]] | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> OutputFile:
        """Publish a local file as an output Data item of this component (named after the file).

        The file is analysed like an upload (bounds, CRS, selectors with a 10-bin histogram per
        band). ``histogram_ranges`` fixes a band's histogram range (1-based band -> (min, max)),
        e.g. (0, 3) for a 4-class raster so classes land in bins 0, 3, 6 and 9 in every slice.
        """
        ...


class RunContext(TaskContext, Protocol):
    """The context of a service's ``run``: a task context that can also fan out work."""

    def map(self, fn: Callable[[TaskContext, T], R], items: Sequence[T]) -> list[R]:
        """Run ``fn(ctx, item)`` for every item, in parallel on the cluster, results in order.

        ``fn`` must be a module-level function and ``items`` plain picklable data. Progress
        reported by each call is combined into the execution's progress. The first failure
        cancels the rest and is raised.
        """
        ...

    def component(self, name: str, share: float) -> AbstractContextManager[ComponentContext]:
        """Record one component of the chain while the ``with`` block runs.

        ``share`` is the fraction of the execution's progress this component covers. An
        exception leaving the block marks the component unsuccessful and is re-raised.
        """
        ...

    @property
    def input_data_ids(self) -> tuple[str, ...]:
        """Data items bound to the process's file inputs (empty for OGC jobs with inline inputs)."""
        ...

    def group_members(self) -> list[GroupMember]:
        """The slice executions of this execution's group (for aggregators; empty otherwise)."""
        ...


class Service(Protocol):
    """An executable algorithm."""

    description: ServiceDescription

    def check_inputs(self, inputs: dict[str, Any]) -> None:
        """Checks beyond the JSON Schemas, run before anything is stored (no network, no I/O).

        Raises:
            InvalidInput: naming the input and what is wrong with it.
        """
        ...

    def run(self, ctx: RunContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run with validated inputs (defaults filled) and return output values by id.

        Output values are JSON-compatible. A reference to a stored object is written as
        :func:`terrafuse.core.refs.object_ref` of its key; the API turns it into a URL the
        client can fetch when it serves results.
        """
        ...
