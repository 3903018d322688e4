"""Typed options of services: the validation mini-language, wire values and their OGC face.

On the platform wire an option's value is always text or null (the Fusion SDK converts it to a
Python value by the option's ``data_type``); in OGC requests and results it is a plain JSON value.
Three forms, one set of rules:

* wire text ``"true"``, ``"12.5"``, ``"2026-03-01T00:00:00Z"`` (``decode_option``/``encode_option``),
* Python values ``True``, ``12.5``, ``Decimal("12.5")``, aware ``datetime`` (what services use),
* JSON values ``true``, ``12.5``, ``"2026-03-01T00:00:00Z"`` (``option_from_json``/``option_json``).

The validation mini-language is ``;``-separated ``key=value`` items. Keys are case-insensitive.
An item is split at its *first* ``=``, so values may contain ``=`` and ``,``; they may not contain
``;``. List values (``values=``, ``names=``) are split on ``,``, so a constrained value or name cannot
contain ``,``. Understood keys, by data type:

=============  ===============================================================================
numeric        ``min=``, ``max=`` (inclusive bounds)
currency       ``min=``, ``max=``
string         ``max_length=``, ``pattern=`` (a Python regular expression the whole value matches)
constrained    ``values=a,b,c`` (required), ``names=A,B,C`` (optional, one per value)
datetime       ``format=`` (required): the ``strftime`` pattern values are written with
boolean        nothing
=============  ===============================================================================

The published SDK only reads constrained validations of at most two ``;``-separated items and
datetime ones of at most three, empty items included (it ignores longer ones, and crashes on a
datetime option without ``format=``), so those limits are enforced. A datetime ``format`` should
render ISO-8601 text (e.g. ``%Y-%m-%dT%H:%M:%SZ``): the SDK reads values back as ISO-8601.

Pure rules; no I/O.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from terrafuse.core.catalogue import DataType, OptionSpec
from terrafuse.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from terrafuse.core.catalogue import PlatformFace
    from terrafuse.services.base import InputDescription

ITEM_SEPARATOR = ";"
LIST_SEPARATOR = ","

# Wire texts the SDK itself reads as "no value".
_NULL_TEXTS = frozenset({"", "null", "None"})
_KEYS: dict[DataType, frozenset[str]] = {
    DataType.NUMERIC: frozenset({"min", "max"}),
    DataType.CURRENCY: frozenset({"min", "max"}),
    DataType.STRING: frozenset({"max_length", "pattern"}),
    DataType.CONSTRAINED: frozenset({"values", "names"}),
    DataType.DATETIME: frozenset({"format"}),
    DataType.BOOLEAN: frozenset(),
}
# The most items the SDK's own validation parsers accept (process.py: ``len(elements) <= n``).
_SDK_MAX_ITEMS = {DataType.CONSTRAINED: 2, DataType.DATETIME: 3}
_EXAMPLE_TIME = datetime(2026, 1, 31, 13, 45, 0, tzinfo=UTC)

_EXPECTED = {
    DataType.NUMERIC: "a number",
    DataType.CURRENCY: "a decimal amount",
    DataType.BOOLEAN: "true or false",
    DataType.DATETIME: "a date and time",
    DataType.STRING: "text",
    DataType.CONSTRAINED: "one of the listed values",
}

FILE_SUBSTITUTES: dict[str, frozenset[str]] = {
    "GeoTIFF": frozenset({"GeoTIFF", "DEM", "JPEG2000"}),
    "GeoJSON": frozenset({"GeoJSON", "KML", "KMZ", "ESRI Shapefile"}),
}
"""File types a numbered input of a given type accepts (other input types accept only themselves)."""

MEDIA_TYPES: dict[str, str] = {
    "GeoTIFF": "image/tiff; application=geotiff",
    "DEM": "image/tiff; application=geotiff",
    "JPEG2000": "image/jp2",
    "GeoJSON": "application/geo+json",
    "KML": "application/vnd.google-earth.kml+xml",
    "KMZ": "application/vnd.google-earth.kmz",
    "CSV": "text/csv",
    "ESRI Shapefile": "application/zip",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "PDF": "application/pdf",
    "GZIP": "application/gzip",
    "ZIP": "application/zip",
    "Other": "application/octet-stream",
}
"""The media type of each Fusion file type, as OGC descriptions and results announce it."""


@dataclass(frozen=True)
class OptionRules:
    """The parsed validation of one option; fields that do not apply to its type are None."""

    values: tuple[str, ...] | None = None
    names: tuple[str, ...] | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None

    def choices(self) -> str:
        """The allowed values for messages: ``a (A), b (B)``."""
        values = self.values or ()
        names = self.names or (None,) * len(values)
        return ", ".join(
            value if name in (None, value) else f"{value} ({name})"
            for value, name in zip(values, names, strict=True)
        )


def parse_validation(text: str | None) -> dict[str, str]:
    """The ``key=value`` items of a validation text, keys lower-cased (see the module notes).

    Empty items (a trailing ``;``) are skipped. Raises InvalidInput for an item without ``=``, an
    empty key or a key given twice.
    """
    items: dict[str, str] = {}
    for item in (text or "").split(ITEM_SEPARATOR):
        if not item.strip():
            continue
        key, equals, value = item.partition("=")
        key = key.strip().lower()
        if not equals or not key:
            raise InvalidInput(f"validation item {item!r} is not of the form key=value")
        if key in items:
            raise InvalidInput(f"validation key {key!r} is given twice")
        items[key] = value
    return items


def option_rules(spec: OptionSpec) -> OptionRules:
    """The rules of an option's validation; InvalidInput names the option and what is wrong."""
    return _rules(spec.name, spec.data_type, spec.validation)


