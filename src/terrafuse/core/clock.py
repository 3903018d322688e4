"""Time and ids: one place so every timestamp is tz-aware UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new random id (UUID4 text)."""
    return str(uuid.uuid4())
