"""Fusion wire shapes of services, processes, executions, components and logs.

Each ``*_model`` builds the ``model`` the Fusion SDK's marshmallow schemas load
(``fusion_platform.models.{service,process,process_execution,process_service_execution}``):
required keys present and non-null, UUIDs as text, timestamps with offsets, Decimals exact.
Notes on the wire (reference/fusion-api.md sections 4-6 and 9):

* a service's ``version`` is an Integer: the major part of the catalogue version;
* ``has_executions`` is the text ``"true"``/``"false"`` (valid for the 1.1 Boolean and 2.x String);
* an execution's ``started_at`` is when its process fired (its creation), so the SDK's
  ``wait_for_next_execution`` finds it as soon as it exists;
* templates omit (not null) an unbound input's ``id``;
* options carry ``title`` and ``description`` (the SDK prints them), datetime options a
  ``format=`` validation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from terrafuse.api.fusion.wire import OMIT
from terrafuse.core.catalogue import SSD_NAMESPACE, OptionSpec, PlatformFace
from terrafuse.core.executions import Execution, ExecutionStatus
from terrafuse.core.processes import BoundInput, Component, Process

PLATFORM_ORGANISATION_ID = str(uuid.uuid5(SSD_NAMESPACE, "organisation:terrafuse"))
"""The organisation that owns the built-in services (``Service.organisation_id``)."""
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(SSD_NAMESPACE, ":".join(parts)))


# -- services -------------------------------------------------------------------------------------
def service_model(f: PlatformFace) -> dict[str, Any]:
    """A ``Service`` model."""
    doc = f.documentation
    return {
        "id": f.service_id,
        "created_at": _EPOCH,
        "updated_at": _EPOCH,
        "organisation_id": PLATFORM_ORGANISATION_ID,
        "ssd_id": f.ssd_id,
        "version": int(f.version.split(".")[0]),
        "semantic_version": f.version,
        "approval_status": "approved",
        "featured": "true" if f.featured else None,
        "show_in_latest": True,
        "name": f.name,
        "aliases": list(f.aliases),
        "categories": list(f.categories),
        "keywords": list(f.keywords),
        "image_id": _uuid("image", f.key, f.version),
        "license_id": _uuid("license", "terrafuse-demo"),
        "definition": None,
        "group_aggregators": None,
        "actions": None,
        "urls": None,
        "cidrs": None,
        "organisations": None,
        "geographic_regions": None,
        "charge_expression_platform": _charge_expression(f),
        "charge_expression_owner": None,
        "documentation_summary": doc.summary,
        "documentation_description": doc.description,
        "documentation_assumptions": doc.assumptions,
        "documentation_performance": doc.performance,
        "documentation_actions": doc.actions,
        "documentation_inputs": list(doc.inputs) or [i.title for i in f.inputs],
        "documentation_outputs": list(doc.outputs),
        "documentation_options": list(doc.options) or [o.title for o in f.options],
        "chain": list(f.chain),
        "sliced": f.sliced,
    }


def _charge_expression(f: PlatformFace) -> str:
    p = f.price
    return f"max({p.minimum}, {p.base} + {p.per_km2} * area_km2 + {p.per_scene} * scenes)"


# -- processes ------------------------------------------------------------------------------------
def option_model(f: PlatformFace, spec: OptionSpec, value: str | None) -> dict[str, Any]:
    """One process option (``value`` is always text or null on the wire)."""
    from terrafuse.core.options import parse_validation

    rules = parse_validation(spec.validation)
    model: dict[str, Any] = {
        "ssd_id": f.ssd_id,
        "name": spec.name,
        "value": value,
        "required": spec.required,
        "data_type": spec.data_type.value,
        "validation": spec.validation,
        "mutually_exclusive": None,
        "advanced": spec.advanced,
        "title": spec.title,
        "description": spec.description,
    }
    if "values" in rules:
        model["constrained_values"] = rules["values"].split(",")
        model["constrained_names"] = rules.get("names", rules["values"]).split(",")
    return model


def input_model(f: PlatformFace, number: int, bound: BoundInput | None) -> dict[str, Any]:
    """One numbered input; an unbound one has no ``id`` (absent, not null)."""
    spec = next(i for i in f.inputs if i.number == number)
    return {
        "ssd_id": f.ssd_id,
        "input": spec.number,
        "file_type": spec.file_type,
        "resolution": None,
        "selectors": None,
        "id": bound.data_id if bound is not None else OMIT,
        "model": "Data",
        "change_trigger": False,
        "change_hash": None,
        "title": spec.title,
        "description": spec.description,
        "name": spec.name,
    }


def chains_model(f: PlatformFace) -> list[dict[str, Any]]:
    """The processing chain (one entry: the service, whose components are recorded per execution)."""
    return [
        {
            "ssd_id": f.ssd_id,
            "service_id": f.service_id,
            "inputs": None,
            "outputs": None,
            "options": None,
            "intermediate": False,
        }
    ]


def execution_status(execution: Execution) -> dict[str, Any]:
    """An entry of a process's embedded ``executions`` list."""
    return {
        "process_execution_id": execution.id,
        "group_id": execution.group_id,
        "group_index": execution.group_index,
        "group_count": execution.group_count,
        "job_status": _job_status(execution),
        "abort_reason": _abort_reason(execution),
        "exit_type": _exit_type(execution),
        "started_at": execution.created_at,
        "ended_at": execution.finished_at,
        "delete_warning_status": execution.delete_warning_status,
        "delete_expiry": execution.delete_expiry or execution.created_at,
        "notified": None,
    }