@functools.lru_cache(maxsize=512)
def _rules(name: str, data_type: DataType, validation: str | None) -> OptionRules:
    try:
        items = parse_validation(validation)
    except InvalidInput as exc:
        raise InvalidInput(f"option {name!r}: {exc.detail}") from None
    unknown = sorted(set(items) - _KEYS[data_type])
    if unknown:
        known = ", ".join(sorted(_KEYS[data_type])) or "none"
        raise InvalidInput(
            f"option {name!r}: validation key(s) {', '.join(unknown)} not understood for "
            f"{data_type.value} options (known: {known})"
        )
    limit = _SDK_MAX_ITEMS.get(data_type)
    # The SDK counts raw items, empty ones included (a trailing ";" is an item).
    if limit is not None and len((validation or "").split(ITEM_SEPARATOR)) > limit:
        raise InvalidInput(
            f"option {name!r}: a {data_type.value} validation may have at most {limit} ';'-separated items"
        )
    if data_type is DataType.CONSTRAINED:
        return _constrained_rules(name, items)
    if data_type is DataType.DATETIME:
        if not items.get("format"):
            raise InvalidInput(f"option {name!r}: a datetime option needs format=<strftime pattern>")
        return OptionRules(format=items["format"])
    if data_type in (DataType.NUMERIC, DataType.CURRENCY):
        minimum = _bound(name, "min", items.get("min"))
        maximum = _bound(name, "max", items.get("max"))
        if minimum is not None and maximum is not None and minimum > maximum:
            raise InvalidInput(f"option {name!r}: min={minimum} is greater than max={maximum}")
        return OptionRules(minimum=minimum, maximum=maximum)
    if data_type is DataType.STRING:
        return _string_rules(name, items)
    return OptionRules()


def _constrained_rules(name: str, items: dict[str, str]) -> OptionRules:
    if "values" not in items:
        raise InvalidInput(f"option {name!r}: a constrained option needs values=a,b,c")
    values = tuple(items["values"].split(LIST_SEPARATOR))
    if any(not value for value in values) or len(set(values)) != len(values):
        raise InvalidInput(f"option {name!r}: constrained values must be distinct and non-empty")
    names = tuple(items["names"].split(LIST_SEPARATOR)) if "names" in items else None
    if names is not None and len(names) != len(values):
        raise InvalidInput(f"option {name!r}: {len(names)} names for {len(values)} constrained values")
    return OptionRules(values=values, names=names)


