"""Fetching STAC Items (files, file://, HTTP on loopback) and finding band assets."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from terrafuse.errors import DataUnavailable, InvalidInput
from terrafuse.ingest import stac
from terrafuse.ingest.stac import StacItemRef, check_item_url, fetch_item, find_band_asset, resolve_href


def make_item(**assets: dict) -> dict:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "S2X_TEST",
        "geometry": None,
        "properties": {"datetime": "2021-07-13T19:03:24Z"},
        "links": [],
        "assets": assets,
    }


ITEM = make_item(
    thumbnail={"href": "thumb.jpg", "roles": ["thumbnail"], "eo:bands": [{"common_name": "green"}]},
    B03={
        "href": "B03.tif",
        "roles": ["data"],
        "eo:bands": [{"name": "B03", "common_name": "green"}],
        "raster:bands": [{"nodata": 0, "scale": 0.0001, "offset": -0.1}],
    },
    B08={"href": "./sub/B08.tif", "eo:bands": [{"name": "B08", "common_name": "nir"}]},
    swir16={"href": "https://example.org/B11.tif", "roles": ["data"]},
    rgb={
        "href": "/data/rgbn.tif",
        "roles": ["data"],
        "eo:bands": [{"common_name": "red"}, {"common_name": "green"}, {"common_name": "blue"}],
    },
)


def write_json(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_fetch_item_from_path_and_file_url(tmp_path):
    path = write_json(tmp_path / "items" / "item.json", ITEM)
    for location in (str(path), path.as_uri()):
        ref = fetch_item(location)
        assert ref.item["id"] == "S2X_TEST"
        assert ref.url == str(path)
        assert not ref.is_remote


def test_fetch_item_over_http(static_server):
    write_json(static_server.root / "c" / "item.json", ITEM)
    url = static_server.url("c/item.json")
    ref = fetch_item(url, timeout=5)
    assert ref.id == "S2X_TEST" and ref.url == url and ref.is_remote


def test_relative_hrefs_follow_redirects(static_server):
    write_json(static_server.root / "c" / "d" / "item.json", ITEM)
    ref = fetch_item(static_server.url("moved/c/d/item.json"), timeout=5)
    assert ref.url == static_server.url("c/d/item.json")
    assert find_band_asset(ref, "green").href == static_server.url("c/d/B03.tif")


def test_unreachable_host(closed_port):
    url = f"http://127.0.0.1:{closed_port}/item.json"
    with pytest.raises(DataUnavailable, match=r"cannot connect to 127\.0\.0\.1") as err:
        fetch_item(url, timeout=5)
    assert url in err.value.detail


def test_http_status(static_server):
    url = static_server.url("missing.json")
    with pytest.raises(DataUnavailable, match="HTTP 404") as err:
        fetch_item(url, timeout=5)
    assert url in err.value.detail


def test_not_json(static_server):
    (static_server.root / "page.json").write_text("<html>hello</html>")
    with pytest.raises(DataUnavailable, match="is not JSON"):
        fetch_item(static_server.url("page.json"), timeout=5)


@pytest.mark.parametrize(
    ("doc", "hint"),
    [
        ({"type": "Collection", "id": "c", "links": []}, "STAC Collection"),
        ({"type": "FeatureCollection", "features": []}, "FeatureCollection"),
        ({"type": "Feature", "id": "x", "geometry": None, "properties": {}}, "without STAC assets"),
        ([1, 2, 3], "not an object"),
    ],
)
def test_json_that_is_not_an_item(static_server, doc, hint):
    write_json(static_server.root / "doc.json", doc)
    url = static_server.url("doc.json")
    with pytest.raises(DataUnavailable, match="is not a STAC Item") as err:
        fetch_item(url, timeout=5)
    assert hint in err.value.detail and url in err.value.detail


def test_timeout():
    # A listening socket that never answers: the connection succeeds, the reply never comes.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/item.json"
        with pytest.raises(DataUnavailable, match=r"no answer within 0\.3 s"):
            fetch_item(url, timeout=0.3)


def test_size_cap(static_server, monkeypatch):
    monkeypatch.setattr(stac, "MAX_ITEM_BYTES", 100)
    write_json(static_server.root / "big.json", ITEM)
    with pytest.raises(DataUnavailable, match="larger than 100 bytes"):
        fetch_item(static_server.url("big.json"), timeout=5)


def test_missing_file(tmp_path):
    with pytest.raises(DataUnavailable, match="cannot read the STAC Item"):
        fetch_item(str(tmp_path / "nope.json"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://bucket/item.json", "s3:// is not supported for Item JSON"),
        ("ftp://host/item.json", "unsupported URL scheme 'ftp'"),
        ("", "non-empty"),
    ],
)
def test_unsupported_item_urls(url, message):
    with pytest.raises(InvalidInput, match=message):
        check_item_url(url)


def test_find_band_by_common_name_skips_non_data_assets(tmp_path):
    ref = StacItemRef(ITEM, str(tmp_path / "items" / "item.json"))
    green = find_band_asset(ref, "green")
    assert green.key == "B03"  # the thumbnail also says "green" but is not data
    assert green.href == str(tmp_path / "items" / "B03.tif")
    assert (green.band, green.nodata, green.scale, green.offset) == (1, 0.0, 0.0001, -0.1)
    nir = find_band_asset(ref, "nir")  # no roles counts as data
    assert nir.key == "B08" and nir.href == str(tmp_path / "items" / "sub" / "B08.tif")
    assert nir.nodata is None and nir.scale == 1.0


def test_find_band_by_key_then_by_band_name(tmp_path):
    ref = StacItemRef(ITEM, str(tmp_path / "item.json"))
    assert find_band_asset(ref, "swir16").href == "https://example.org/B11.tif"
    assert find_band_asset(ref, "B08").key == "B08"


def test_band_index_within_a_multi_band_asset(tmp_path):
    item = make_item(rgb=ITEM["assets"]["rgb"])
    ref = StacItemRef(item, str(tmp_path / "item.json"))
    blue = find_band_asset(ref, "blue")
    assert (blue.key, blue.band, blue.href) == ("rgb", 3, "/data/rgbn.tif")


def test_stac_1_1_bands_and_stac_0_9_indices(tmp_path):
    v11 = make_item(
        g={"href": "g.tif", "bands": [{"name": "B03", "eo:common_name": "green", "nodata": 0, "scale": 2.0}]}
    )
    found = find_band_asset(StacItemRef(v11, str(tmp_path / "i.json")), "green")
    assert (found.key, found.nodata, found.scale) == ("g", 0.0, 2.0)
    v09 = make_item(n={"href": "n.tif", "eo:bands": [1]})
    v09["properties"]["eo:bands"] = [
        {"name": "B03", "common_name": "green"},
        {"name": "B08", "common_name": "nir"},
    ]
    assert find_band_asset(StacItemRef(v09, str(tmp_path / "i.json")), "nir").key == "n"


def test_missing_band_names_the_band_and_what_exists(tmp_path):
    ref = StacItemRef(ITEM, str(tmp_path / "item.json"))
    with pytest.raises(DataUnavailable) as err:
        find_band_asset(ref, "swir22")
    assert "item S2X_TEST has no asset for band 'swir22'" in err.value.detail
    assert "available: blue, green, nir, red" in err.value.detail


def test_relative_hrefs_of_a_remote_item():
    ref = StacItemRef(ITEM, "https://host/catalog/items/item.json")
    assert resolve_href(ref, "B03.tif") == "https://host/catalog/items/B03.tif"
    assert resolve_href(ref, "../assets/B03.tif") == "https://host/catalog/assets/B03.tif"
    assert resolve_href(ref, "/data/B03.tif") == "https://host/data/B03.tif"
    assert resolve_href(ref, "s3://bucket/B03.tif") == "s3://bucket/B03.tif"
    with pytest.raises(DataUnavailable, match="refers to a local file"):
        resolve_href(ref, "file:///etc/passwd")


def test_hrefs_of_a_local_item(tmp_path):
    ref = StacItemRef(ITEM, str(tmp_path / "a" / "item.json"))
    assert resolve_href(ref, "../b/x.tif") == str(tmp_path / "b" / "x.tif")
    assert resolve_href(ref, (tmp_path / "c.tif").as_uri()) == str(tmp_path / "c.tif")
    assert resolve_href(ref, "https://h/x.tif") == "https://h/x.tif"
    with pytest.raises(DataUnavailable, match="unsupported URL scheme"):
        resolve_href(ref, "ftp://h/x.tif")