def process_model(
    process: Process, f: PlatformFace, executions: Sequence[Execution], deletable: bool
) -> dict[str, Any]:
    """A ``Process`` model with its embedded execution statuses (newest first)."""
    bound = {b.input: b for b in process.inputs}
    aggregators = sum(1 for e in executions if e.aggregator)
    return {
        "id": process.id,
        "created_at": process.created_at,
        "updated_at": process.updated_at,
        "organisation_id": process.organisation_id,
        "ssd_id": process.ssd_id,
        "service_id": process.service_id,
        "name": process.name,
        "inputs": [input_model(f, spec.number, bound.get(spec.number)) for spec in f.inputs],
        "options": [option_model(f, o, process.options.get(o.name)) for o in f.options],
        "chains": chains_model(f),
        "run_type": process.run_type,
        "repeat_count": process.repeat_count,
        "repeat_start": process.repeat_start,
        "repeat_end": process.repeat_end,
        "repeat_gap": process.repeat_gap,
        "repeat_offset": process.repeat_offset,
        "process_status": process.process_status.value,
        "process_status_at": process.process_status_at,
        "process_status_changed_by": process.process_status_changed_by,
        "output_storage_period": process.output_storage_period,
        "test_run": False,
        "dispatchers": [],
        "price": process.price,
        "deletable": "true" if deletable else "false",
        "has_executions": "true" if executions else "false",
        "has_executions_organisation_id": process.organisation_id,
        "executions": [execution_status(e) for e in executions],
        "non_aggregator_count": len(executions) - aggregators,
        "aggregator_count": aggregators,
        "area_km2": round(process.area_km2, 6),
        "slices": process.slices,
        "origin": process.origin.value,
        "service_key": process.service_key,
    }


def template_model(
    organisation_id: str,
    f: PlatformFace,
    name: str | None,
    options: Mapping[str, str | None],
    inputs: Sequence[BoundInput],
    schedule: Any,
) -> dict[str, Any]:
    """An unsaved process (``processes/new``, ``processes/{id}/copy``); loaded partially by the SDK."""
    from terrafuse.usecases.processes import schedule_columns

    bound = {b.input: b for b in inputs}
    return {
        "organisation_id": organisation_id,
        "ssd_id": f.ssd_id,
        "service_id": f.service_id,
        "name": name,
        "inputs": [input_model(f, spec.number, bound.get(spec.number)) for spec in f.inputs],
        "options": [option_model(f, o, options.get(o.name)) for o in f.options],
        "chains": chains_model(f),
        **schedule_columns(schedule),
        "test_run": False,
        "dispatchers": [],
    }


