"""Processes: a service configured with inputs, options and a schedule, owned by an organisation.

A process is created from a template (``processes/new``), validated and priced at creation,
then executed: each firing (once, or on its schedule) creates one execution per slice of its
region, grouped when there is more than one slice, plus an aggregator execution when the service
has one. Pure rules; no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class ProcessStatus(enum.StrEnum):
    """Whether a process is executing (the SDK refuses local changes while it is)."""

    EXECUTE = "execute"
    STOP = "stop"


class Origin(enum.StrEnum):
    """Which API created the process."""

    PLATFORM = "platform"
    OGC = "ogc"


RUN_ONCE = "run_once"
RUN_SCHEDULE = "run_schedule"


@dataclass(frozen=True)
class BoundInput:
    """A numbered file input bound to a data item."""

    input: int
    data_id: str


@dataclass
class Process:
    """One process. ``options`` holds the wire values (text or None) by option name."""

    id: str
    organisation_id: str
    service_key: str
    service_id: str
    ssd_id: str
    name: str
    inputs: list[BoundInput]
    options: dict[str, str | None]
    run_type: str
    repeat_count: int
    repeat_start: datetime
    output_storage_period: int
    process_status: ProcessStatus
    process_status_at: datetime
    price: Decimal
    area_km2: float
    slices: int
    origin: Origin
    created_at: datetime
    updated_at: datetime
    repeat_end: datetime | None = None
    repeat_gap: str | None = None
    repeat_offset: str | None = None
    process_status_changed_by: str | None = None
    created_by: str | None = None
    next_run_at: datetime | None = None
    ogc_inputs: dict[str, Any] | None = None

    @property
    def executing(self) -> bool:
        """Whether the process is executing (firings pending or executions running)."""
        return self.process_status is ProcessStatus.EXECUTE

    def data_ids(self) -> list[str]:
        """The data items its inputs use."""
        return [bound.data_id for bound in self.inputs]


# Fields a process's ``update`` may change after creation (the guide: name and schedule only).
MUTABLE_AFTER_CREATE = frozenset(
    {
        "name",
        "run_type",
        "repeat_count",
        "repeat_start",
        "repeat_end",
        "repeat_gap",
        "repeat_offset",
        "output_storage_period",
    }
)


@dataclass(frozen=True)
class Firing:
    """What one firing of a process creates: slice executions and maybe an aggregator."""

    process_id: str
    fired_at: datetime
    group_id: str | None
    slice_inputs: list[dict[str, Any]]
    slice_areas: list[float]
    aggregator: bool
    prices: list[Decimal] = field(default_factory=list)


def share_price(total: Decimal, parts: int) -> list[Decimal]:
    """Split ``total`` into ``parts`` shares that add up exactly (the first ones get the remainder)."""
    if parts <= 0:
        return []
    unit = Decimal("0.000001")
    base = (total / parts).quantize(unit, rounding="ROUND_DOWN")
    shares = [base] * parts
    remainder = int(((total - base * parts) / unit).to_integral_value())
    for i in range(remainder):
        shares[i % parts] += unit
    return shares


@dataclass
class Component:
    """One step of an execution's chain as it ran (a Fusion ``ProcessServiceExecution``)."""

    id: str
    execution_id: str
    organisation_id: str
    chain_index: int
    name: str
    started_at: datetime
    ended_at: datetime | None = None
    runtime: float | None = None
    cpu: float | None = None
    memory: int | None = None
    success: bool | None = None
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
