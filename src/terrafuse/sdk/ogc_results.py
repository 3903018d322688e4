"""Results of OGC API jobs: output values, STAC item collections, and their assets as files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlparse

from terrafuse.sdk.errors import MissingDependencyError, ModelError
from terrafuse.sdk.session import SessionOptions
from terrafuse.sdk.timing import Deadline
from terrafuse.sdk.transfer import Download, wait_all

if TYPE_CHECKING:  # pystac is optional: imported only where an ItemCollection is made
    import httpx
    import pystac

__all__ = ["Results", "asset_url", "download_assets"]


def _pystac() -> Any:
    try:
        import pystac
    except ImportError as exc:
        raise MissingDependencyError(
            "turning results into a pystac ItemCollection needs pystac: pip install 'terrafuse[ogc]'"
        ) from exc
    return pystac


def _is_feature_collection(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") == "FeatureCollection"


def _keyed_outputs(document: Mapping[str, Any]) -> dict[str, Any]:
    """Output id -> value, also from the pre-1.0 form ``{"outputs": [{"id": ..., ...}]}``.

    pygeoapi answers ``response: document`` in that form. It is recognised only when
    ``outputs`` is the document's one member and every entry names its ``id``, so a 1.0
    document whose single output happens to be called ``outputs`` is left as it is.
    """
    entries = document.get("outputs")
    if (
        len(document) == 1
        and isinstance(entries, list)
        and entries
        and all(isinstance(entry, Mapping) and isinstance(entry.get("id"), str) for entry in entries)
    ):
        return {entry["id"]: {k: v for k, v in entry.items() if k != "id"} for entry in entries}
    return dict(document)


class Results(Mapping[str, Any]):
    """A job's results document: output id -> value, as the server sent it (outputs sent in
    the pre-1.0 array form, ``{"outputs": [{"id": ..., ...}]}``, are keyed by their ids).

    :meth:`value` unwraps qualified values (``{"value": ...}``); :meth:`item_collection` turns
    a STAC FeatureCollection output into a ``pystac.ItemCollection``.
    """

    def __init__(self, document: Mapping[str, Any], fetch_json: Callable[[str], Any] | None = None) -> None:
        self.document = _keyed_outputs(document)
        self._fetch_json = fetch_json

    def __getitem__(self, name: str) -> Any:
        return self.document[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.document)

    def __len__(self) -> int:
        return len(self.document)

    def __repr__(self) -> str:
        return f"<Results {sorted(self.document)}>"

    def value(self, name: str) -> Any:
        """The value of output ``name``: a qualified value's ``value``, a link fetched as JSON
        when it is one, or the bare value."""
        if name not in self.document:
            raise ModelError(f"no output {name!r}; the outputs are {sorted(self.document)}")
        output = self.document[name]
        if isinstance(output, Mapping) and "value" in output:
            return output["value"]
        if isinstance(output, Mapping) and "href" in output and self._fetch_json is not None:
            return self._fetch_json(str(output["href"]))
        return output

    def href(self, name: str) -> str | None:
        """The link of output ``name`` when it was sent by reference, else None."""
        output = self.document.get(name)
        return str(output["href"]) if isinstance(output, Mapping) and "href" in output else None

    def feature_collection(self, name: str | None = None) -> dict[str, Any]:
        """The STAC FeatureCollection of output ``name`` (default: the first output that is one)."""
        names = [name] if name is not None else list(self.document)
        for candidate in names:
            value = self.value(candidate)
            if _is_feature_collection(value):
                return dict(value)
        raise ModelError(f"no output is a STAC FeatureCollection (outputs: {sorted(self.document)})")

    def item_collection(self, name: str | None = None) -> pystac.ItemCollection:
        """The STAC FeatureCollection output as a ``pystac.ItemCollection`` (needs pystac)."""
        collection: pystac.ItemCollection = _pystac().ItemCollection.from_dict(self.feature_collection(name))
        return collection


def asset_url(asset: Mapping[str, Any], base: str | None = None) -> str:
    """An asset's URL to download from: relative hrefs resolved against ``base``, and ``s3://``
    hrefs turned into path-style URLs of their ``storage:endpoint`` when the asset names one."""
    href = str(asset.get("href", ""))
    scheme = urlparse(href).scheme
    if scheme in ("http", "https", "file"):
        return href
    if scheme == "s3":
        endpoint = asset.get("storage:endpoint")
        if not endpoint:
            raise ModelError(f"cannot download {href}: an s3:// asset needs a 'storage:endpoint' to reach it")
        parsed = urlparse(href)
        return f"{str(endpoint).rstrip('/')}/{parsed.netloc}{parsed.path}"
    if base:
        return urljoin(base, href)
    raise ModelError(f"cannot download {href!r}: it is relative and the item has no location")


def _items(source: Any) -> Iterable[Any]:
    """pystac Items, or item dicts, from an ItemCollection, a FeatureCollection dict or Results."""
    if isinstance(source, Results):
        return list(source.feature_collection()["features"])
    if _is_feature_collection(source):
        return list(source["features"])
    if hasattr(source, "items") and not isinstance(source, Mapping):
        return list(source.items)
    return list(source)


def _as_dict(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else item.to_dict(transform_hrefs=False)


def download_assets(
    source: Any,
    directory: str | os.PathLike[str],
    client: httpx.Client,
    options: SessionOptions,
    keys: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
    timeout: float | None = None,
) -> list[Path]:
    """Download the assets of STAC items into ``directory/<item id>/<file name>``; their paths.

    ``source`` is a ``pystac.ItemCollection``, a FeatureCollection dict, :class:`Results` or
    items. ``keys`` keeps only those asset keys, ``roles`` only assets with one of those roles.
    Downloads run in parallel, each written whole or not at all.
    """
    wanted_keys = set(keys) if keys is not None else None
    wanted_roles = set(roles) if roles is not None else None
    planned: list[tuple[str, Path]] = []
    for item in _items(source):
        data = _as_dict(item)
        base = next((link.get("href") for link in data.get("links", ()) if link.get("rel") == "self"), None)
        for key, asset in (data.get("assets") or {}).items():
            if wanted_keys is not None and key not in wanted_keys:
                continue
            if wanted_roles is not None and not wanted_roles & set(asset.get("roles") or ()):
                continue
            url = asset_url(asset, base)
            name = os.path.basename(unquote(urlparse(url).path)) or key
            planned.append((url, Path(directory) / str(data.get("id", "item")) / name))
    deadline = Deadline(
        options.clock, options.wait_timeout if timeout is None else timeout, "asset downloads"
    )
    transfers: list[Download] = []
    for url, path in planned:
        if url.startswith("file://"):
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(unquote(urlparse(url).path), path)
            continue
        transfers.append(Download(client, options, url, path))
    for transfer in transfers:
        transfer.open().start()
    wait_all(list(transfers), deadline)
    return [path for _, path in planned]
