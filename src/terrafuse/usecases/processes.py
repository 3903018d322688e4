"""Process use cases: templates, create (validate + price), read, update, execute, stop, delete, copy.

A process binds a catalogue service to the organisation's data (numbered file inputs), typed
options and a schedule. ``create`` validates everything and computes the price of one run over
the region (the price of every firing; a sliced run shares it between its executions). After
creation only the name and the schedule change. ``execute`` fires a run-once process at once
and arms a scheduled one; firings are in ``terrafuse.usecases.firings``.

Reading needs ``view``; everything else ``execute`` (or ``manage``). Another organisation's
processes answer exactly as processes that do not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from terrafuse.core.accounts import Principal, Privilege
from terrafuse.core.catalogue import PlatformFace
from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.data import DataFile
from terrafuse.core.listing import ListQuery
from terrafuse.core.processes import (
    MUTABLE_AFTER_CREATE,
    RUN_ONCE,
    BoundInput,
    Origin,
    Process,
    ProcessStatus,
)
from terrafuse.errors import Conflict, InvalidInput, NotFound
from terrafuse.services.base import Service
from terrafuse.usecases.accounts import require, require_write
from terrafuse.usecases.catalogue import face, find_service

# Writable fields of a process body, by name (see ``api.fusion.wire.Shape``).
CREATE_FIELDS = {
    "name": "value",
    "service_id": "value",
    "ssd_id": "value",
    "inputs": "list",
    "options": "list",
    "run_type": "value",
    "repeat_count": "value",
    "repeat_start": "value",
    "repeat_end": "value",
    "repeat_gap": "any",
    "repeat_offset": "any",
    "output_storage_period": "value",
}
# SDKs send the whole process back on an update: inputs and options are read too, and refused
# only when they differ from the stored ones.
PATCH_FIELDS = {
    name: shape
    for name, shape in CREATE_FIELDS.items()
    if name in MUTABLE_AFTER_CREATE or name in ("inputs", "options")
}
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Template:
    """An unsaved process: what ``processes/new`` and ``processes/{id}/copy`` answer."""

    organisation_id: str
    service: Service
    name: str | None
    options: dict[str, str | None]
    inputs: list[BoundInput]
    schedule: Any  # terrafuse.core.schedules.Schedule


def _service(platform: Any, process: Process) -> Service:
    registry = platform.rt.registry
    if process.origin is Origin.OGC:
        return registry.get(process.service_key)
    try:
        return find_service(registry, process.service_id)
    except NotFound:
        # A newer version replaced the one the process was made with: the latest of its ssd.
        return find_service(registry, process.ssd_id)


def service_of(platform: Any, process: Process) -> Service:
    """The catalogue service a process runs."""
    return _service(platform, process)


def _process(platform: Any, organisation_id: str, process_id: str) -> Process:
    found = platform.rt.processes.get(organisation_id, process_id)
    if found is None:
        raise NotFound(f"no process with id {process_id!r}")
    return found


def _default_storage_days(principal: Principal) -> int:
    """The signed-in user's default output storage period (read with the request's credentials)."""
    user = principal.user
    return int(user.default_output_storage_period) if user is not None else 30


# -- templates ----------------------------------------------------------------------------------
def template(platform: Any, principal: Principal, organisation_id: str, service_id: str | None) -> Template:
    """The template of a new process of ``service_id`` (options at their defaults, inputs unbound)."""
    from terrafuse.core.options import encode_option
    from terrafuse.core.schedules import defaults

    require(principal, organisation_id, Privilege.VIEW)
    if not service_id:
        raise InvalidInput("service_id is required (the id of the service to make a process of)")
    service = find_service(platform.rt.registry, service_id)
    f = face(service)
    options = {o.name: encode_option(o, o.default) for o in f.options}
    schedule = defaults(utcnow(), _default_storage_days(principal))
    return Template(organisation_id, service, None, options, [], schedule)


def copy_template(platform: Any, principal: Principal, organisation_id: str, process_id: str) -> Template:
    """A template with the process's service, inputs, options and schedule (v2 ``copy``)."""
    from terrafuse.core.schedules import Schedule, defaults

    require(principal, organisation_id, Privilege.VIEW)
    process = _process(platform, organisation_id, process_id)
    schedule: Schedule = defaults(utcnow(), process.output_storage_period)
    return Template(
        organisation_id,
        _service(platform, process),
        process.name,
        dict(process.options),
        list(process.inputs),
        schedule,
    )


