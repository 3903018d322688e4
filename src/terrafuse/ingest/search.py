"""Searching a static STAC catalog for the scenes over a region.

A static catalog is a tree of JSON files (``catalog.json`` → ``child`` links → collections →
``item`` links), on disk or served over HTTP, with no search endpoint. :func:`search_scenes`
walks the tree once per process and collection (the walk is cached, keyed by the catalog's
location and, for local catalogs, the modification time of ``catalog.json``; remote walks are
refreshed after :data:`REMOTE_CACHE_SECONDS`), then filters the items by collection, footprint
intersection with a WGS84 region, and datetime range, newest or oldest first.

Items are read with :func:`terrafuse.ingest.stac.fetch_item`, so relative asset hrefs resolve
as for any other Item and a remote catalog cannot point the server at its own disk.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlparse
from urllib.request import url2pathname

import requests
import shapely
from dateutil import parser as date_parser
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from terrafuse.errors import DataUnavailable
from terrafuse.ingest.stac import (
    REMOTE_SCHEMES,
    BandAsset,
    StacItemRef,
    fetch_item,
    find_band_asset,
    resolve_href,
)

# Catalog and collection documents are small; anything bigger is not what we asked for.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# A walk that finds more documents than this is not a catalog we can search by walking.
MAX_DOCUMENTS = 100_000
MAX_DEPTH = 16
REMOTE_CACHE_SECONDS = 300.0
HTTP_TIMEOUT = 30.0
ITEM_READERS = 8

Order = Literal["newest", "oldest"]


@dataclass(frozen=True)
class SceneRef:
    """One STAC Item found by a search, with what scene selection and reading need.

    Attributes:
        id: the Item id.
        collection: the collection it belongs to.
        datetime: acquisition time (``datetime``, else ``start_datetime``), timezone-aware UTC.
        bbox: WGS84 ``(west, south, east, north)``.
        footprint: the Item's geometry (WGS84), or its bbox as a polygon when it has none.
        ref: the Item JSON and where it was read from.
    """

    id: str
    collection: str
    datetime: datetime
    bbox: tuple[float, float, float, float]
    footprint: BaseGeometry
    ref: StacItemRef

    @property
    def assets(self) -> dict[str, str]:
        """Asset key → absolute href (URL or local path) of every asset with an href."""
        out: dict[str, str] = {}
        for key, asset in (self.ref.item.get("assets") or {}).items():
            if isinstance(asset, dict) and isinstance(asset.get("href"), str) and asset["href"]:
                out[key] = resolve_href(self.ref, asset["href"])
        return out

    def band(self, name: str) -> BandAsset:
        """The asset holding band ``name`` (common name or asset key; see ``find_band_asset``)."""
        return find_band_asset(self.ref, name)


@dataclass(frozen=True)
class SceneQuery:
    """What to search for.

    Attributes:
        collection: collection id (e.g. ``"sentinel-2-l2a"``).
        region: WGS84 geometry the Items' footprints must intersect (``None``: anywhere).
        start: earliest acquisition time, inclusive (``None``: no bound).
        end: latest acquisition time, inclusive (``None``: no bound).
        order: ``"newest"`` or ``"oldest"`` first.
    """

    collection: str
    region: BaseGeometry | None = None
    start: datetime | None = None
    end: datetime | None = None
    order: Order = "newest"

    def describe(self) -> str:
        """The query in words, for error messages and logs."""
        parts = [f"collection {self.collection!r}"]
        if self.region is not None:
            w, s, e, n = self.region.bounds
            parts.append(f"over the region ({w:.4f}, {s:.4f}, {e:.4f}, {n:.4f})")
        if self.start is not None and self.end is not None:
            parts.append(f"from {_iso(self.start)} to {_iso(self.end)}")
        elif self.start is not None:
            parts.append(f"on or after {_iso(self.start)}")
        elif self.end is not None:
            parts.append(f"on or before {_iso(self.end)}")
        return " ".join(parts)


def search_scenes(catalog_url: str, query: SceneQuery, timeout: float = HTTP_TIMEOUT) -> list[SceneRef]:
    """The Items of ``query.collection`` in the static catalog that match the query, ordered.

    Args:
        catalog_url: local path, ``file://`` URL or ``http(s)`` URL of ``catalog.json``.
        query: collection, region, time range and order.
        timeout: seconds to wait for each HTTP request.

    Returns:
        Matching scenes, newest (or oldest) first; ties are ordered by id. Empty when nothing
        matches.

    Raises:
        DataUnavailable: the catalog cannot be read, or has no such collection.
    """
    scenes = collection_scenes(catalog_url, query.collection, timeout)
    start = _aware(query.start) if query.start is not None else None
    end = _aware(query.end) if query.end is not None else None
    found = [
        scene
        for scene in scenes
        if (start is None or scene.datetime >= start)
        and (end is None or scene.datetime <= end)
        and (query.region is None or _overlaps(scene, query.region))
    ]
    found.sort(key=lambda s: s.id)
    found.sort(key=lambda s: s.datetime, reverse=query.order == "newest")
    return found


def _overlaps(scene: SceneRef, region: BaseGeometry) -> bool:
    # The bbox test is cheap and rejects most tiles of a large catalog.
    return box(*scene.bbox).intersects(box(*region.bounds)) and region.intersects(scene.footprint)


def collection_scenes(
    catalog_url: str, collection: str, timeout: float = HTTP_TIMEOUT
) -> tuple[SceneRef, ...]:
    """Every Item of ``collection`` in the catalog (cached per process; see the module notes).

    Raises:
        DataUnavailable: the catalog cannot be read, or has no such collection.
    """
    location = _normalise(catalog_url)
    key = (location, collection, _stamp(location))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    scenes = _walk(location, collection, timeout)
    with _CACHE_LOCK:
        # Stale entries of the same catalog and collection go: rebuilt catalogs get new stamps.
        for old in [k for k in _CACHE if k[:2] == key[:2]]:
            del _CACHE[old]
        _CACHE[key] = scenes
    return scenes


def clear_cache() -> None:
    """Forget every cached catalog walk (tests, or after a catalog was rebuilt in place)."""
    with _CACHE_LOCK:
        _CACHE.clear()


_CACHE: dict[tuple[str, str, float], tuple[SceneRef, ...]] = {}
_CACHE_LOCK = threading.Lock()


def _walk(location: str, collection: str, timeout: float) -> tuple[SceneRef, ...]:
    """Read the catalog tree and the Items of ``collection``."""
    root = _read_document(location, timeout)
    if not isinstance(root, dict) or root.get("type") not in ("Catalog", "Collection"):
        raise DataUnavailable(f"{location} is not a STAC catalog (catalog.json of type 'Catalog')")
    seen_collections: list[str] = []
    item_urls: list[str] = []
    visited = {location}
    for url, doc, in_collection in _documents(location, root, visited, timeout, depth=0):
        if doc.get("type") == "Collection":
            seen_collections.append(str(doc.get("id")))
        if in_collection != collection:
            continue
        new = [u for u in dict.fromkeys(_links(url, doc, "item")) if u not in visited]
        visited.update(new)
        item_urls += new
    if collection not in seen_collections:
        listed = ", ".join(sorted(set(seen_collections))) or "none"
        raise DataUnavailable(
            f"the STAC catalog {location} has no collection {collection!r} (collections: {listed})"
        )
    # Items are many small documents: over HTTP, latency dominates, so read several at once.
    workers = ITEM_READERS if urlparse(location).scheme.lower() in REMOTE_SCHEMES else 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="terrafuse-stac") as pool:
        refs = list(pool.map(lambda u: fetch_item(u, timeout=timeout), item_urls))
    scenes = (_scene(ref, collection) for ref in refs)
    return tuple(s for s in scenes if s is not None)


def _documents(
    url: str,
    doc: dict[str, Any],
    visited: set[str],
    timeout: float,
    depth: int,
    in_collection: str | None = None,
) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """The catalog and its descendants (catalogs, collections), depth first, each once.

    ``in_collection`` is the id of the nearest enclosing collection (its Items belong to it).
    """
    if doc.get("type") == "Collection":
        in_collection = str(doc.get("id"))
    yield url, doc, in_collection
    if depth >= MAX_DEPTH:
        return
    for child_url in _links(url, doc, "child"):
        if child_url in visited:
            continue
        visited.add(child_url)
        if len(visited) > MAX_DOCUMENTS:
            raise DataUnavailable(f"the STAC catalog at {url} is too large to search by walking it")
        child = _read_document(child_url, timeout)
        if isinstance(child, dict) and child.get("type") in ("Catalog", "Collection"):
            yield from _documents(child_url, child, visited, timeout, depth + 1, in_collection)


def _links(base: str, doc: Mapping[str, Any], rel: str) -> list[str]:
    """Absolute locations of the links of ``doc`` with relation ``rel``."""
    out = []
    for link in doc.get("links") or ():
        if isinstance(link, dict) and link.get("rel") == rel and isinstance(link.get("href"), str):
            out.append(_resolve(base, link["href"]))
    return out


def _resolve(base: str, href: str) -> str:
    """``href`` made absolute against the document at ``base``.

    Raises:
        DataUnavailable: a remote document links to a local file or an unreadable scheme.
    """
    scheme = urlparse(href).scheme.lower()
    if urlparse(base).scheme.lower() in REMOTE_SCHEMES:
        if scheme and scheme not in REMOTE_SCHEMES:
            # A catalog on the web must not make the server read its own disk.
            raise DataUnavailable(
                f"the STAC document {base} links to {href}; only http(s) links are followed"
            )
        return urljoin(base, href)
    if scheme in REMOTE_SCHEMES:
        return href
    if scheme == "file":
        return _normalise(href)
    if scheme:
        raise DataUnavailable(f"the STAC document {base} links to {href} (unsupported URL scheme {scheme!r})")
    return os.path.normpath(os.path.join(os.path.dirname(base), unquote(href)))


def _normalise(location: str) -> str:
    """http(s) URLs as given; ``file://`` URLs and paths as absolute local paths."""
    parsed = urlparse(location)
    scheme = parsed.scheme.lower()
    if scheme in REMOTE_SCHEMES:
        return location
    if scheme == "file":
        return str(Path(url2pathname(parsed.path)).resolve())
    if scheme and len(scheme) > 1:  # one letter: a Windows drive
        raise DataUnavailable(f"cannot read the STAC catalog {location}: unsupported URL scheme {scheme!r}")
    return str(Path(location).expanduser().resolve())


