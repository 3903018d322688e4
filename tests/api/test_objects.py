"""Signed object URLs of the local object store: GET (with Range), PUT, signatures, limits, keys."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from terrafuse.config import Settings
from terrafuse.errors import InvalidInput
from terrafuse.storage.local import LocalObjectStore, sign
from terrafuse.usecases.executions import Platform
from tests.support.ogc_api import assert_exception, path_of

LIMIT = 64 * 1024
BASE = "http://testserver"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Objects never touch the database: SQLite only (no PostgreSQL variant)."""
    return f"sqlite:///{tmp_path / 'terrafuse.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, dask_scheduler: str) -> Settings:
    """A platform whose signed PUTs accept at most LIMIT bytes."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        dask_scheduler=dask_scheduler,
        demo=True,
        max_object_bytes=LIMIT,
    )


@pytest.fixture
def store(platform: Platform) -> LocalObjectStore:
    storage = platform.rt.storage
    assert isinstance(storage, LocalObjectStore)
    return storage


def _url(store: LocalObjectStore, key: str, method: str = "GET", ttl: int = 60) -> str:
    return path_of(store.signed_url(key, method, ttl, BASE))  # type: ignore[arg-type]


def _forged(store: LocalObjectStore, raw_key: str, method: str = "GET", expires: int | None = None) -> str:
    """A correctly signed URL for a key that ``signed_url`` itself would refuse to sign."""
    expires = expires or int(time.time()) + 60
    signature = sign(store.secret, method, raw_key.replace("%2E", "."), expires)
    return f"/objects/{raw_key}?expires={expires}&signature={signature}"


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_get_signed_object(client: TestClient, store: LocalObjectStore) -> None:
    data = os.urandom(1000)
    store.put_bytes("a/b/data.bin", data)
    response = client.get(_url(store, "a/b/data.bin"))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"


def test_get_media_types(client: TestClient, store: LocalObjectStore) -> None:
    store.put_bytes("x/mask.tif", b"II*\x00")
    store.put_bytes("x/item.json", b"{}")
    assert client.get(_url(store, "x/mask.tif")).headers["content-type"] == "image/tiff"
    assert client.get(_url(store, "x/item.json")).headers["content-type"].startswith("application/json")


def test_range_request(client: TestClient, store: LocalObjectStore) -> None:
    data = bytes(range(256)) * 4
    store.put_bytes("cog/file.tif", data)
    response = client.get(_url(store, "cog/file.tif"), headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == data[:10]
    assert response.headers["content-range"] == f"bytes 0-9/{len(data)}"
    tail = client.get(_url(store, "cog/file.tif"), headers={"Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.content == data[1000:]


def test_missing_object(client: TestClient, store: LocalObjectStore) -> None:
    assert_exception(client.get(_url(store, "nothing/here.bin")), 404)


def test_tampered_signature(client: TestClient, store: LocalObjectStore) -> None:
    store.put_bytes("k/v.bin", b"secret")
    url = _url(store, "k/v.bin")
    query = parse_qs(urlsplit(url).query)
    signature = query["signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert_exception(client.get(url.replace(signature, flipped)), 403)
    # The signature of one key does not open another.
    store.put_bytes("k/other.bin", b"other")
    assert_exception(client.get(url.replace("k/v.bin", "k/other.bin")), 403)
    # Nor does moving the expiry.
    expires = query["expires"][0]
    assert_exception(client.get(url.replace(f"expires={expires}", f"expires={int(expires) + 1000}")), 403)


def test_expired_signature(client: TestClient, store: LocalObjectStore) -> None:
    store.put_bytes("k/v.bin", b"secret")
    expires = int(time.time()) - 1
    url = f"/objects/k/v.bin?expires={expires}&signature={sign(store.secret, 'GET', 'k/v.bin', expires)}"
    assert_exception(client.get(url), 403)


def test_missing_signature(client: TestClient, store: LocalObjectStore) -> None:
    store.put_bytes("k/v.bin", b"secret")
    assert client.get("/objects/k/v.bin").status_code in (400, 403)
    assert client.get("/objects/k/v.bin?expires=99999999999&signature=").status_code == 403


def test_put_then_get_byte_identical(client: TestClient, store: LocalObjectStore) -> None:
    data = os.urandom(LIMIT)  # exactly the limit is allowed
    response = client.put(_url(store, "up/load.bin", "PUT"), content=data)
    assert response.status_code == 200, response.text
    assert response.json() == {"key": "up/load.bin", "size": len(data)}
    assert store.get_bytes("up/load.bin") == data
    assert client.get(_url(store, "up/load.bin")).content == data


def test_put_streamed(client: TestClient, store: LocalObjectStore) -> None:
    data = os.urandom(10_000)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    response = client.put(_url(store, "up/stream.bin", "PUT"), content=chunks())
    assert response.status_code == 200, response.text
    assert client.get(_url(store, "up/stream.bin")).content == data


def test_signatures_are_per_method(client: TestClient, store: LocalObjectStore) -> None:
    store.put_bytes("k/v.bin", b"original")
    assert_exception(client.put(_url(store, "k/v.bin", "GET"), content=b"overwritten"), 403)
    assert store.get_bytes("k/v.bin") == b"original"
    assert_exception(client.put(_url(store, "k/new.bin", "GET"), content=b"new"), 403)
    assert not store.exists("k/new.bin")
    assert_exception(client.get(_url(store, "k/v.bin", "PUT")), 403)


@pytest.mark.parametrize("raw_key", ["%2E%2E/x", "a/%2E%2E/%2E%2E/x", "a//b", "%2E/a", "a/"])
def test_bad_keys_are_refused(client: TestClient, store: LocalObjectStore, raw_key: str) -> None:
    outside = store.root.parent / "x"
    outside.write_bytes(b"not an object")
    # Correctly signed, so what refuses them is the key check itself.
    body = assert_exception(client.get(_forged(store, raw_key)), 400)
    assert "invalid object key" in body["detail"]
    assert_exception(client.put(_forged(store, raw_key, "PUT"), content=b"escaped"), 400)
    assert outside.read_bytes() == b"not an object"
    assert not (store.root.parent.parent / "x").exists()
    assert all(b"escaped" not in p.read_bytes() for p in _leftovers(store.root.parent))


def test_signed_url_refuses_bad_keys(store: LocalObjectStore) -> None:
    for key in ("../x", "a//b", "/abs", "a/./b", ""):
        with pytest.raises(InvalidInput):
            store.signed_url(key, "GET", 60, BASE)


def test_put_over_the_limit_with_content_length(client: TestClient, store: LocalObjectStore) -> None:
    response = client.put(_url(store, "big/one.bin", "PUT"), content=os.urandom(LIMIT + 1))
    assert_exception(response, 413)
    assert not store.exists("big/one.bin")
    assert _leftovers(store.root) == []


def test_put_over_the_limit_chunked(client: TestClient, store: LocalObjectStore) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 4096 + 2):
            yield os.urandom(4096)

    response = client.put(_url(store, "big/two.bin", "PUT"), content=chunks())
    assert "content-length" not in response.request.headers
    assert_exception(response, 413)
    assert not store.exists("big/two.bin")
    assert _leftovers(store.root) == []


def test_put_over_the_limit_keeps_the_old_object(client: TestClient, store: LocalObjectStore) -> None:
    store.put_bytes("keep/me.bin", b"old")
    response = client.put(_url(store, "keep/me.bin", "PUT"), content=os.urandom(LIMIT + 1))
    assert_exception(response, 413)
    assert store.get_bytes("keep/me.bin") == b"old"