# -- create -------------------------------------------------------------------------------------
def create_process(
    platform: Any, principal: Principal, organisation_id: str, fields: Mapping[str, Any]
) -> Process:
    """Validate, price and store a new process (nothing is stored when anything is invalid)."""
    require_write(principal, organisation_id)
    service_id = fields.get("service_id") or fields.get("ssd_id")
    if not service_id:
        raise InvalidInput("Process[service_id] is required")
    service = find_service(platform.rt.registry, str(service_id))
    f = face(service)
    name = _check_name(fields.get("name"))
    inputs = _check_inputs(platform, organisation_id, f, fields.get("inputs"))
    options = _check_options(f, fields.get("options"))
    now = utcnow()
    schedule = _schedule_from(fields, None, now, _default_storage_days(principal))
    region = region_of(platform, organisation_id, f, inputs)
    area, slices = _measure(platform, region, f)
    price = f.price.total(area)

    process = Process(
        id=new_id(),
        organisation_id=organisation_id,
        service_key=f.key,
        service_id=f.service_id,
        ssd_id=f.ssd_id,
        name=name,
        inputs=inputs,
        options=options,
        **schedule_columns(schedule),
        process_status=ProcessStatus.STOP,
        process_status_at=now,
        price=price,
        area_km2=area,
        slices=slices,
        origin=Origin.PLATFORM,
        created_at=now,
        updated_at=now,
        created_by=principal.user_id,
    )
    return platform.rt.processes.add(process)


def ogc_process(
    platform: Any, principal: Principal, organisation_id: str, service: Service, inputs: Mapping[str, Any]
) -> Process:
    """The run-once process an OGC execute creates (not stored): its inputs are the job's inputs.

    Catalogue services are priced as processes are, over the ``region`` input; services outside
    the catalogue are free. The process is born executing: its one firing is the job.
    """
    from terrafuse.core.schedules import defaults
    from terrafuse.core.slicing import region_area_km2

    f = face(service)
    area = 0.0
    if service.description.platform is not None and "region" in inputs:
        from terrafuse.services.platform.common import parse_region

        area = float(region_area_km2(parse_region(inputs)))
    now = utcnow()
    schedule = defaults(now, _default_storage_days(principal))
    return Process(
        id=new_id(),
        organisation_id=organisation_id,
        service_key=f.key,
        service_id=f.service_id,
        ssd_id=f.ssd_id,
        name=f"{f.name} (OGC job)",
        inputs=[],
        options={},
        **schedule_columns(schedule),
        process_status=ProcessStatus.EXECUTE,
        process_status_at=now,
        process_status_changed_by=principal.user_id,
        price=f.price.total(area),
        area_km2=area,
        slices=1,
        origin=Origin.OGC,
        created_at=now,
        updated_at=now,
        created_by=principal.user_id,
        ogc_inputs=dict(inputs),
    )


def _check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("Process[name] is required: a non-empty text")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"Process[name] is longer than {MAX_NAME_LENGTH} characters")
    return value.strip()