def _stamp(location: str) -> float:
    """Cache stamp: the local catalog's mtime, or the current period of the remote cache."""
    if urlparse(location).scheme.lower() in REMOTE_SCHEMES:
        return float(int(time.monotonic() // REMOTE_CACHE_SECONDS))
    try:
        return float(os.stat(location).st_mtime_ns)
    except OSError:
        return -1.0  # the read below says what is wrong


def _read_document(location: str, timeout: float) -> Any:
    """A catalog or collection document as JSON."""
    if urlparse(location).scheme.lower() in REMOTE_SCHEMES:
        data = _read_http(location, timeout)
    else:
        try:
            path = Path(location)
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise DataUnavailable(
                    f"the STAC document {location} is larger than {MAX_DOCUMENT_BYTES} bytes"
                )
            data = path.read_bytes()
        except OSError as exc:
            raise DataUnavailable(
                f"cannot read the STAC catalog document {location}: {exc.strerror or exc}"
            ) from None
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataUnavailable(f"the STAC document {location} is not JSON") from None


def _read_http(url: str, timeout: float) -> bytes:
    try:
        with requests.get(url, headers={"Accept": "application/json"}, timeout=timeout, stream=True) as resp:
            if resp.status_code >= 400:
                raise DataUnavailable(f"cannot read the STAC catalog document {url}: HTTP {resp.status_code}")
            body = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise DataUnavailable(
                        f"the STAC document {url} is larger than {MAX_DOCUMENT_BYTES} bytes"
                    )
    except requests.Timeout:
        raise DataUnavailable(
            f"cannot read the STAC catalog document {url}: no answer within {timeout:g} s"
        ) from None
    except requests.RequestException:
        host = urlparse(url).netloc
        raise DataUnavailable(
            f"cannot read the STAC catalog document {url}: cannot connect to {host}"
        ) from None
    return bytes(body)


def _scene(ref: StacItemRef, collection: str) -> SceneRef | None:
    """The searchable summary of an Item; ``None`` for Items without a usable time or place."""
    item = ref.item
    if item.get("collection") not in (None, collection):
        return None
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    when = _parse_time(props.get("datetime") or props.get("start_datetime"))
    if when is None:
        return None
    footprint = _footprint(item)
    if footprint is None:
        return None
    bbox = item.get("bbox")
    if isinstance(bbox, list) and len(bbox) in (4, 6) and all(isinstance(v, int | float) for v in bbox):
        # A 3-D bbox is (w, s, bottom, e, n, top).
        w, s, e, n = bbox[:2] + bbox[-3:-1] if len(bbox) == 6 else bbox
    else:
        w, s, e, n = footprint.bounds
    return SceneRef(ref.id, collection, when, (float(w), float(s), float(e), float(n)), footprint, ref)


def _footprint(item: Mapping[str, Any]) -> BaseGeometry | None:
    geometry = item.get("geometry")
    if isinstance(geometry, dict):
        try:
            geom = shape(geometry)
            if not geom.is_empty:
                return geom if geom.is_valid else shapely.make_valid(geom)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            pass
    bbox = item.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox):
        return box(*bbox)
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _aware(date_parser.isoparse(value))
    except (ValueError, OverflowError):
        return None


def _aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (STAC times are UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _aware(value).strftime("%Y-%m-%dT%H:%M:%SZ")