def _string_rules(name: str, items: dict[str, str]) -> OptionRules:
    max_length = None
    if "max_length" in items:
        text = items["max_length"].strip()
        if not text.isdigit():
            raise InvalidInput(f"option {name!r}: max_length must be a whole number, not {text!r}")
        max_length = int(text)
    pattern = items.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                f"option {name!r}: pattern {pattern!r} is not a regular expression ({exc})"
            ) from None
    return OptionRules(max_length=max_length, pattern=pattern)


def _bound(name: str, key: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InvalidInput(f"option {name!r}: {key} must be a number, not {text!r}")
    return value


# -- wire text <-> Python ---------------------------------------------------------------------------


def decode_option(spec: OptionSpec, wire: str | None) -> Any:
    """The Python value of an option's wire text (None for null, ``""``, ``"null"``, ``"None"``).

    numeric -> float, currency -> Decimal, boolean -> bool (``true``/``false``, any case), datetime ->
    aware UTC datetime (the spec's ``format``, or ISO-8601; naive times are UTC), string and
    constrained -> str. Non-text values (a JSON number sent by a lenient client) are read as
    :func:`option_from_json` reads them. Raises InvalidInput naming the option and the expected form.
    """
    if wire is None:
        return None
    if not isinstance(wire, str):
        return option_from_json(spec, wire)
    if wire.strip() in _NULL_TEXTS:
        return None
    text = wire.strip()
    kind = spec.data_type
    if kind is DataType.NUMERIC:
        try:
            number = float(text)
        except ValueError:
            raise _wrong(spec, wire) from None
        if not math.isfinite(number):
            raise _wrong(spec, wire)
        return number
    if kind is DataType.CURRENCY:
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise _wrong(spec, wire) from None
        if not amount.is_finite():
            raise _wrong(spec, wire)
        return amount
    if kind is DataType.BOOLEAN:
        if text.lower() not in ("true", "false"):
            raise _wrong(spec, wire)
        return text.lower() == "true"
    if kind is DataType.DATETIME:
        return _parse_datetime(spec, text)
    return wire


def encode_option(spec: OptionSpec, value: Any) -> str | None:
    """The wire text of a Python value (or of wire text, which is normalised): what is stored and sent.

    bool -> ``"true"``/``"false"``, datetime -> the spec's ``format`` applied to the UTC time,
    numbers -> their shortest text, str -> itself. Raises InvalidInput for a value of the wrong type.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = decode_option(spec, value)
        if value is None:
            return None
    kind = spec.data_type
    if kind is DataType.BOOLEAN and isinstance(value, bool):
        return "true" if value else "false"
    if kind in (DataType.NUMERIC, DataType.CURRENCY) and _is_number(value):
        if not math.isfinite(value):
            raise _wrong(spec, value)
        if kind is DataType.CURRENCY:
            return str(_to_decimal(value))
        return str(value)
    if kind is DataType.DATETIME and isinstance(value, date):
        return _as_utc(value).strftime(option_rules(spec).format or "")
    if kind in (DataType.STRING, DataType.CONSTRAINED) and isinstance(value, str):
        return value
    raise _wrong(spec, value)


def check_option(spec: OptionSpec, value: Any) -> None:
    """Enforce required/min/max/values/max_length/pattern on a Python value (InvalidInput if broken)."""
    if value is None:
        if spec.required:
            raise InvalidInput(f"option {spec.name!r} is required")
        return
    rules = option_rules(spec)
    kind = spec.data_type
    if not _has_type(kind, value):
        raise _wrong(spec, value)
    if kind in (DataType.NUMERIC, DataType.CURRENCY):
        number = _to_decimal(value)
        if rules.minimum is not None and number < rules.minimum:
            raise InvalidInput(f"option {spec.name!r} must be at least {rules.minimum}, not {value}")
        if rules.maximum is not None and number > rules.maximum:
            raise InvalidInput(f"option {spec.name!r} must be at most {rules.maximum}, not {value}")
    elif kind is DataType.CONSTRAINED and value not in (rules.values or ()):
        raise InvalidInput(f"option {spec.name!r} must be one of: {rules.choices()}; not {value!r}")
    elif kind is DataType.STRING:
        if rules.max_length is not None and len(value) > rules.max_length:
            raise InvalidInput(
                f"option {spec.name!r} may be at most {rules.max_length} characters long, not {len(value)}"
            )
        if rules.pattern is not None and re.fullmatch(rules.pattern, value) is None:
            raise InvalidInput(f"option {spec.name!r} must match the pattern {rules.pattern!r}")


def resolve_options(specs: Iterable[OptionSpec], given: Mapping[str, Any]) -> dict[str, str | None]:
    """The wire values of all options: given ones (wire text or Python values) checked, others defaulted.

    Raises InvalidInput for an unknown option name, a value of the wrong form, a broken rule or a
    required option left without a value.
    """
    specs = tuple(specs)
    known = {spec.name for spec in specs}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InvalidInput(
            f"unknown option(s) {', '.join(map(repr, unknown))}; "
            f"options: {', '.join(sorted(known)) or 'none'}"
        )
    resolved: dict[str, str | None] = {}
    for spec in specs:
        wire = encode_option(spec, given.get(spec.name, spec.default))
        check_option(spec, decode_option(spec, wire))
        resolved[spec.name] = wire
    return resolved


# -- JSON (OGC) <-> Python --------------------------------------------------------------------------


def option_json(spec: OptionSpec, value: Any) -> Any:
    """The JSON value of a Python option value: bool, number, ISO-8601 UTC text, str, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = decode_option(spec, value)
        if value is None:
            return None
    kind = spec.data_type
    if kind is DataType.BOOLEAN and isinstance(value, bool):
        return value
    if kind is DataType.NUMERIC and _is_number(value):
        return float(value)
    if kind is DataType.CURRENCY and _is_number(value):
        # As the SDK writes Decimals: whole amounts as integers, others as floats.
        amount = _to_decimal(value)
        return int(amount) if amount == amount.to_integral_value() else float(amount)
    if kind is DataType.DATETIME and isinstance(value, date):
        return _as_utc(value).isoformat().replace("+00:00", "Z")
    if kind in (DataType.STRING, DataType.CONSTRAINED) and isinstance(value, str):
        return value
    raise _wrong(spec, value)


def option_from_json(spec: OptionSpec, value: Any) -> Any:
    """The Python value of an option given as JSON (an OGC input); text is read as wire text."""
    if value is None:
        return None
    if isinstance(value, str):
        return decode_option(spec, value)
    kind = spec.data_type
    if kind is DataType.BOOLEAN and isinstance(value, bool):
        return value
    if kind in (DataType.NUMERIC, DataType.CURRENCY) and _is_number(value) and math.isfinite(value):
        return _to_decimal(value) if kind is DataType.CURRENCY else float(value)
    raise _wrong(spec, value)


# -- OGC descriptions -------------------------------------------------------------------------------

# Shapes only down to the rings: a 36,000-vertex region would make JSON Schema validation of every
# position slow, and the region reader checks coordinates properly anyway.
_RINGS = {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 4}}
_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {"type": {"const": "Polygon"}, "coordinates": _RINGS},
}
_MULTIPOLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"const": "MultiPolygon"},
        "coordinates": {"type": "array", "minItems": 1, "items": _RINGS},
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry"],
    "properties": {
        "type": {"const": "Feature"},
        "geometry": {"oneOf": [_POLYGON, _MULTIPOLYGON]},
        "properties": {"type": ["object", "null"]},
    },
}
_FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "minItems": 1, "items": _FEATURE},
    },
}


