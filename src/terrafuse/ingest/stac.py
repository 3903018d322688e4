"""Fetching STAC Items and finding the asset that holds a band.

Items come from ``http(s)://`` URLs, ``file://`` URLs or plain local paths. Assets they point
to may be anywhere GDAL reads from (``http(s)``, ``s3``, local files): see
:mod:`terrafuse.ingest.raster`. Every failure is a :class:`~terrafuse.errors.DataUnavailable`
whose message names the URL, because it ends up in front of the user as the job's failure.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse
from urllib.request import url2pathname

import requests

from terrafuse.errors import DataUnavailable, InvalidInput

# A STAC Item is a few kB to a few hundred kB; anything bigger is not what we asked for.
MAX_ITEM_BYTES = 10 * 1024 * 1024
REMOTE_SCHEMES = ("http", "https")
# Schemes GDAL can read assets from (see terrafuse.ingest.raster.gdal_path).
ASSET_SCHEMES = ("http", "https", "s3", "file")


@dataclass(frozen=True)
class StacItemRef:
    """A STAC Item and where it came from.

    Attributes:
        item: the Item JSON (a GeoJSON Feature with ``assets``).
        url: the location it was read from: an ``http(s)`` URL (after redirects), or an
            absolute local path for items read from files (relative asset hrefs are resolved
            against it).
    """

    item: dict[str, Any]
    url: str

    @property
    def id(self) -> str:
        """The Item's id."""
        return str(self.item.get("id", ""))

    @property
    def is_remote(self) -> bool:
        """Whether the Item was fetched over HTTP."""
        return urlparse(self.url).scheme in REMOTE_SCHEMES


@dataclass(frozen=True)
class BandAsset:
    """The asset holding one band of an Item.

    Attributes:
        key: the asset's key in the Item.
        href: absolute href (URL or local path) that :func:`terrafuse.ingest.raster.open_raster`
            accepts.
        band: 1-based band index in the file (multi-band assets list several ``eo:bands``).
        nodata: nodata from the asset's ``raster:bands`` (``None`` if not given there).
        scale: scale from ``raster:bands`` (1.0 if not given).
        offset: offset from ``raster:bands`` (0.0 if not given).
    """

    key: str
    href: str
    band: int = 1
    nodata: float | None = None
    scale: float = 1.0
    offset: float = 0.0


