"""The base of the platform's objects: typed, read-only attributes loaded from the wire.

Each model class declares its attributes as annotations; the annotation says how the wire value
is read (``datetime`` from ISO text with its offset, ``Decimal`` exactly, ``bool`` also from the
text ``"true"``/``"false"``, lists as tuples). Containers are frozen: changing a copy of the
platform's state in place would silently do nothing, so it raises instead. A field the server
did not send is absent (reading it raises ``AttributeError``); one it sent as null is ``None``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from terrafuse.sdk.errors import ModelError, ReadOnlyAttributeError
from terrafuse.sdk.session import Session

__all__ = ["FrozenDict", "Model", "find_first", "freeze", "parse_datetime"]

M = TypeVar("M", bound="Model")
Converter = Callable[[Any], Any]


class FrozenDict(dict[str, Any]):
    """A dict that refuses changes (still JSON-serialisable and printable as a dict)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> typing.NoReturn:
        raise TypeError("platform values are read-only; use the object's update method")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse

    def __ior__(self, other: Any) -> typing.NoReturn:  # type: ignore[misc]  # refuses, unlike dict's
        self._refuse()

    def __reduce__(self) -> Any:
        return (FrozenDict, (dict(self),))


def freeze(value: Any) -> Any:
    """A read-only copy of a decoded JSON value (lists become tuples, exact numbers floats)."""
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, Decimal):
        # JSON integers arrive as int; only fractional numbers are Decimals. Exact Decimals are
        # kept for money (declared ``Decimal``); everything else reads better as float.
        return float(value)
    return value


def parse_datetime(value: Any) -> datetime | None:
    """A datetime from ISO-8601 text (``Z`` accepted); naive times are taken as UTC."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _to_int(value: Any) -> int:
    return int(value)


def _to_float(value: Any) -> float:
    return float(value)


def _to_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


_SCALARS: dict[Any, Converter] = {
    str: str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    Decimal: _to_decimal,
    datetime: parse_datetime,
}


def _converter(annotation: Any) -> Converter:
    """How to read a wire value declared as ``annotation``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter(members[0]) if len(members) == 1 else freeze
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        if args and args[0] in _SCALARS:
            item = _SCALARS[args[0]]
            return lambda value: tuple(item(v) for v in value)
    return freeze


def _convert(converter: Converter, value: Any) -> Any:
    return None if value is None else converter(value)


class Model:
    """A platform object: read-only attributes (see ``attributes``) plus methods that call the API.

    Attributes are loaded from the server's reply; change them with the object's ``update``
    method where the platform allows it.
    """

    _converters: ClassVar[dict[str, Converter]] = {}
    _hidden: ClassVar[frozenset[str]] = frozenset()
    _session: Session
    _raw: dict[str, Any]
    _values: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls)
        converters: dict[str, Converter] = {}
        for name, annotation in hints.items():
            if name.startswith("_") or typing.get_origin(annotation) is ClassVar:
                continue
            converters[name] = _converter(annotation)
        cls._converters = converters
        # Names that are properties (iterators such as ``files``) hide the raw wire value.
        cls._hidden = frozenset(n for n in dir(cls) if isinstance(getattr(cls, n, None), property))

    def __init__(self, session: Session, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_session", session)
        self._load(values)

    def _load(self, values: Mapping[str, Any]) -> None:
        raw = dict(values)
        converted: dict[str, Any] = {}
        for name, value in raw.items():
            converter = self._converters.get(name, freeze)
            try:
                converted[name] = _convert(converter, value)
            except (TypeError, ValueError, ArithmeticError):
                converted[name] = freeze(value)  # keep what the server sent rather than fail
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_values", converted)

    # -- attribute access ---------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values and name not in self._hidden:
            return values[name]
        if name in self._converters:
            raise AttributeError(f"{type(self).__name__}.{name} was not sent by the server")
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise ReadOnlyAttributeError(type(self).__name__, name)

    def __delattr__(self, name: str) -> None:
        raise ReadOnlyAttributeError(type(self).__name__, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._values))

    @property
    def attributes(self) -> dict[str, Any]:
        """The object's attributes as a dict (a copy; hidden wire fields left out)."""
        return {k: v for k, v in self._values.items() if k not in self._hidden}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and type(other) is type(self) and other.attributes == self.attributes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = [f"{k}={self._values[k]!r}" for k in ("id", "name") if self._values.get(k) is not None]
        return f"<{type(self).__name__} {' '.join(shown)}>".replace(" >", ">")

    # -- helpers for subclasses ---------------------------------------------------------------
    def _value(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def _require(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None:
            raise ModelError(f"this {type(self).__name__} has no {name}: it is not stored on the platform")
        return value

    def _make(self, cls: type[M], values: Mapping[str, Any]) -> M:
        return cls(self._session, values)


def find_first(items: Iterator[M]) -> tuple[M | None, Iterator[M]]:
    """``(first item or None, iterator over all items)`` from one lazily fetched sequence.

    The first page is fetched once; the returned iterator replays the first item, then pages on.
    """
    first = next(items, None)
    if first is None:
        return None, iter(())

    def everything() -> Iterator[M]:
        yield first
        yield from items

    return first, everything()
