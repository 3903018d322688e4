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


def parse_datetime(text: str) -> datetime:
    """An ISO-8601 date and time (``Z`` allowed); naive values are taken as UTC.

    Raises:
        ValueError: when the text is not one.
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