def region_schema() -> dict[str, Any]:
    """JSON Schema of an inline region: a GeoJSON (Multi)Polygon, Feature or FeatureCollection in WGS84."""
    return {
        "oneOf": [_POLYGON, _MULTIPOLYGON, _FEATURE, _FEATURE_COLLECTION],
        "contentMediaType": MEDIA_TYPES["GeoJSON"],
    }


def option_schema(spec: OptionSpec) -> dict[str, Any]:
    """JSON Schema of an option's JSON value (nullable unless required, with its default if any)."""
    rules = option_rules(spec)
    kind = spec.data_type
    schema: dict[str, Any]
    if kind is DataType.CONSTRAINED:
        schema = {"type": "string", "enum": list(rules.values or ())}
    elif kind is DataType.BOOLEAN:
        schema = {"type": "boolean"}
    elif kind is DataType.DATETIME:
        schema = {"type": "string", "format": "date-time"}
    elif kind is DataType.STRING:
        schema = {"type": "string"}
        if rules.max_length is not None:
            schema["maxLength"] = rules.max_length
        if rules.pattern is not None:
            # JSON Schema patterns search; the option's pattern must match the whole value.
            schema["pattern"] = f"^(?:{rules.pattern})$"
    else:
        schema = {"type": "number"}
        if rules.minimum is not None:
            schema["minimum"] = _json_number(rules.minimum)
        if rules.maximum is not None:
            schema["maximum"] = _json_number(rules.maximum)
    if not spec.required:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"].append(None)
    if spec.default is not None or not spec.required:
        schema["default"] = option_json(spec, spec.default)
    return schema


