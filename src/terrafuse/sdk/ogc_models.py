"""Typed OGC API - Processes documents: links, process summaries and descriptions, job status.

Field names are Python's (``job_id``); the wire names (``jobID``) are aliases. Unknown members
are kept (``model_extra``), since servers add their own. Descriptions in the pre-1.0 style
(inputs and outputs as arrays with ``id``) are read into the 1.0 style (maps keyed by id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FINISHED", "Link", "ProcessDescription", "ProcessSummary", "StatusInfo"]

FINISHED = frozenset({"successful", "failed", "dismissed"})
"""Job statuses that do not change any more."""


class _Document(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Link(_Document):
    """A link of an OGC document (RFC 8288 in JSON)."""

    href: str
    rel: str | None = None
    type: str | None = None
    title: str | None = None


class ProcessSummary(_Document):
    """An entry of ``GET /processes``."""

    id: str
    version: str | None = None
    title: str | None = None
    description: str | None = None
    keywords: list[str] = Field(default_factory=list)
    job_control_options: list[str] = Field(default_factory=list, alias="jobControlOptions")
    output_transmission: list[str] = Field(default_factory=list, alias="outputTransmission")
    links: list[Link] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _text_version(cls, value: Any) -> Any:
        return None if value is None else str(value)


def _keyed(value: Any) -> Any:
    """A 1.0 map of inputs/outputs from either a map or a pre-1.0 array of ``{"id": ...}``."""
    if isinstance(value, list):
        return {str(item.get("id")): item for item in value if isinstance(item, dict)}
    return value or {}


class ProcessDescription(ProcessSummary):
    """``GET /processes/{id}``: the summary plus the inputs and outputs with their schemas."""

    inputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _keyed(cls, value: Any) -> Any:
        return _keyed(value)

    def required_inputs(self) -> list[str]:
        """The ids of the inputs that must be given (``minOccurs`` above 0, 1 by default)."""
        return [name for name, spec in self.inputs.items() if int(spec.get("minOccurs", 1)) > 0]


class StatusInfo(_Document):
    """A job's status (``GET /jobs/{id}``)."""

    job_id: str = Field(alias="jobID")
    status: str
    type: str | None = None
    process_id: str | None = Field(default=None, alias="processID")
    message: str | None = None
    created: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    updated: datetime | None = None
    progress: int | None = None
    links: list[Link] = Field(default_factory=list)

    @field_validator("progress", mode="before")
    @classmethod
    def _whole_progress(cls, value: Any) -> Any:
        return None if value is None else round(float(value))

    def link(self, rel: str) -> Link | None:
        """The first link with relation ``rel`` (or ending with ``/rel``, for OGC relation URIs)."""
        for link in self.links:
            if link.rel == rel or (link.rel or "").endswith(f"/{rel}"):
                return link
        return None
