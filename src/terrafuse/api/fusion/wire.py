"""The Fusion wire protocol: request bodies, response envelopes and JSON, list parameters.

Pure helpers for the ``/api/`` routes (reference/fusion-api.md sections 2 and 9):

* bodies arrive flat (``{"Data[name]": "x"}``, create/patch) or nested (``{"Data": {...}}``,
  actions), or mixed; the SDK sends every field it holds, so read-only and unknown keys are
  ignored, and only the caller's writable fields come back;
* replies are ``{"model": ..., "extras": {...}}`` or ``{"list": [...], "last": ..., "extras":
  {...}}``, encoded by :func:`dumps`: aware datetimes with their offset, Decimals as exact JSON
  numbers, and keys whose value is :data:`OMIT` left out (the SDK reads "absent" and "null"
  differently);
* list parameters (``limit``, ``reverse``, ``search``, ``filter[...]``, ``last[...]``) become a
  :class:`~terrafuse.core.listing.ListQuery`, which ``terrafuse.store.listing`` applies.
"""

from __future__ import annotations

import enum
import json
import math
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Final

from fastapi.responses import JSONResponse

from terrafuse.core.listing import DEFAULT_LIMIT, MAX_LIMIT, Filter, ListQuery, Modifier
from terrafuse.errors import InvalidInput, InvalidParameter

__all__ = [
    "OMIT",
    "FusionJSONResponse",
    "ListQuery",
    "Shape",
    "decode_json_body",
    "dumps",
    "list_envelope",
    "model_envelope",
    "parse_body",
    "parse_list_query",
]


# -- request bodies -------------------------------------------------------------------------
class Shape(enum.StrEnum):
    """What a writable field holds; lists and dicts may arrive as JSON text and are decoded."""

    VALUE = "value"
    LIST = "list"
    DICT = "dict"
    ANY = "any"  # passed on as given (the use case parses it, e.g. a schedule gap as text or parts)


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _loads(text: str | bytes) -> Any:
    # Exact numbers: the SDK sends Decimals (prices, bounds) as JSON numbers.
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)


def decode_json_body(raw: bytes | str) -> Any:
    """The decoded request body (``{}`` when empty: action calls send no body).

    Text holding NUL characters is refused: no field accepts them, and PostgreSQL cannot store
    them (it would fail the request with a server error instead of saying what is wrong).
    """
    if not raw or not raw.strip():
        return {}
    try:
        body = _loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the request body is not valid JSON") from exc
    if _has_nul(body):
        raise InvalidInput("text in the request body must not contain NUL (\\u0000) characters")
    return body


def _has_nul(value: Any) -> bool:
    """Whether any text in a decoded JSON value (keys included) holds a NUL character."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_body(
    body: Any, model: str, writable: Mapping[str, Shape | str] | Collection[str]
) -> dict[str, Any]:
    """The writable fields of ``model`` found in ``body`` (flat, nested or both).

    ``writable`` names the fields the caller accepts, with their :class:`Shape` (a plain
    collection means all are single values). Everything else is ignored: the SDK echoes
    read-only fields such as ``id`` or ``executions``. A field given both flat and nested must
    have the same value. Malformed ``Model[...]`` keys and values of the wrong shape raise
    :class:`~terrafuse.errors.InvalidInput` naming the key.
    """
    shapes = (
        {name: Shape(shape) for name, shape in writable.items()}
        if isinstance(writable, Mapping)
        else dict.fromkeys(writable, Shape.VALUE)
    )
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    fields: dict[str, Any] = {}
    nested = body.get(model)
    if nested is not None:
        if not isinstance(nested, dict):
            raise InvalidInput(f"{model!r} in the request body must be a JSON object")
        fields.update(nested)
    prefix = f"{model}["
    for key, value in body.items():
        if not key.startswith(prefix):
            continue  # another model's field, or not a field at all
        name = key[len(prefix) : -1] if key.endswith("]") else ""
        if not _FIELD_NAME.fullmatch(name):
            raise InvalidInput(f"malformed body key {key!r}: expected {model}[<field>]")
        if name in shapes and name in fields and fields[name] != value:
            raise InvalidInput(f"{key} is given both flat and nested, with different values")
        fields[name] = value
    return {
        name: _shaped(model, name, value, shapes[name]) for name, value in fields.items() if name in shapes
    }


def _shaped(model: str, name: str, value: Any, shape: Shape) -> Any:
    key = f"{model}[{name}]"
    if value is None:
        return None
    if shape is Shape.ANY:
        return value
    if shape is Shape.VALUE:
        if isinstance(value, list | dict):
            raise InvalidInput(f"{key} must be a single value, not a {type(value).__name__}")
        return value
    if isinstance(value, str):  # lists/dicts may travel as JSON text in flat bodies
        try:
            value = _loads(value)
        except ValueError as exc:
            raise InvalidInput(f"{key} must be a {shape.value} (or its JSON text): {exc}") from exc
        if value is None:
            return None
    if not isinstance(value, list if shape is Shape.LIST else dict):
        raise InvalidInput(f"{key} must be a {shape.value}, not a {type(value).__name__}")
    return value


# -- responses ------------------------------------------------------------------------------
class _Omit:
    """The type of :data:`OMIT`."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"

    def __bool__(self) -> bool:
        return False


OMIT: Final = _Omit()
"""A value meaning "leave this key out of the reply" (e.g. a file's ``size`` before analysis)."""