def check_item_url(url: str) -> None:
    """Reject item locations that can never work, before any work starts.

    Raises:
        InvalidInput: for an empty value or an unsupported scheme (``s3://`` included: Item
            JSON is read over HTTP or from files; assets on S3 are fine).
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("a STAC Item URL must be a non-empty string")
    scheme = urlparse(url).scheme.lower()
    if scheme == "s3":
        raise InvalidInput(
            f"cannot read the STAC Item {url}: s3:// is not supported for Item JSON; publish the "
            "Item over http(s) (for example a presigned URL) - its assets may stay on s3://"
        )
    if scheme and scheme not in (*REMOTE_SCHEMES, "file"):
        raise InvalidInput(f"cannot read the STAC Item {url}: unsupported URL scheme {scheme!r}")


def fetch_item(url: str, timeout: float = 30) -> StacItemRef:
    """Read a STAC Item from an ``http(s)`` URL, a ``file://`` URL or a local path.

    Args:
        url: where the Item is.
        timeout: seconds to wait for the server to connect and to send data.

    Returns:
        The Item and its (normalised) location.

    Raises:
        InvalidInput: for unsupported schemes (see :func:`check_item_url`).
        DataUnavailable: when the Item cannot be read or is not a STAC Item.
    """
    check_item_url(url)
    scheme = urlparse(url).scheme.lower()
    if scheme in REMOTE_SCHEMES:
        doc, final_url = _fetch_http(url, timeout)
        # After redirects, relative asset hrefs are relative to where the Item really is.
        return StacItemRef(_check_item(doc, url), final_url)
    path = _local_path(url)
    try:
        if path.stat().st_size > MAX_ITEM_BYTES:
            raise DataUnavailable(f"the STAC Item {url} is larger than {MAX_ITEM_BYTES} bytes")
        text = path.read_bytes()
    except OSError as exc:
        raise DataUnavailable(f"cannot read the STAC Item {url}: {exc.strerror or exc}") from None
    return StacItemRef(_check_item(_parse_json(text, url), url), str(path))


def find_band_asset(ref: StacItemRef, band: str) -> BandAsset:
    """The asset of ``ref`` that holds the band called ``band``.

    Looks, in order, for: the first data asset (role ``data``, or no roles) whose bands have
    ``common_name == band`` (STAC 1.0 ``eo:bands``, item-level ``eo:bands`` referenced by index,
    or STAC 1.1 ``bands[].eo:common_name``); an asset whose key is ``band``; the first data
    asset with a band *named* ``band`` (e.g. ``B03``).

    Raises:
        DataUnavailable: if no asset matches; the message lists the bands that exist.
    """
    assets = ref.item.get("assets")
    if not isinstance(assets, dict):
        raise DataUnavailable(f"item {ref.id} has no assets")
    props = ref.item.get("properties")
    item_bands = props.get("eo:bands") if isinstance(props, dict) else None
    data_assets = {k: a for k, a in assets.items() if isinstance(a, dict) and _is_data(a)}

    def first_with(field: str) -> BandAsset | None:
        for key, asset in data_assets.items():
            for position, info in enumerate(_asset_bands(asset, item_bands)):
                if info.get(field) == band:
                    return _band_asset(ref, key, asset, position)
        return None

    found = first_with("common_name")
    if found is None and isinstance(assets.get(band), dict):
        found = _band_asset(ref, band, assets[band], 0)
    found = found or first_with("name")
    if found is not None:
        return found
    available = sorted(
        {
            str(b["common_name"])
            for a in data_assets.values()
            for b in _asset_bands(a, item_bands)
            if "common_name" in b
        }
    )
    raise DataUnavailable(
        f"item {ref.id} has no asset for band {band!r} (available: "
        f"{', '.join(available) or 'no bands with common names'}; assets: {', '.join(sorted(assets))})"
    )


def resolve_href(ref: StacItemRef, href: str) -> str:
    """An asset href made absolute against the Item's location.

    Raises:
        DataUnavailable: when a remote Item points at a local file (it must not be able to
            make the server read its own disk), or the scheme cannot be read.
    """
    parsed = urlparse(href)
    scheme = parsed.scheme.lower()
    if scheme and scheme not in ASSET_SCHEMES:
        raise DataUnavailable(f"item {ref.id}: cannot read asset {href} (unsupported URL scheme {scheme!r})")
    if ref.is_remote:
        if scheme == "file":
            raise DataUnavailable(f"item {ref.id} from {ref.url} refers to a local file ({href}); refused")
        # Relative and host-absolute ("/x.tif") hrefs resolve against the Item's URL.
        return href if scheme else urljoin(ref.url, href)
    if scheme == "file":
        return str(_local_path(href))
    if scheme:
        return href
    return os.path.normpath(os.path.join(os.path.dirname(ref.url), unquote(href)))


def _fetch_http(url: str, timeout: float) -> tuple[Any, str]:
    headers = {"Accept": "application/geo+json, application/json;q=0.9, */*;q=0.1"}
    try:
        with requests.get(url, headers=headers, timeout=timeout, stream=True) as resp:
            if resp.status_code >= 400:
                reason = f" {resp.reason}" if resp.reason else ""
                raise DataUnavailable(f"cannot read the STAC Item {url}: HTTP {resp.status_code}{reason}")
            final_url = resp.url or url
            body = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_ITEM_BYTES:
                    raise DataUnavailable(f"the STAC Item {url} is larger than {MAX_ITEM_BYTES} bytes")
    except requests.Timeout:
        raise DataUnavailable(f"cannot read the STAC Item {url}: no answer within {timeout:g} s") from None
    except requests.ConnectionError:
        host = urlparse(url).netloc
        raise DataUnavailable(f"cannot read the STAC Item {url}: cannot connect to {host}") from None
    except requests.RequestException as exc:
        raise DataUnavailable(f"cannot read the STAC Item {url}: {type(exc).__name__}") from None
    return _parse_json(bytes(body), url), final_url


def _parse_json(data: bytes, url: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataUnavailable(f"the STAC Item {url} is not JSON") from None


def _check_item(doc: Any, url: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise DataUnavailable(f"{url} is not a STAC Item (the JSON is not an object)")
    kind = doc.get("type")
    if kind != "Feature" or not isinstance(doc.get("assets"), dict):
        hint = {
            "FeatureCollection": "a FeatureCollection (search result): pass the URLs of its Items",
            "Collection": "a STAC Collection: pass the URLs of its Items",
            "Catalog": "a STAC Catalog: pass the URLs of its Items",
            "Feature": "a GeoJSON Feature without STAC assets",
        }.get(str(kind), f"its type is {kind!r}")
        raise DataUnavailable(f"{url} is not a STAC Item ({hint})")
    if not isinstance(doc.get("id"), str) or not doc["id"]:
        raise DataUnavailable(f"{url} is not a STAC Item (it has no id)")
    return doc


def _local_path(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme.lower() == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidInput(f"cannot read {url}: file URLs on other hosts are not supported")
        return Path(url2pathname(parsed.path)).resolve()
    return Path(url).expanduser().resolve()


def _is_data(asset: dict[str, Any]) -> bool:
    roles = asset.get("roles")
    return not roles or "data" in roles


def _asset_bands(asset: dict[str, Any], item_bands: Any) -> list[dict[str, Any]]:
    """The bands of an asset as dicts with ``name``/``common_name`` (STAC 1.0 or 1.1)."""
    if isinstance(asset.get("bands"), list):  # STAC 1.1
        return [
            {"name": b.get("name"), "common_name": b.get("eo:common_name")}
            for b in asset["bands"]
            if isinstance(b, dict)
        ]
    bands = asset.get("eo:bands")
    if not isinstance(bands, list):
        return []
    out = []
    for b in bands:
        # STAC 0.9 listed indices into the Item's properties.eo:bands.
        if isinstance(b, int) and isinstance(item_bands, list) and 0 <= b < len(item_bands):
            b = item_bands[b]
        out.append(b if isinstance(b, dict) else {})
    return out


def _band_asset(ref: StacItemRef, key: str, asset: dict[str, Any], position: int) -> BandAsset:
    href = asset.get("href")
    if not isinstance(href, str) or not href:
        raise DataUnavailable(f"item {ref.id}: asset {key!r} has no href")
    # STAC 1.1 puts nodata/scale/offset on bands[]; 1.0 on raster:bands[].
    raster = asset.get("bands") if isinstance(asset.get("bands"), list) else asset.get("raster:bands")
    info = raster[position] if isinstance(raster, list) and position < len(raster) else {}
    info = info if isinstance(info, dict) else {}
    return BandAsset(
        key=key,
        href=resolve_href(ref, href),
        band=position + 1,
        nodata=_number(info.get("nodata"), None),
        scale=_number(info.get("scale"), 1.0),
        offset=_number(info.get("offset"), 0.0),
    )


def _number(value: Any, default: float | None) -> float | None:
    # raster:bands writes NaN nodata as the string "nan"; anything unparsable is ignored.
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float) or value in ("nan", "inf", "-inf"):
        return float(value)
    return default
