"""Validation of responses against the official OGC API - Processes 1.0 schemas (offline copies)."""

from __future__ import annotations

import base64
import binascii
import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(__file__).parent.parent / "ogc_schemas" / "part1-1.0"

_formats = FormatChecker()


@_formats.checks("byte", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    # Without this, every string matches both branches of "string | binary" oneOfs.
    if not isinstance(value, str):
        return True
    base64.b64decode(value, validate=True)
    return len(value) % 4 == 0


# Defect of the 1.0 schemas: inputValueNoObject's oneOf branches overlap (every integer is also a
# number, every base64 string also a string), so integer and base64 literals in results or execute
# documents match two branches and fail "oneOf". The branches are meant as alternatives: anyOf.
_ANY_OF = {"inputValueNoObject.yaml"}


@functools.cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.yaml"):
        contents = yaml.safe_load(path.read_text())
        if path.name in _ANY_OF:
            contents = {"anyOf": contents["oneOf"]}
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT4)))
    return Registry().with_resources(resources)


def validate(body: Any, schema_name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``body`` is valid against ``<schema_name>.yaml``."""
    registry = _registry()
    schema = registry.contents(f"{schema_name}.yaml")
    Draft4Validator(schema, registry=registry, format_checker=_formats).validate(body)