def _check_inputs(platform: Any, organisation_id: str, f: PlatformFace, given: Any) -> list[BoundInput]:
    """Every file input bound to an analysed, publishable data item of an accepted type."""
    from terrafuse.core.options import input_accepts

    bound: dict[int, str] = {}
    for item in given or []:
        if not isinstance(item, Mapping):
            raise InvalidInput("Process[inputs] must be a list of input objects")
        number, data_id = item.get("input"), item.get("id") or item.get("data_id")
        if data_id is None:
            continue
        try:
            bound[int(number)] = str(data_id)
        except (TypeError, ValueError):
            raise InvalidInput(f"input number {number!r} is not a whole number") from None
    result: list[BoundInput] = []
    for spec in f.inputs:
        data_id = bound.pop(spec.number, None)
        if data_id is None:
            raise InvalidInput(
                f"input {spec.number} ({spec.title}) needs a data item of type {spec.file_type}"
            )
        data = platform.data.store.get(organisation_id, data_id)
        if data is None:
            raise InvalidInput(f"input {spec.number}: no data item with id {data_id!r}")
        files: list[DataFile] = platform.data.store.files(organisation_id, data_id)
        if not files:
            raise InvalidInput(f"input {spec.number}: data item {data.name!r} has no files")
        for file in files:
            if file.result is None:
                raise InvalidInput(
                    f"input {spec.number}: file {file.file_name!r} is still being uploaded or analysed"
                )
            if not file.result.publishable:
                reason = file.result.error or "not usable"
                raise InvalidInput(f"input {spec.number}: file {file.file_name!r} cannot be used ({reason})")
        if not input_accepts(spec.file_type, files[0].file_type):
            raise InvalidInput(
                f"input {spec.number} takes {spec.file_type} data; {data.name!r} holds {files[0].file_type}"
            )
        result.append(BoundInput(spec.number, data_id))
    if bound:
        raise InvalidInput(f"the service has no input number {sorted(bound)[0]}")
    return result


def _check_options(f: PlatformFace, given: Any) -> dict[str, str | None]:
    """The options' wire values: given ones decoded and checked, others at their defaults."""
    from terrafuse.core.options import check_option, decode_option, encode_option

    values: dict[str, str | None] = {o.name: encode_option(o, o.default) for o in f.options}
    for item in given or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise InvalidInput("Process[options] must be a list of objects with a name and a value")
        spec = f.option(item["name"])
        if spec is None:
            continue  # an option of another version of the service: ignored like unknown fields
        raw = item.get("value")
        values[spec.name] = None if raw is None else str(raw)
    for spec in f.options:
        value = decode_option(spec, values[spec.name])
        check_option(spec, value)
        values[spec.name] = encode_option(spec, value)
    return values


def _schedule_from(fields: Mapping[str, Any], current: Any, now: datetime, storage_days: int) -> Any:
    """The schedule the fields describe, over ``current`` (or the defaults), validated."""
    from terrafuse.core.schedules import validate_schedule

    schedule = _merged_schedule(fields, current, now, storage_days)
    validate_schedule(schedule, now)
    return schedule


def _merged_schedule(fields: Mapping[str, Any], current: Any, now: datetime, storage_days: int) -> Any:
    """The fields laid over ``current`` (or the defaults); each field checked, the whole not."""
    from terrafuse.core.schedules import defaults, parse_repeat_gap, parse_repeat_offset

    base = current or defaults(now, storage_days)
    changes: dict[str, Any] = {}
    if fields.get("run_type") is not None:
        changes["run_type"] = str(fields["run_type"])
    if fields.get("repeat_count") is not None:
        changes["repeat_count"] = _whole(fields["repeat_count"], "repeat_count")
    if fields.get("repeat_start") is not None:
        changes["repeat_start"] = _when(fields["repeat_start"], "repeat_start")
    if "repeat_end" in fields:
        changes["repeat_end"] = (
            None if fields["repeat_end"] is None else _when(fields["repeat_end"], "repeat_end")
        )
    if "repeat_gap" in fields:
        changes["repeat_gap"] = (
            None if fields["repeat_gap"] is None else parse_repeat_gap(fields["repeat_gap"])
        )
    if "repeat_offset" in fields:
        offset = fields["repeat_offset"]
        changes["repeat_offset"] = None if offset is None else parse_repeat_offset(offset)
    if fields.get("output_storage_period") is not None:
        changes["output_storage_period"] = _whole(fields["output_storage_period"], "output_storage_period")
    return replace(base, **changes)


