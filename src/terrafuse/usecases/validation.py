"""Validation of execution inputs against a service's input descriptions."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from jsonschema import Draft202012Validator

from terrafuse.errors import InvalidInput
from terrafuse.services.base import InputDescription, ServiceDescription


def is_binary(schema: dict[str, Any]) -> bool:
    """Whether the schema describes file-like content (which may be passed by reference)."""
    return "contentMediaType" in schema or "contentEncoding" in schema


def is_link(value: Any) -> bool:
    """Whether an input value is a reference ``{"href": ...}`` (as the API layer hands it over)."""
    return isinstance(value, dict) and isinstance(value.get("href"), str)


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _check_value(name: str, desc: InputDescription, value: Any) -> None:
    if is_link(value):
        if not is_binary(desc.schema):
            raise InvalidInput(f"input {name!r} must be given by value, not by reference")
        return
    error = next(iter(_validator(json.dumps(desc.schema, sort_keys=True)).iter_errors(value)), None)
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path)
        raise InvalidInput(f"input {name!r}{where}: {error.message}")


def validate_inputs(description: ServiceDescription, raw: dict[str, Any]) -> dict[str, Any]:
    """Check ``raw`` against the description and return the inputs with defaults filled in.

    Raises:
        InvalidInput: naming the first offending input and what is wrong with it.
    """
    unknown = sorted(set(raw) - set(description.inputs))
    if unknown:
        raise InvalidInput(
            f"unknown input(s) {', '.join(map(repr, unknown))} for process {description.id!r}; "
            f"expected: {', '.join(description.inputs)}"
        )
    inputs: dict[str, Any] = {}
    for name, desc in description.inputs.items():
        if name not in raw or raw[name] is None:
            if "default" in desc.schema:
                inputs[name] = copy.deepcopy(desc.schema["default"])
            elif desc.min_occurs > 0:
                raise InvalidInput(f"missing required input {name!r}")
            continue
        value = raw[name]
        if desc.max_occurs != 1:
            values = value if isinstance(value, list) else [value]
            maximum = desc.max_occurs
            if len(values) < desc.min_occurs or (maximum != "unbounded" and len(values) > int(maximum)):
                raise InvalidInput(
                    f"input {name!r} takes {desc.min_occurs} to {maximum} values, got {len(values)}"
                )
            for item in values:
                _check_value(name, desc, item)
            inputs[name] = values
        else:
            _check_value(name, desc, value)
            inputs[name] = value
    return inputs
