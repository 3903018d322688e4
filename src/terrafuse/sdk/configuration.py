"""A process's configuration: its options, inputs and dispatchers, and option values on the wire.

Option values travel as text (or null). Reading an option gives a Python value by its data type
(numeric: float, currency: Decimal, boolean: bool, datetime: an aware datetime, string and
constrained: str); setting one checks the value's type and range here, before anything is sent,
and encodes it back to the platform's text.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from terrafuse.sdk.constants import (
    DATA_TYPE_BOOLEAN,
    DATA_TYPE_CONSTRAINED,
    DATA_TYPE_CURRENCY,
    DATA_TYPE_DATETIME,
    DATA_TYPE_NUMERIC,
)
from terrafuse.sdk.errors import ModelError
from terrafuse.sdk.model import Model, parse_datetime
from terrafuse.sdk.session import Session

__all__ = ["Dispatcher", "Input", "Option", "decode_value", "encode_value", "parse_validation"]


def parse_validation(text: str | None) -> dict[str, str]:
    """The ``key=value`` items of a ``;``-separated validation string."""
    rules: dict[str, str] = {}
    for item in (text or "").split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            rules[key.strip()] = value.strip()
    return rules


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def decode_value(data_type: str, text: Any, validation: str | None) -> Any:
    """The Python value of an option's wire text (None stays None)."""
    if text is None:
        return None
    text = str(text)
    try:
        if data_type == DATA_TYPE_NUMERIC:
            return float(text)
        if data_type == DATA_TYPE_CURRENCY:
            return Decimal(text)
        if data_type == DATA_TYPE_BOOLEAN:
            return text.strip().lower() == "true"
        if data_type == DATA_TYPE_DATETIME:
            pattern = parse_validation(validation).get("format")
            if pattern:
                try:
                    return _as_utc(datetime.strptime(text, pattern))
                except ValueError:
                    pass
            return parse_datetime(text)
    except (ValueError, InvalidOperation):
        return text  # shown as sent rather than failing to read the process
    return text


