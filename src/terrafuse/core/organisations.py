"""Organisations: the tenants. Each owns its executions; its namespace names it in OGC URLs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from terrafuse.errors import InvalidInput

NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_namespace(namespace: str) -> str:
    """Validate a namespace (lower-case letters, digits, ``-``, ``_``; 1-63 chars)."""
    if not NAMESPACE_RE.match(namespace):
        raise InvalidInput(
            f"invalid namespace {namespace!r}: use 1-63 lower-case letters, digits, '-' or '_'"
        )
    return namespace


@dataclass(frozen=True)
class Organisation:
    """A tenant. The address fields are the ones Fusion clients require to be present."""

    id: str
    name: str
    namespace: str
    allow_anonymous: bool
    created_at: datetime
    updated_at: datetime | None = None  # None: never changed since created_at
    address_line_1: str = ""
    address_line_2: str | None = None
    address_town_city: str = ""
    address_post_zip_code: str = ""
    address_country: str = ""
    # Upper limit of the members' output storage period (days); None: no limit.
    maximum_output_storage_period: int | None = None


# Fields a manager may change through the API (namespace and anonymous access are the operator's:
# they change URLs and exposure).
ORGANISATION_EDITABLE_FIELDS = (
    "name",
    "address_line_1",
    "address_line_2",
    "address_town_city",
    "address_post_zip_code",
    "address_country",
)
# Fields the operator may also set (admin CLI).
ORGANISATION_ADMIN_FIELDS = (
    *ORGANISATION_EDITABLE_FIELDS,
    "allow_anonymous",
    "maximum_output_storage_period",
)


def check_name(name: Any) -> str:
    """A valid organisation name (1-200 characters after trimming)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("the organisation name must be non-empty text")
    if len(name.strip()) > 200:
        raise InvalidInput("the organisation name is longer than 200 characters")
    return name.strip()


def check_organisation_changes(fields: Mapping[str, Any], admin: bool = False) -> dict[str, Any]:
    """The valid changes among ``fields``; read-only and unknown names are ignored (clients send
    every field they hold), bad values of editable ones raise ``InvalidInput``."""
    allowed = ORGANISATION_ADMIN_FIELDS if admin else ORGANISATION_EDITABLE_FIELDS
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in allowed:
            continue
        if name == "name":
            changes[name] = check_name(value)
        elif name == "allow_anonymous":
            if not isinstance(value, bool):
                raise InvalidInput("allow_anonymous must be true or false")
            changes[name] = value
        elif name == "maximum_output_storage_period":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidInput("maximum_output_storage_period must be a positive number of days")
            changes[name] = value
        elif name == "address_line_2" and value is None:
            changes[name] = None
        else:
            if not isinstance(value, str) or len(value.strip()) > 200:
                raise InvalidInput(f"{name} must be text of at most 200 characters")
            changes[name] = value.strip()
    return changes
