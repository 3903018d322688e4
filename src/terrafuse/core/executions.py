"""Executions: one run of a service for an organisation (an OGC job).

Pure domain rules: statuses, legal transitions, the job-list filter. No I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class ExecutionStatus(enum.StrEnum):
    """Lifecycle of an execution (the OGC statusCode values)."""

    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    DISMISSED = "dismissed"

    @property
    def finished(self) -> bool:
        """Whether no more work happens for an execution in this status."""
        return self in FINISHED


FINISHED = frozenset({ExecutionStatus.SUCCESSFUL, ExecutionStatus.FAILED, ExecutionStatus.DISMISSED})


class ResponseForm(enum.StrEnum):
    """How results are returned (OGC 1.0 ``response``)."""

    RAW = "raw"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Subscriber:
    """Callback URLs (OGC ``subscriber``)."""

    success_uri: str | None = None
    in_progress_uri: str | None = None
    failed_uri: str | None = None


@dataclass(frozen=True)
class OutputRequest:
    """A requested output and how it is to be transmitted."""

    transmission: str = "value"  # "value" | "reference"
    media_type: str | None = None


@dataclass(frozen=True)
class ExecutionRequest:
    """What the client asked for besides the inputs; kept to shape the results later."""

    response: ResponseForm = ResponseForm.RAW
    outputs: dict[str, OutputRequest] | None = None  # None = all outputs
    subscriber: Subscriber | None = None


@dataclass
class Execution:
    """One run of a service for an organisation."""

    id: str
    organisation_id: str
    service_id: str
    service_version: str
    status: ExecutionStatus
    inputs: dict[str, Any]
    request: ExecutionRequest
    created_at: datetime
    updated_at: datetime
    progress: int = 0
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outputs: dict[str, Any] | None = None
    attempts: int = 0
    error_code: str | None = None
    heartbeat_at: datetime | None = None
    # The process run it belongs to (every execution has one since processes exist; None only
    # for rows written before), its place in a sliced group, its share of the price.
    process_id: str | None = None
    group_id: str | None = None
    group_index: int | None = None
    group_count: int | None = None
    aggregator: bool = False
    price: Decimal | None = None
    delete_expiry: datetime | None = None
    delete_warning_status: str = "none"
    stopped: bool = False
    executed_by: str | None = None

    def duration(self, now: datetime) -> float | None:
        """Seconds of compute: finished-started, or now-started while running."""
        if self.started_at is None:
            return None
        end = self.finished_at or (now if self.status is ExecutionStatus.RUNNING else None)
        return None if end is None else (end - self.started_at).total_seconds()


@dataclass(frozen=True)
class ExecutionFilter:
    """The OGC job-list filters, already parsed and validated."""

    service_ids: tuple[str, ...] = ()
    statuses: tuple[ExecutionStatus, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    limit: int = 10
    offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