def model_envelope(model: Mapping[str, Any], extras: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``{"model": ..., "extras": {...}}``: the reply for one object or an action."""
    return {"model": model, "extras": dict(extras or {})}


def list_envelope(
    items: Iterable[Mapping[str, Any]],
    last: Mapping[str, Any] | None,
    extras: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"list": [...], "last": {...} | null, "extras": {...}}``; ``last`` None ends the paging."""
    return {"list": list(items), "last": dict(last) if last else None, "extras": dict(extras or {})}


def dumps(value: Any) -> str:
    """JSON text for a reply. Refuses naive datetimes, NaN and unknown types (each is a bug)."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))  # IntEnum members as plain numbers
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be sent as JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent as JSON")
        out.append(format(value, "f"))  # exact, never through float
    elif isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} in a reply (the SDK needs offsets)")
        out.append(encode_basestring(value.isoformat()))
    elif isinstance(value, date):
        out.append(encode_basestring(value.isoformat()))
    elif isinstance(value, uuid.UUID):
        out.append(encode_basestring(str(value)))
    elif isinstance(value, Mapping):
        _write_object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if item is OMIT:
                raise ValueError("OMIT inside a list: only object members can be omitted")
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, enum.Enum):
        _write(value.value, out)
    else:
        raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _write_object(value: Mapping[Any, Any], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if item is OMIT:
            continue
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be text, not {type(key).__name__}")
        if not first:
            out.append(",")
        first = False
        out.append(encode_basestring(key))
        out.append(":")
        _write(item, out)
    out.append("}")


class FusionJSONResponse(JSONResponse):
    """A JSON reply encoded with :func:`dumps` (Decimals exact, datetimes with offsets, OMIT)."""

    def render(self, content: Any) -> bytes:
        """Encode ``content``."""
        return dumps(content).encode("utf-8")


# -- list queries ---------------------------------------------------------------------------
_BRACKETED = re.compile(r"^(filter|last)\[(.*)\]$")
_MODIFIERS = {m.value: m for m in Modifier}
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def parse_list_query(
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    filterable: Collection[str],
    cursor_keys: Collection[str] = (),
    max_limit: int = MAX_LIMIT,
) -> ListQuery:
    """The list parameters of a request (Starlette ``QueryParams``, a dict or pairs).

    ``filterable`` and ``cursor_keys`` are what the listed resource allows; anything else under
    ``filter[...]``/``last[...]`` is refused with :class:`~terrafuse.errors.InvalidParameter`.
    Other parameters are left to the route (e.g. ``service_id`` of ``processes/new``).
    """
    if hasattr(params, "multi_items"):
        pairs = params.multi_items()
    elif isinstance(params, Mapping):
        pairs = list(params.items())
    else:
        pairs = list(params)
    limit, reverse, search = DEFAULT_LIMIT, False, None
    filters: list[Filter] = []
    last: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise InvalidParameter(f"query parameter {name!r} is given more than once")
        seen.add(name)
        if name == "limit":
            limit = _limit(value, max_limit)
        elif name == "reverse":
            reverse = _flag(name, value)
        elif name == "search":
            search = value.strip() or None
        elif name.startswith(("filter[", "last[")):
            match = _BRACKETED.match(name)
            if match is None or not match.group(2):
                raise InvalidParameter(
                    f"malformed query parameter {name!r}: expected filter[<field>__<modifier>] or last[<key>]"
                )
            if match.group(1) == "filter":
                filters.append(_filter(match.group(2), value, filterable))
            elif match.group(2) not in cursor_keys:
                raise InvalidParameter(f"unknown cursor key in {name!r}; expected {_names(cursor_keys)}")
            else:
                last[match.group(2)] = value
    if last and set(last) != set(cursor_keys):
        raise InvalidParameter(f"incomplete cursor: last[...] needs {_names(cursor_keys)}")
    return ListQuery(limit=limit, reverse=reverse, search=search, filters=tuple(filters), last=last or None)


def _names(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _limit(value: str, max_limit: int) -> int:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= max_limit:
        raise InvalidParameter(f"limit must be a whole number from 1 to {max_limit}, not {value!r}")
    return int(text)


def _flag(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameter(f"{name} must be True or False, not {value!r}")


def _filter(spec: str, value: str, filterable: Collection[str]) -> Filter:
    """``<field>__<modifier>`` (or a bare ``<field>``, meaning eq) with its value(s)."""
    field, modifier = spec, Modifier.EQ
    head, sep, tail = spec.rpartition("__")
    if sep and tail in _MODIFIERS:
        field, modifier = head, _MODIFIERS[tail]
    elif spec not in filterable and sep and head in filterable:
        raise InvalidParameter(
            f"unknown filter modifier {tail!r} in filter[{spec}]; use one of {', '.join(_MODIFIERS)}"
        )
    if field not in filterable:
        raise InvalidParameter(
            f"cannot filter on {field!r} in filter[{spec}]; filterable: {_names(filterable)}"
        )
    if modifier in (Modifier.NULL, Modifier.NOT_NULL):
        values: tuple[str, ...] = ()
    elif modifier is Modifier.IN:
        values = tuple(value.split(","))
    elif modifier is Modifier.BETWEEN:
        values = tuple(value.split(","))
        if len(values) != 2:
            raise InvalidParameter(
                f"filter[{spec}] needs two comma-separated values (lower,upper), not {value!r}"
            )
    else:
        values = (value,)
    return Filter(field=field, modifier=modifier, values=values)
