"""Object store in a local folder, served by the API under ``/objects/{key}`` with signed URLs."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from terrafuse.errors import InvalidInput, NotFound, PayloadTooLarge
from terrafuse.storage.base import Method

OBJECTS_ROUTE = "/objects/"


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative object key, else raise ``InvalidInput``."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"invalid object key {key!r}")
    return key


def sign(secret: bytes, method: str, key: str, expires: int) -> str:
    """The HMAC-SHA256 signature of a (method, key, expiry) triple, hex encoded."""
    message = f"{method}\n{key}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(
    secret: bytes, method: str, key: str, expires: int, signature: str, now: float | None = None
) -> bool:
    """Whether ``signature`` is valid for the triple and not expired."""
    if expires < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(sign(secret, method, key, expires), signature)


class LocalObjectStore:
    """Objects are files under ``root``; writes go to a temp file first, then rename (atomic)."""

    def __init__(self, root: Path, secret: bytes) -> None:
        self.root = Path(root)
        self.secret = secret
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _atomic_target(self, key: str) -> tuple[Path, Path]:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=final.parent)
        os.close(fd)
        return final, Path(tmp)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Copy ``path`` into the store under ``key``."""
        final, tmp = self._atomic_target(key)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``key``."""
        self.put_stream(key, iter([data]), max_bytes=len(data))

    def put_stream(self, key: str, chunks: Iterator[bytes], max_bytes: int) -> int:
        """Store a stream; nothing is stored when it exceeds ``max_bytes``."""
        final, tmp = self._atomic_target(key)
        size = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(f"upload exceeds the limit of {max_bytes} bytes")
                    out.write(chunk)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return size

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading."""
        try:
            return open(self._path(key), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"no object {key!r}") from None

    def get_bytes(self, key: str) -> bytes:
        """Read the whole object."""
        with self.open(key) as f:
            return f.read()

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        return self._path(key).is_file()

    def delete_prefix(self, prefix: str) -> int:
        """Delete all objects under ``prefix`` (a folder-like prefix)."""
        target = self._path(prefix.rstrip("/"))
        if target.is_file():
            target.unlink()
            return 1
        if not target.is_dir():
            return 0
        count = sum(1 for p in target.rglob("*") if p.is_file())
        shutil.rmtree(target)
        return count

    def local_path(self, key: str) -> Path | None:
        """The file behind the object."""
        return self._path(key)

    def gdal_path(self, key: str) -> str:
        """A path rasterio can open."""
        return str(self._path(key))

    def signed_url(self, key: str, method: Method, expires_in: int, base_url: str) -> str:
        """``{base_url}/objects/{key}?expires=..&signature=..``, served by the API."""
        check_key(key)
        expires = int(time.time()) + expires_in
        query = urlencode({"expires": expires, "signature": sign(self.secret, method, key, expires)})
        return f"{base_url.rstrip('/')}{OBJECTS_ROUTE}{quote(key)}?{query}"

    def verify(self, method: str, key: str, expires: int, signature: str) -> bool:
        """Whether a signed URL's parameters allow ``method`` on ``key`` now."""
        return verify(self.secret, method, key, expires, signature)
