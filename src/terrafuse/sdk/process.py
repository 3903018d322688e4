"""Processes: a service configured with inputs, options and a schedule, then executed.

Endpoints (``~`` is ``/organisations/{organisation_id}``): ``~/processes`` (POST),
``~/processes/{id}`` (GET, PATCH, DELETE), ``/execute``, ``/stop``, ``/copy``, ``/executions``.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from terrafuse.sdk.configuration import Dispatcher, Input, Option, encode_value
from terrafuse.sdk.constants import RUN_TYPES, compatible_file_types
from terrafuse.sdk.data import Data
from terrafuse.sdk.errors import ModelError
from terrafuse.sdk.execution import Execution, wait_for_executions
from terrafuse.sdk.model import Model, find_first, parse_datetime
from terrafuse.sdk.session import Session
from terrafuse.sdk.timing import Deadline, poll_until

__all__ = ["SCHEDULE_FIELDS", "Process"]

SCHEDULE_FIELDS = (
    "run_type",
    "repeat_count",
    "repeat_start",
    "repeat_end",
    "repeat_gap",
    "repeat_offset",
    "output_storage_period",
)
"""The schedule's fields; with ``name`` they may change after creation (while not executing)."""
_CHANGEABLE = frozenset({"name", *SCHEDULE_FIELDS})
_UNSET: Any = object()
# An execution counts as "the next one" when it started no earlier than this before the time the
# process was due to run (the server stamps both from the same clock, at the same moment).
_START_TOLERANCE = timedelta(seconds=1)