def _number(option: Option, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ModelError(f"option {option.name!r} is {option.data_type}: give a number, not {value!r}")
    rules = parse_validation(option._value("validation"))
    for key, outside in (("min", operator.lt), ("max", operator.gt)):
        if key in rules:
            try:
                bound = Decimal(rules[key])
            except InvalidOperation:
                continue
            if outside(Decimal(str(value)), bound):
                raise ModelError(f"option {option.name!r} must be {key} {rules[key]}, not {value}")
    return value


def _coerce(option: Option, text: str) -> Any:
    """A value of the option's type parsed from text (for ``coerce_value=True``)."""
    data_type = option.data_type
    try:
        if data_type == DATA_TYPE_NUMERIC:
            return float(text)
        if data_type == DATA_TYPE_CURRENCY:
            return Decimal(text)
        if data_type == DATA_TYPE_BOOLEAN:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if data_type == DATA_TYPE_DATETIME:
            return decode_value(data_type, text, option._value("validation"))
    except (ValueError, InvalidOperation) as exc:
        raise ModelError(f"option {option.name!r} is {data_type}: cannot read {text!r} as one") from exc
    return text


def encode_value(option: Option, value: Any, coerce: bool = False) -> str | None:
    """The wire text of ``value`` for ``option`` (None clears it); checks type and range first."""
    if value is None:
        return None
    if coerce and isinstance(value, str):
        value = _coerce(option, value)
    data_type = option.data_type
    if data_type in (DATA_TYPE_NUMERIC, DATA_TYPE_CURRENCY):
        return str(_number(option, value))
    if data_type == DATA_TYPE_BOOLEAN:
        if not isinstance(value, bool):
            raise ModelError(f"option {option.name!r} is boolean: give True or False, not {value!r}")
        return "true" if value else "false"
    if data_type == DATA_TYPE_DATETIME:
        if not isinstance(value, datetime):
            raise ModelError(f"option {option.name!r} is a datetime: give a datetime, not {value!r}")
        pattern = parse_validation(option._value("validation")).get("format")
        return _as_utc(value).strftime(pattern) if pattern else _as_utc(value).isoformat()
    if not isinstance(value, str):
        raise ModelError(f"option {option.name!r} is {data_type}: give text, not {value!r}")
    if data_type == DATA_TYPE_CONSTRAINED:
        values, names = option.constrained_values, option.constrained_names
        if value in values:
            return value
        if value in names:  # a constrained option's display name stands for its value
            return values[names.index(value)]
        raise ModelError(f"option {option.name!r} takes one of {list(values)}, not {value!r}")
    return value


class Option(Model):
    """One option of a process: its name, data type, whether it is required, and its value.

    ``value`` is a Python value of the option's type. ``print(option)`` describes it. Set it
    with ``process.update(option_name=..., value=...)`` or ``process.update(option=option,
    value=...)``.
    """

    ssd_id: str
    name: str
    required: bool
    data_type: str
    validation: str | None
    mutually_exclusive: Any
    advanced: bool | None
    title: str | None
    description: str | None

    def __init__(self, session: Session, values: Mapping[str, Any]) -> None:
        values = dict(values)
        rules = parse_validation(values.get("validation"))
        if "constrained_values" not in values and "values" in rules:
            values["constrained_values"] = rules["values"].split(",")
        if "constrained_names" not in values and "values" in rules:
            values["constrained_names"] = rules.get("names", rules["values"]).split(",")
        super().__init__(session, values)
        value = decode_value(values.get("data_type", ""), values.get("value"), values.get("validation"))
        self._values["value"] = value

    @property
    def constrained_values(self) -> tuple[str, ...]:
        """The values a constrained option accepts (empty for other types)."""
        return tuple(self._value("constrained_values") or ())

    @property
    def constrained_names(self) -> tuple[str, ...]:
        """The display names of a constrained option's values."""
        return tuple(self._value("constrained_names") or self.constrained_values)

    def __str__(self) -> str:
        need = "required" if self._value("required") else "optional"
        head = f"{self._value('name')} ({self._value('data_type')}, {need}) = {self._value('value')!r}"
        details = [d for d in (self._value("title"), self._value("description")) if d]
        if self.constrained_values:
            details.append(f"one of {list(self.constrained_values)}")
        return f"{head}: {' - '.join(details)}" if details else head


class Input(Model):
    """One numbered input of a process: the file type it takes and the data item bound to it.

    ``id`` is the bound data item's id (absent until one is bound). Bind one with
    ``process.update(input_number=n, data=data)`` or ``process.update(input=input, data=data)``.
    """

    ssd_id: str
    input: int
    file_type: str
    resolution: int | None
    selectors: Any
    id: str
    model: str
    change_trigger: bool | None
    change_hash: str | None
    title: str | None
    description: str | None
    name: str | None

    def __str__(self) -> str:
        bound = self._value("id") or "nothing bound"
        head = (
            f"input {self._value('input')} {self._value('name') or ''} ({self._value('file_type')}): {bound}"
        )
        details = [d for d in (self._value("title"), self._value("description")) if d]
        return f"{head} - {' - '.join(details)}" if details else head


class Dispatcher(Model):
    """A dispatcher: sends a process's outputs somewhere when it ends (e.g. a bucket, e-mail).

    Pick one from ``process.available_dispatchers`` with ``process.add_dispatcher``; set its
    options with ``process.update(dispatcher_number=n, option_name=..., value=...)``.
    """

    ssd_id: str
    name: str
    dispatch_intermediate: bool | None
    documentation_summary: str | None
    documentation_description: str | None

    @property
    def options(self) -> Iterator[Option]:
        """The dispatcher's options."""
        return (Option(self._session, o) for o in self._raw.get("options") or ())

    def __str__(self) -> str:
        summary = self._value("documentation_summary")
        return f"{self._value('name')}: {summary}" if summary else str(self._value("name"))