# -- executions, components, logs -----------------------------------------------------------------
def _job_status(execution: Execution) -> str:
    return execution.status.value


def _abort_reason(execution: Execution) -> str | None:
    if execution.status is ExecutionStatus.FAILED:
        return execution.message or "the execution failed"
    if execution.status is ExecutionStatus.DISMISSED:
        return execution.message or "the execution was stopped"
    return None


def _exit_type(execution: Execution) -> str | None:
    if execution.status is ExecutionStatus.SUCCESSFUL:
        return "success"
    if execution.status is ExecutionStatus.FAILED:
        return execution.error_code or "failed"
    if execution.status is ExecutionStatus.DISMISSED:
        return "stopped" if execution.stopped else "dismissed"
    return None


def execution_model(execution: Execution, options: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``ProcessExecution`` model; ``progress`` is 100 once it ended, whatever the outcome."""
    ended = execution.status.finished
    return {
        "id": execution.id,
        "created_at": execution.created_at,
        "updated_at": execution.updated_at,
        "organisation_id": execution.organisation_id,
        "process_id": execution.process_id,
        "group_id": execution.group_id,
        "group_index": execution.group_index,
        "group_count": execution.group_count,
        "options": [dict(o) for o in options],
        "chains": None,
        "started_at": execution.created_at,
        "ended_at": execution.finished_at,
        "stopped": execution.stopped,
        "abort": execution.status in (ExecutionStatus.FAILED, ExecutionStatus.DISMISSED),
        "abort_reason": _abort_reason(execution),
        "exit_type": _exit_type(execution),
        "success": execution.status is ExecutionStatus.SUCCESSFUL,
        "progress": 100 if ended else min(execution.progress, 99),
        "delete_expiry": execution.delete_expiry or execution.created_at,
        "delete_warning_status": execution.delete_warning_status,
        "deletable": "true" if ended else "false",
        "delete_protection": False,
        "status": execution.status.value,
        "aggregator": execution.aggregator,
        "price": execution.price,
        "run_started_at": execution.started_at,
    }


def component_model(component: Component, execution: Execution, service_id: str) -> dict[str, Any]:
    """A ``ProcessServiceExecution`` model (``inputs``/``outputs``: data ids)."""
    return {
        "id": component.id,
        "created_at": component.started_at,
        "updated_at": component.ended_at or component.started_at,
        "organisation_id": component.organisation_id,
        "process_execution_id": component.execution_id,
        "process_id": execution.process_id,
        "service_id": service_id,
        "image_id": _uuid("image", component.name),
        "chain_index": component.chain_index,
        "name": component.name,
        "started_at": component.started_at,
        "ended_at": component.ended_at,
        "runtime": None if component.runtime is None else round(component.runtime),
        "runtime_seconds": component.runtime,
        "architecture": "x86_64",
        "cpu": component.cpu if component.cpu is not None else 0,
        "gpu": None,
        "memory": component.memory if component.memory is not None else 0,
        "storage": None,
        "instance_type": "dask-worker",
        "actions": None,
        "options": None,
        "inputs": list(component.inputs),
        "outputs": list(component.outputs),
        "intermediate": False,
        "success": component.success,
        "metrics": None,
    }


def log_model(component_id: str, log_id: int, logged_at: datetime, message: str) -> dict[str, Any]:
    """A ``ProcessServiceExecutionLog`` model (its id derived from the stored line's number)."""
    return {
        "id": _uuid("log", component_id, str(log_id)),
        "created_at": logged_at,
        "updated_at": logged_at,
        "process_service_execution_id": component_id,
        "logged_at": logged_at,
        "message": message,
    }
