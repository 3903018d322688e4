"""Recording an execution's components while it runs, and publishing their outputs as data items.

Both run contexts (inline and on a Dask worker) delegate ``component()``, ``input_data_ids`` and
``group_members()`` here. A component's figures: wall-clock ``runtime`` (s), ``cpu`` (seconds of
CPU time of the thread running it) and ``memory`` (resident MB of the worker process when it
ended). Outputs are stored under the organisation's data prefix like uploads, analysed with the
same code, and linked to the execution so they are deleted with it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.data import Data, DataFile, FileResult, FileState, file_key
from terrafuse.core.executions import Execution
from terrafuse.core.processes import Component
from terrafuse.engine.runner import Runtime
from terrafuse.services.base import GroupMember, OutputFile


def _resident_mb() -> int | None:
    try:
        import psutil  # a dependency of distributed
    except ImportError:  # pragma: no cover - distributed always brings it
        return None
    return int(psutil.Process().memory_info().rss // (1024 * 1024))


@dataclass
class _Running:
    """The :class:`terrafuse.services.base.ComponentContext` of one running component."""

    owner: ExecutionComponents
    record: Component
    offset: float
    share: float
    outputs: list[OutputFile] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The component's name."""
        return self.record.name

    def progress(self, fraction: float) -> None:
        """Map the component's progress into the execution's."""
        self.owner.report(self.offset + self.share * min(max(fraction, 0.0), 1.0))

    def log(self, message: str) -> None:
        """A log line of this component."""
        self.owner.rt.components.add_log(self.record.execution_id, self.record.id, message)

    def add_input(self, data_id: str) -> None:
        """Record a data item as an input of this component."""
        if data_id not in self.record.inputs:
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
        """Store, analyse and record a local file as a new output data item."""
        out = self.owner.publish(
            Path(path), file_type, self.record.name, histogram_ranges, title, description
        )
        self.record.outputs.append(out.data_id)
        self.outputs.append(out)
        return out


class ExecutionComponents:
    """The components of one running execution."""

    def __init__(self, rt: Runtime, execution: Execution, report: Callable[[float], None]) -> None:
        self.rt = rt
        self.execution = execution
        self.report = report
        self._offset = 0.0
        self._next_index = 0

    @contextlib.contextmanager
    def component(self, name: str, share: float) -> Iterator[_Running]:
        """Record a component while the block runs (see ``RunContext.component``)."""
        record = Component(
            id=new_id(),
            execution_id=self.execution.id,
            organisation_id=self.execution.organisation_id,
            chain_index=self._next_index,
            name=name,
            started_at=utcnow(),
        )
        self._next_index += 1
        self.rt.components.start(record)
        running = _Running(self, record, self._offset, max(share, 0.0))
        wall, cpu = time.monotonic(), time.thread_time()
        success = False
        try:
            yield running
            success = True
        finally:
            record.ended_at = utcnow()
            record.runtime = round(time.monotonic() - wall, 3)
            record.cpu = round(time.thread_time() - cpu, 3)
            record.memory = _resident_mb()
            record.success = success
            self.rt.components.finish(record)
            self._offset = min(self._offset + running.share, 1.0)
            if success:
                self.report(self._offset)

    def publish(
        self,
        path: Path,
        file_type: str,
        component_name: str,
        histogram_ranges: Mapping[int, tuple[float, float]] | None,
        title: str | None,
        description: str | None,
    ) -> OutputFile:
        """Store a file as a new data item of the execution's organisation, analysed."""
        from terrafuse.analysis import analyse_file
        from terrafuse.analysis.raster import fixed_range_histogram
        from terrafuse.usecases.file_analysis import result_of

        org = self.execution.organisation_id
        data_id, file_id = new_id(), new_id()
        key = file_key(org, data_id, file_id, path.name)
        self.rt.storage.put_file(key, path)
        result = result_of(analyse_file(path, file_type, path.name), file_type)
        if histogram_ranges and result.selectors:
            selectors = [dict(s) for s in result.selectors]
            for band, (low, high) in histogram_ranges.items():
                if 1 <= band <= len(selectors):
                    selectors[band - 1].update(
                        histogram_minimum=low,
                        histogram_maximum=high,
                        histogram=fixed_range_histogram(path, band, low, high),
                    )
            result = replace(result, selectors=tuple(selectors))
        if description:
            result = replace(result, notes=(*result.notes, description))
        now = utcnow()
        data = Data(
            id=data_id,
            organisation_id=org,
            name=title or f"{component_name}: {path.name}",
            created_at=now,
            updated_at=now,
            uploaded=False,
        )
        file = DataFile(
            id=file_id,
            data_id=data_id,
            organisation_id=org,
            file_name=path.name,
            file_type=file_type,
            object_key=key,
            state=FileState.ANALYSED,
            created_at=now,
            updated_at=now,
            stored_bytes=path.stat().st_size,
        )
        self.rt.data_store.add_output(data, file, result, self.execution.id)
        return _output_file(data_id, file, result)


def _output_file(data_id: str, file: DataFile, result: FileResult | None) -> OutputFile:
    return OutputFile(
        data_id=data_id,
        file_id=file.id,
        key=file.object_key,
        file_name=file.file_name,
        file_type=file.file_type,
        selectors=tuple(result.selectors) if result else (),
    )


def input_data_ids(rt: Runtime, execution: Execution) -> tuple[str, ...]:
    """The data items bound to the inputs of the execution's process."""
    if execution.process_id is None:
        return ()
    process = rt.processes.by_id(execution.process_id)
    return tuple(process.data_ids()) if process is not None else ()


def group_members(rt: Runtime, execution: Execution) -> list[GroupMember]:
    """The slice executions of the execution's group, with their published outputs."""
    from terrafuse.store.processes import group_execution_ids

    if execution.group_id is None:
        return []
    members: list[GroupMember] = []
    for member_id in group_execution_ids(rt.db, execution.group_id):
        member = rt.executions.get(member_id)
        if member is None or member.aggregator:
            continue
        # The products are the last component's outputs (earlier ones are ingested inputs).
        components = rt.components.of_execution(member_id)
        products = components[-1].outputs if components else []
        outputs: list[OutputFile] = []
        for data_id in products:
            for file in rt.data_store.files(member.organisation_id, data_id):
                outputs.append(_output_file(data_id, file, file.result))
        members.append(
            GroupMember(
                execution_id=member_id,
                group_index=member.group_index or 0,
                status=member.status.value,
                area_km2=_region_km2(member.inputs),
                outputs=tuple(outputs),
            )
        )
    return members


def _region_km2(inputs: Mapping[str, Any]) -> float:
    region = inputs.get("region") if isinstance(inputs, Mapping) else None
    if not isinstance(region, Mapping):
        return 0.0
    import shapely.geometry

    from terrafuse.core.slicing import region_area_km2

    return float(region_area_km2(shapely.geometry.shape(region)))
