"""References to stored objects inside output values.

Services return JSON values; a file they stored is referenced as ``object_ref(key)``. When
results are served, :func:`resolve_object_refs` swaps each reference for a URL the client can
fetch (a signed URL that is fresh on every read), so stored results never hold expiring URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OBJECT_REF_PREFIX = "terrafuse-object:"


def object_ref(key: str) -> str:
    """The reference to the stored object ``key``."""
    return OBJECT_REF_PREFIX + key


def ref_key(value: str) -> str | None:
    """The object key a reference names, or ``None`` when ``value`` is not a reference."""
    return value[len(OBJECT_REF_PREFIX) :] if value.startswith(OBJECT_REF_PREFIX) else None


def resolve_object_refs(value: Any, url_for: Callable[[str], str]) -> Any:
    """A copy of ``value`` with every object reference replaced by ``url_for(key)``."""
    if isinstance(value, str):
        key = ref_key(value)
        return value if key is None else url_for(key)
    if isinstance(value, dict):
        return {k: resolve_object_refs(v, url_for) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_object_refs(v, url_for) for v in value]
    return value