def schedule_columns(schedule: Any) -> dict[str, Any]:
    """A schedule as the process's stored fields (gap and offset as their wire text)."""
    from terrafuse.core.schedules import encode_repeat_gap, encode_repeat_offset

    return {
        "run_type": schedule.run_type,
        "repeat_count": schedule.repeat_count,
        "repeat_start": schedule.repeat_start,
        "repeat_end": schedule.repeat_end,
        "repeat_gap": encode_repeat_gap(schedule.repeat_gap),
        "repeat_offset": encode_repeat_offset(schedule.repeat_offset),
        "output_storage_period": schedule.output_storage_period,
    }


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a whole number")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"{name} must be a whole number, not {value!r}") from None
    if number != number.to_integral_value():
        raise InvalidInput(f"{name} must be a whole number, not {value!r}")
    return int(number)


def _when(value: Any, name: str) -> datetime:
    from terrafuse.core.clock import parse_datetime

    try:
        return parse_datetime(str(value))
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO-8601 date and time, not {value!r}") from None


# -- regions --------------------------------------------------------------------------------------
def region_of(platform: Any, organisation_id: str, f: PlatformFace, inputs: Sequence[BoundInput]) -> Any:
    """The region (shapely geometry in WGS84) of the process's first vector input."""
    from terrafuse.analysis.region import read_region
    from terrafuse.usecases.file_analysis import readable_copy

    for spec, bound in zip(f.inputs, inputs, strict=False):
        files = platform.data.store.files(organisation_id, bound.data_id)
        if not files:
            continue
        file = files[0]
        with readable_copy(platform.rt.storage, file.object_key, platform.rt.settings.scratch_dir) as path:
            try:
                return read_region(path, file.file_type)
            except InvalidInput as exc:
                raise InvalidInput(f"input {spec.number}: {exc.detail}") from None
    raise InvalidInput("the process has no region input")


def _measure(platform: Any, region: Any, f: PlatformFace) -> tuple[float, int]:
    from terrafuse.core.slicing import region_area_km2, slice_region

    area = float(region_area_km2(region))
    slices = len(slice_region(region, platform.rt.settings.slice_max_km2)) if f.sliced else 1
    return area, slices


# -- reads and changes ----------------------------------------------------------------------------
def list_processes(
    platform: Any, principal: Principal, organisation_id: str, query: ListQuery
) -> tuple[list[Process], dict[str, Any] | None]:
    """A page of the organisation's processes (and the next page's cursor)."""
    require(principal, organisation_id, Privilege.VIEW)
    return platform.rt.processes.page(organisation_id, query)


def get_process(platform: Any, principal: Principal, organisation_id: str, process_id: str) -> Process:
    """One of the organisation's processes."""
    require(principal, organisation_id, Privilege.VIEW)
    return _process(platform, organisation_id, process_id)


def update_process(
    platform: Any, principal: Principal, organisation_id: str, process_id: str, fields: Mapping[str, Any]
) -> Process:
    """Rename or reschedule a process (the schedule only while it is not executing)."""

    require_write(principal, organisation_id)
    process = _process(platform, organisation_id, process_id)
    now = utcnow()
    changes: dict[str, Any] = {}
    if fields.get("name") is not None and fields["name"] != process.name:
        changes["name"] = _check_name(fields["name"])
    from terrafuse.core.schedules import validate_schedule
    from terrafuse.usecases.firings import schedule_of

    _refuse_changed_configuration(platform, process, fields)
    current = schedule_of(process, cursor=False)
    schedule_fields = {k: v for k, v in fields.items() if k in MUTABLE_AFTER_CREATE and k != "name"}
    if schedule_fields:
        # The SDK sends every field back on a rename; an unchanged schedule (perhaps one whose
        # start has passed since it was made) is not re-validated, or old processes could never
        # be renamed.
        schedule = _merged_schedule(schedule_fields, current, now, process.output_storage_period)
        if schedule != current:
            if process.executing:
                raise Conflict("the schedule cannot change while the process is executing; stop it first")
            validate_schedule(schedule, now)
            changes.update(schedule_columns(schedule))
    if changes:
        changes["updated_at"] = now
        platform.rt.processes.update(process.id, changes)
    return _process(platform, organisation_id, process_id)