class Process(Model):
    """A process: a service with its inputs, options and schedule, ready to execute.

    ``organisation.new_process(name, service)`` gives a template, kept on this machine until
    ``create()`` validates and stores it (and prices it: ``price``, in credits per execution).
    ``execute()`` runs it; ``executions`` lists its runs, newest first.
    Endpoint: ``~/processes/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    ssd_id: str
    service_id: str
    name: str
    chains: Any
    run_type: str
    repeat_count: int
    repeat_start: datetime
    repeat_end: datetime | None
    repeat_gap: Any
    repeat_offset: Any
    process_status: str
    process_status_at: datetime
    process_status_changed_by: str | None
    output_storage_period: int | None
    test_run: bool
    price: Decimal
    deletable: bool | None
    has_executions: bool
    non_aggregator_count: int | None
    aggregator_count: int | None

    def __init__(
        self, session: Session, values: Mapping[str, Any], available_dispatchers: list[Any] | None = None
    ) -> None:
        super().__init__(session, values)
        available = available_dispatchers
        if available is None:
            available = list(values.get("available_dispatchers") or ())
        object.__setattr__(self, "_available", [dict(d) for d in available])

    # -- state ----------------------------------------------------------------------------
    @property
    def persisted(self) -> bool:
        """Whether the process is stored on the platform (False for a template)."""
        return "id" in self._raw and "created_at" in self._raw

    @property
    def _org(self) -> str:
        return f"organisations/{self._require('organisation_id')}"

    @property
    def _path(self) -> str:
        if not self.persisted:
            raise ModelError("this process is a template: call create() first")
        return f"{self._org}/processes/{self._raw['id']}"

    def get(self) -> Process:
        """Reload the process (``GET ~/processes/{id}``); itself."""
        model, _ = self._session.model("GET", self._path)
        self._load(model)
        return self

    # -- configuration ----------------------------------------------------------------------
    @property
    def options(self) -> Iterator[Option]:
        """The options, with Python values (see :class:`~terrafuse.sdk.configuration.Option`)."""
        return (Option(self._session, o) for o in list(self._raw.get("options") or ()))

    @property
    def inputs(self) -> Iterator[Input]:
        """The numbered inputs, with the ids of the data items bound to them."""
        return (Input(self._session, i) for i in list(self._raw.get("inputs") or ()))

    @property
    def dispatchers(self) -> Iterator[Dispatcher]:
        """The dispatchers added to the process."""
        return (Dispatcher(self._session, d) for d in list(self._raw.get("dispatchers") or ()))

    @property
    def available_dispatchers(self) -> Iterator[Dispatcher]:
        """The dispatchers the platform offers for this process (from its template)."""
        return (Dispatcher(self._session, d) for d in list(self._available))

    def update(
        self,
        input_number: int | None = None,
        input: Input | None = None,
        data: Data | str | None = None,
        option_name: str | None = None,
        option: Option | None = None,
        value: Any = _UNSET,
        coerce_value: bool = False,
        dispatcher_number: int | None = None,
        dispatch_intermediate: bool | None = None,
        **fields: Any,
    ) -> Process:
        """Change the process; itself.

        * an input: ``update(input_number=1, data=region)`` or ``update(input=input, data=region)``;
        * an option: ``update(option_name='latest_date', value=False)`` or
          ``update(option=option, value=...)`` (``coerce_value=True`` parses text values);
        * a dispatcher's option: ``update(dispatcher_number=1, option_name=..., value=...)``;
        * the name and schedule: ``update(name=..., run_type=..., repeat_count=..., repeat_start=...)``.

        A template changes here only (``create`` sends it); a stored process is changed on the
        platform (``PATCH ~/processes/{id}``), where only the name and schedule may change, and
        not while it executes. Values are checked before anything is sent.
        """
        unknown = set(fields) - _CHANGEABLE
        if unknown:
            raise ModelError(
                f"update cannot change {sorted(unknown)}; it takes inputs, options, dispatchers "
                f"and {sorted(_CHANGEABLE)}"
            )
        if "run_type" in fields and fields["run_type"] not in RUN_TYPES:
            raise ModelError(f"run_type must be one of {list(RUN_TYPES)}, not {fields['run_type']!r}")
        if value is not _UNSET and option_name is None and option is None:
            raise ModelError("value= needs option_name= or option= to say which option it is for")
        wants_input = input_number is not None or input is not None
        wants_option = option_name is not None or option is not None
        if self.persisted:
            if wants_input or wants_option or dispatcher_number is not None:
                raise ModelError(
                    "the inputs, options and dispatchers of a created process are fixed; "
                    "use process.copy(name) to make a changed copy"
                )
            return self._patch(fields)
        raw = _copy.deepcopy(self._raw)
        if wants_input:
            self._bind_input(raw, input.input if input is not None else input_number, data)
        elif data is not None:
            raise ModelError("data= needs input_number= or input= to say which input it is for")
        if dispatcher_number is not None:
            self._update_dispatcher(
                raw, dispatcher_number, option_name, value, coerce_value, dispatch_intermediate
            )
        elif wants_option:
            name = option.name if option is not None else str(option_name)
            if value is _UNSET:
                raise ModelError(f"update(option_name={name!r}) needs value=")
            self._set_option(raw.get("options") or [], name, value, coerce_value)
        raw.update(fields)
        self._load(raw)
        return self

    def _patch(self, fields: Mapping[str, Any]) -> Process:
        if not fields:
            raise ModelError("update needs something to change, e.g. update(name='New name')")
        if self._raw.get("process_status") == "execute":
            raise ModelError("the process is executing: stop() it before changing it")
        body = {f"Process[{name}]": value for name, value in fields.items()}
        model, _ = self._session.model("PATCH", self._path, body=body)
        self._load(model)
        return self

    def _bind_input(self, raw: dict[str, Any], number: int | None, data: Data | str | None) -> None:
        entries = raw.get("inputs") or []
        entry = next((e for e in entries if e.get("input") == number), None)
        if entry is None:
            numbers = [e.get("input") for e in entries]
            raise ModelError(f"the process has no input {number}; its inputs are {numbers}")
        if data is None:
            raise ModelError(f"update(input_number={number}) needs data=")
        if isinstance(data, Data):
            accepted = compatible_file_types(str(entry.get("file_type")))
            files = list(data.files)
            if not files:
                raise ModelError(f"data {data.name!r} has no files yet")
            for file in files:
                if not file.analysed:
                    raise ModelError(
                        f"data {data.name!r} is still being uploaded or analysed: "
                        "wait with data.create_complete(wait=True)"
                    )
                if not file._value("publishable"):
                    reason = file.failure or "not usable"
                    raise ModelError(f"file {file.file_name!r} of {data.name!r} cannot be used: {reason}")
            if files[0].file_type not in accepted:
                wanted, held = entry.get("file_type"), files[0].file_type
                raise ModelError(f"input {number} takes {wanted} data; {data.name!r} holds {held}")
            entry["id"] = data.id
        else:
            entry["id"] = str(data)

    def _set_option(self, entries: list[dict[str, Any]], name: str, value: Any, coerce: bool) -> None:
        entry = next((e for e in entries if e.get("name") == name), None)
        if entry is None:
            raise ModelError(
                f"there is no option {name!r}; the options are {[e.get('name') for e in entries]}"
            )
        entry["value"] = encode_value(Option(self._session, entry), value, coerce)

    def _update_dispatcher(
        self,
        raw: dict[str, Any],
        number: int,
        option_name: str | None,
        value: Any,
        coerce: bool,
        dispatch_intermediate: bool | None,
    ) -> None:
        dispatchers = raw.get("dispatchers") or []
        if not 1 <= number <= len(dispatchers):
            raise ModelError(f"there is no dispatcher {number}: the process has {len(dispatchers)}")
        dispatcher = dispatchers[number - 1]
        if dispatch_intermediate is not None:
            dispatcher["dispatch_intermediate"] = bool(dispatch_intermediate)
        if option_name is not None:
            if value is _UNSET:
                raise ModelError(f"update(option_name={option_name!r}) needs value=")
            self._set_option(dispatcher.get("options") or [], option_name, value, coerce)

    def add_dispatcher(self, number: int | None = None, name: str | None = None) -> Process:
        """Add an available dispatcher, by its number (from 1) or its name; itself."""
        if self.persisted:
            raise ModelError("the dispatchers of a created process are fixed; use process.copy(name)")
        available = self._available
        if number is not None:
            if not 1 <= number <= len(available):
                raise ModelError(
                    f"there is no available dispatcher {number}: the platform offers {len(available)}"
                )
            chosen = available[number - 1]
        else:
            chosen = next((d for d in available if d.get("name") == name), None)
            if chosen is None:
                raise ModelError(
                    f"no dispatcher is called {name!r}; available: {[d.get('name') for d in available]}"
                )
        raw = _copy.deepcopy(self._raw)
        raw["dispatchers"] = [*(raw.get("dispatchers") or []), _copy.deepcopy(chosen)]
        self._load(raw)
        return self

    def remove_dispatcher(self, number: int) -> Process:
        """Remove the dispatcher number ``number`` (from 1) of those added; itself."""
        if self.persisted:
            raise ModelError("the dispatchers of a created process are fixed; use process.copy(name)")
        raw = _copy.deepcopy(self._raw)
        dispatchers = list(raw.get("dispatchers") or [])
        if not 1 <= number <= len(dispatchers):
            raise ModelError(f"there is no dispatcher {number}: the process has {len(dispatchers)}")
        del dispatchers[number - 1]
        raw["dispatchers"] = dispatchers
        self._load(raw)
        return self

    # -- life cycle -----------------------------------------------------------------------
    def create(self, **fields: Any) -> Process:
        """Validate, price and store the template (``POST ~/processes``); itself.

        ``fields`` are applied first, as with ``update``. Raises ``BadRequestError`` with the
        platform's reason when an input or option is missing or wrong.
        """
        if self.persisted:
            raise ModelError(f"process {self._raw.get('name')!r} is already created")
        if fields:
            self.update(**fields)
        raw = self._raw
        body: dict[str, Any] = {
            f"Process[{key}]": raw.get(key)
            for key in ("name", "service_id", "ssd_id", *SCHEDULE_FIELDS)
            if key in raw
        }
        body["Process[inputs]"] = [
            {"input": e.get("input"), "id": e["id"], "ssd_id": e.get("ssd_id")}
            for e in raw.get("inputs") or []
            if e.get("id") is not None
        ]
        body["Process[options]"] = [
            {"name": o.get("name"), "value": o.get("value")} for o in raw.get("options") or []
        ]
        body["Process[dispatchers]"] = list(raw.get("dispatchers") or [])
        model, _ = self._session.model("POST", f"{self._org}/processes", body=body)
        self._load(model)
        return self

    def copy(self, name: str) -> Process:
        """A template with this process's service, inputs, options and schedule, named ``name``
        (``GET ~/processes/{id}/copy``); change it with ``update``, then ``create`` it."""
        model, extras = self._session.model("GET", f"{self._path}/copy")
        template = Process(self._session, {**model, "name": name}, list(extras.get("dispatchers") or ()))
        return template

    def execute(self, wait: bool = False, timeout: float | None = None) -> Process:
        """Run the process now, or start its schedule (``POST ~/processes/{id}/execute``); itself.

        Every execution costs ``price`` credits. With ``wait``, blocks until the next execution
        (or group of executions) has started and ended, showing progress, then raises
        ``ExecutionFailedError`` if any failed; ``timeout`` (default the session's
        ``wait_timeout``) bounds the whole wait.
        """
        model, _ = self._session.model("POST", f"{self._path}/execute")
        self._load(model)
        if wait:
            deadline = self._deadline(timeout, f"process {self._value('name')!r} to execute")
            execution = self._next_execution(deadline)
            group = list(self._group(execution))
            wait_for_executions(self._session, group, deadline)
            self.get()
        return self

    def _deadline(self, timeout: float | None, what: str) -> Deadline:
        limit = self._session.options.wait_timeout if timeout is None else timeout
        return Deadline(self._session.clock, limit, what)

    def wait_for_next_execution(self, timeout: float | None = None) -> Execution:
        """Wait until the process's next execution (with its whole group) has started; it.

        Returns at once when it already has. Raises ``ModelError`` if the process is not
        executing, and ``WaitTimeoutError`` after ``timeout`` seconds (default the session's
        ``wait_timeout``). A schedule's next run may be far off: give a timeout that fits.
        """
        return self._next_execution(self._deadline(timeout, f"the next execution of {self._value('name')!r}"))

    def _next_execution(self, deadline: Deadline) -> Execution:
        self.get()
        due = parse_datetime(self._raw.get("repeat_start"))

        def check() -> Execution | None:
            started = [
                (when, e)
                for e in self._raw.get("executions") or ()
                if (when := parse_datetime(e.get("started_at"))) is not None
            ]
            when, newest = max(started, key=lambda pair: pair[0], default=(None, None))
            if when is not None and newest is not None and (due is None or when >= due - _START_TOLERANCE):
                group_id, count = newest.get("group_id"), newest.get("group_count")
                # A group counts once all its members are listed (the aggregator included).
                if not (group_id and count and sum(1 for _ in self._members(group_id)) < int(count)):
                    model, _ = self._session.model(
                        "GET", f"{self._org}/process_executions/{newest['process_execution_id']}"
                    )
                    return Execution(self._session, model)
            elif self._raw.get("process_status") != "execute":
                raise ModelError(f"process {self._raw.get('name')!r} is not executing: call execute() first")
            self.get()
            return None

        return poll_until(check, self._session.clock, deadline, self._session.options.poll_interval)

    def _members(self, group_id: str) -> Iterator[dict[str, Any]]:
        session: Session = self._session
        return session.pages(f"{self._path}/executions", {"filter[group_id__eq]": group_id, "reverse": True})

    def _group(self, execution: Execution) -> Iterator[Execution]:
        group_id = execution._value("group_id")
        if not group_id:
            return iter([execution])
        return (Execution(self._session, values) for values in self._members(group_id))

    @property
    def executions(self) -> Iterator[Execution]:
        """The process's executions, newest first (``GET ~/processes/{id}/executions``), lazily."""
        pages = self._session.pages(f"{self._path}/executions", {"reverse": True})
        return (Execution(self._session, values) for values in pages)

    def find_executions(
        self, id: str | None = None, group_id: str | None = None
    ) -> tuple[Execution | None, Iterator[Execution]]:
        """``(first match or None, iterator over all matches)`` among the executions, by ``id``
        or ``group_id`` (``GET ~/processes/{id}/executions``), newest first."""
        params: dict[str, Any] = {"reverse": True}
        if id is not None:
            params["filter[id__eq]"] = id
        if group_id is not None:
            params["filter[group_id__eq]"] = group_id
        pages = self._session.pages(f"{self._path}/executions", params)
        return find_first(Execution(self._session, values) for values in pages)

    def stop(self) -> Process:
        """Stop the schedule and abort running executions (``POST ~/processes/{id}/stop``); itself."""
        model, _ = self._session.model("POST", f"{self._path}/stop")
        self._load(model)
        return self

    def delete(self) -> None:
        """Stop the process, then delete it with its executions and their outputs
        (``DELETE ~/processes/{id}``)."""
        self._session.request("DELETE", self._path)
