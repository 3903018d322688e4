"""Organisations: the tenants. Each owns its executions; its namespace names it in OGC URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
    """A tenant."""

    id: str
    name: str
    namespace: str
    allow_anonymous: bool
    created_at: datetime