def _refuse_changed_configuration(platform: Any, process: Process, fields: Mapping[str, Any]) -> None:
    """Inputs and options are fixed once a process exists: sent back unchanged is fine, changed is
    an error (rather than silently ignored)."""
    from terrafuse.core.options import decode_option, encode_option

    f = face(_service(platform, process))
    for item in fields.get("options") or []:
        spec = f.option(item.get("name")) if isinstance(item, Mapping) else None
        if spec is None:
            continue
        raw = item.get("value")
        try:
            sent = encode_option(spec, decode_option(spec, None if raw is None else str(raw)))
        except InvalidInput:
            sent = None if raw is None else str(raw)
        if sent != process.options.get(spec.name):
            raise InvalidInput(
                f"option {spec.name!r} cannot change once the process is created; copy the process "
                "to run it with other options"
            )
    bound = {b.input: b.data_id for b in process.inputs}
    for item in fields.get("inputs") or []:
        if not isinstance(item, Mapping):
            continue
        data_id = item.get("id") or item.get("data_id")
        if data_id is not None and str(data_id) != bound.get(_input_number(item.get("input"))):
            raise InvalidInput(
                f"input {item.get('input')} cannot change once the process is created; copy the "
                "process to run it over other data"
            )


def _input_number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def execute_process(platform: Any, principal: Principal, organisation_id: str, process_id: str) -> Process:
    """Start the process: a run-once process fires now, a scheduled one at its next occurrence.

    Refused while it is executing, and (for a run now) when the organisation has too few
    credits for its price.
    """
    from terrafuse.usecases.firings import arm, fire

    require_write(principal, organisation_id)
    process = _process(platform, organisation_id, process_id)
    if process.executing:
        raise Conflict("the process is already executing; stop it first")
    user_id = principal.user_id
    if process.run_type == RUN_ONCE:
        fire(platform, process, utcnow(), user_id)
    else:
        arm(platform, process, utcnow(), user_id)
    return _process(platform, organisation_id, process_id)


def stop_process(platform: Any, principal: Principal, organisation_id: str, process_id: str) -> Process:
    """Stop further firings and abort running executions (charging the part done)."""
    from terrafuse.usecases.firings import stop

    require_write(principal, organisation_id)
    process = _process(platform, organisation_id, process_id)
    stop(platform, process, principal.user_id)
    return _process(platform, organisation_id, process_id)


def delete_process(platform: Any, principal: Principal, organisation_id: str, process_id: str) -> Process:
    """Stop the process, delete its executions and their outputs, then the process itself."""
    from terrafuse.usecases.firings import delete_executions, stop

    require_write(principal, organisation_id)
    stop(platform, _process(platform, organisation_id, process_id), principal.user_id)
    # The reply shows the process as it was last: stopped, just before it went.
    process = _process(platform, organisation_id, process_id)
    from terrafuse.store.processes import process_execution_ids

    delete_executions(platform, process_execution_ids(platform.rt.db, process.id))
    platform.rt.processes.delete(process.id)
    return process


def in_use(platform: Any, data_id: str) -> bool:
    """Whether a process uses the data item (such data cannot be deleted)."""
    return bool(platform.rt.processes.using_data(data_id))