def ogc_inputs(face: PlatformFace) -> dict[str, InputDescription]:
    """The OGC inputs of a platform service: its file inputs first (by number), then its options.

    GeoJSON-type inputs take a region inline (:func:`region_schema`) or by reference; other file
    inputs are files passed by reference. An option is optional (``min_occurs`` 0) unless it is
    required and has no default.
    """
    from terrafuse.services.base import InputDescription  # services build on core, not the reverse

    inputs: dict[str, InputDescription] = {}
    for spec in sorted(face.inputs, key=lambda item: item.number):
        if spec.file_type == "GeoJSON":
            schema = region_schema()
        else:
            schema = {
                "type": "string",
                "contentEncoding": "binary",
                "contentMediaType": MEDIA_TYPES.get(spec.file_type, MEDIA_TYPES["Other"]),
            }
        inputs[spec.name] = InputDescription(
            title=spec.title, description=spec.description, schema=schema, keywords=("input", spec.file_type)
        )
    for option in face.options:
        if option.name in inputs:
            raise ValueError(f"service {face.key!r}: option {option.name!r} has the name of a file input")
        inputs[option.name] = InputDescription(
            title=option.title,
            description=option.description,
            schema=option_schema(option),
            min_occurs=1 if option.required and option.default is None else 0,
            keywords=("option", option.data_type.value),
        )
    return inputs


def input_accepts(input_file_type: str, file_type: str) -> bool:
    """Whether a numbered input of ``input_file_type`` accepts a file of ``file_type``."""
    return file_type in FILE_SUBSTITUTES.get(input_file_type, frozenset({input_file_type}))


# -- helpers ----------------------------------------------------------------------------------------


def _parse_datetime(spec: OptionSpec, text: str) -> datetime:
    fmt = option_rules(spec).format or ""
    try:
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            example = _EXAMPLE_TIME.strftime(fmt)
            raise InvalidInput(
                f"option {spec.name!r} must be a date and time such as {example!r} ({fmt}) or in "
                f"ISO-8601, not {text!r}"
            ) from None
    return _as_utc(parsed)


def _as_utc(value: date) -> datetime:
    """A date (midnight) or datetime as an aware UTC datetime; naive times are taken as UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _to_decimal(value: int | float | Decimal) -> Decimal:
    # Through str so 0.1 becomes Decimal("0.1"), not its binary expansion.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _has_type(kind: DataType, value: Any) -> bool:
    if kind is DataType.BOOLEAN:
        return isinstance(value, bool)
    if kind in (DataType.NUMERIC, DataType.CURRENCY):
        return _is_number(value) and math.isfinite(value)
    if kind is DataType.DATETIME:
        return isinstance(value, datetime)
    return isinstance(value, str)


def _wrong(spec: OptionSpec, value: Any) -> InvalidInput:
    expected = _EXPECTED[spec.data_type]
    if spec.data_type is DataType.BOOLEAN:
        expected = "true or false"
    elif spec.data_type is DataType.CONSTRAINED:
        expected = f"one of: {option_rules(spec).choices()}"
    elif spec.data_type is DataType.DATETIME:
        expected = f"a date and time ({option_rules(spec).format}, or ISO-8601)"
    shown = repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
    return InvalidInput(f"option {spec.name!r} must be {expected}, not {shown}")
