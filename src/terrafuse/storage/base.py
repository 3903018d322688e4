"""The object store protocol: where bytes (uploads, outputs) live, addressed by key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

Method = Literal["GET", "PUT"]


class ObjectStore(Protocol):
    """A flat key -> bytes store with signed URLs.

    Keys are ``/``-separated relative paths without ``..`` segments.
    """

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Store the file at ``path`` under ``key`` (replacing any previous object)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``key``."""
        ...

    def put_stream(self, key: str, chunks: Iterator[bytes], max_bytes: int) -> int:
        """Store a stream of chunks atomically; refuse (and store nothing) beyond ``max_bytes``.

        Returns the number of bytes stored.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading (raises :class:`terrafuse.errors.NotFound`)."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Read the whole object."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A filesystem path for the object when the store is local, else ``None``."""
        ...

    def gdal_path(self, key: str) -> str:
        """A path GDAL/rasterio can open directly (a file path, ``/vsis3/...``)."""
        ...

    def signed_url(self, key: str, method: Method, expires_in: int, base_url: str) -> str:
        """A URL that lets anyone holding it GET or PUT the object until it expires.

        ``base_url`` is the public root of the API (used by stores served through the API).
        """
        ...
