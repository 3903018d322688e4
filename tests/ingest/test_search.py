"""Searching static STAC catalogs: collection, footprint, time range, order, caching, HTTP."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box, shape

from terrafuse.errors import DataUnavailable
from terrafuse.ingest.search import SceneQuery, clear_cache, collection_scenes, search_scenes
from tests.services.platform.catalog_maker import (
    AssetSpec,
    ItemSpec,
    item_bounds_wgs84,
    lonlat_box,
    utm_transform,
    write_catalog,
)
from tests.support.http import StaticServer


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _item(item_id: str, when: datetime, origin: tuple[float, float], **kw) -> ItemSpec:
    data = np.full((8, 8), 1000, dtype=np.uint16)
    asset = AssetSpec(data, utm_transform(100.0, origin), scale=0.0001, common_name="red")
    return ItemSpec(item_id, when, {"red": asset}, **kw)


WEST = (500_000.0, 6_046_000.0)
EAST = (520_000.0, 6_046_000.0)  # 20 km further east: no overlap with WEST (800 m wide items)


def _catalog(root: Path) -> Path:
    return write_catalog(
        root,
        {
            "s2": [
                _item("w-old", datetime(2021, 3, 1, 11, tzinfo=UTC), WEST),
                _item("w-mid", datetime(2021, 3, 28, 11, tzinfo=UTC), WEST),
                _item("w-new", datetime(2021, 6, 1, 11, tzinfo=UTC), WEST),
                _item("e-new", datetime(2021, 7, 1, 11, tzinfo=UTC), EAST),
            ],
            "dem": [_item("dem-w", datetime(2020, 1, 1, tzinfo=UTC), WEST)],
        },
    )


def _region_over(spec: ItemSpec):
    w, s, e, n = item_bounds_wgs84(spec)
    return box(w + (e - w) / 4, s + (n - s) / 4, e - (e - w) / 4, n - (n - s) / 4)


def test_finds_items_over_the_region_newest_first(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    region = _region_over(_item("x", datetime.now(UTC), WEST))
    found = search_scenes(str(catalog), SceneQuery("s2", region))
    assert [s.id for s in found] == ["w-new", "w-mid", "w-old"]
    oldest = search_scenes(str(catalog), SceneQuery("s2", region, order="oldest"))
    assert [s.id for s in oldest] == ["w-old", "w-mid", "w-new"]
    assert all(s.collection == "s2" for s in found)
    assert found[0].datetime == datetime(2021, 6, 1, 11, tzinfo=UTC)


def test_time_range_is_inclusive_and_other_collections_are_ignored(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    region = _region_over(_item("x", datetime.now(UTC), WEST))
    query = SceneQuery(
        "s2",
        region,
        start=datetime(2021, 3, 28, 11, tzinfo=UTC),
        end=datetime(2021, 6, 1, 11, tzinfo=UTC),
        order="oldest",
    )
    assert [s.id for s in search_scenes(str(catalog), query)] == ["w-mid", "w-new"]
    # Naive bounds are UTC.
    after = SceneQuery("s2", region, start=datetime(2021, 3, 27), order="oldest")
    assert search_scenes(str(catalog), after)[0].id == "w-mid"
    assert [s.id for s in search_scenes(str(catalog), SceneQuery("dem", region))] == ["dem-w"]


def test_without_region_every_item_of_the_collection_matches(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    assert {s.id for s in search_scenes(str(catalog), SceneQuery("s2"))} == {
        "w-old",
        "w-mid",
        "w-new",
        "e-new",
    }


def test_region_elsewhere_finds_nothing(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    assert search_scenes(str(catalog), SceneQuery("s2", box(10.0, 10.0, 10.1, 10.1))) == []


def test_footprint_not_bbox_decides(tmp_path: Path) -> None:
    """An item whose bbox overlaps the region but whose footprint does not is not found."""
    probe = _item("x", datetime.now(UTC), WEST)
    w, s, e, n = item_bounds_wgs84(probe)
    # Footprint: the western half only.
    half = lonlat_box((w, s, (w + e) / 2, n))
    item = _item("half", datetime(2021, 1, 1, tzinfo=UTC), WEST, footprint=half)
    catalog = write_catalog(tmp_path / "stac", {"s2": [item]})
    east_part = box(w + 0.8 * (e - w), s + 0.1 * (n - s), e - 0.05 * (e - w), n - 0.1 * (n - s))
    west_part = box(w + 0.1 * (e - w), s + 0.1 * (n - s), w + 0.3 * (e - w), n - 0.1 * (n - s))
    assert search_scenes(str(catalog), SceneQuery("s2", east_part)) == []
    assert [x.id for x in search_scenes(str(catalog), SceneQuery("s2", west_part))] == ["half"]


def test_assets_are_resolved_with_band_metadata(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    scene = search_scenes(str(catalog), SceneQuery("s2"))[0]
    href = scene.assets["red"]
    assert os.path.isabs(href) and Path(href).is_file()
    band = scene.band("red")
    assert (band.href, band.scale, band.nodata) == (href, 0.0001, 0.0)
    assert shape(lonlat_box(scene.bbox)).covers(scene.footprint)


def test_unknown_collection_lists_the_ones_there(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    with pytest.raises(DataUnavailable, match=r"no collection 'landsat'.*dem, s2"):
        search_scenes(str(catalog), SceneQuery("landsat"))


def test_missing_or_broken_catalog_is_data_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailable, match=r"catalog\.json"):
        search_scenes(str(tmp_path / "nowhere" / "catalog.json"), SceneQuery("s2"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataUnavailable, match="not JSON"):
        search_scenes(str(bad), SceneQuery("s2"))
    feature = tmp_path / "feature.json"
    feature.write_text(json.dumps({"type": "Feature"}), encoding="utf-8")
    with pytest.raises(DataUnavailable, match="not a STAC catalog"):
        search_scenes(str(feature), SceneQuery("s2"))


def test_walks_are_cached_until_the_catalog_changes(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    first = collection_scenes(str(catalog), "s2")
    # Remove an item: the cached walk still knows it (no reading at all on the second search).
    victim = tmp_path / "stac" / "s2" / "w-old" / "w-old.json"
    victim.unlink()
    assert collection_scenes(str(catalog), "s2") is first
    # Rewriting catalog.json (as a rebuild does) gives a new modification time: a fresh walk.
    stat = catalog.stat()
    os.utime(catalog, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(DataUnavailable, match="w-old"):
        collection_scenes(str(catalog), "s2")


def test_file_url_and_path_give_the_same_result(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "stac")
    by_path = [s.id for s in search_scenes(str(catalog), SceneQuery("s2"))]
    by_url = [s.id for s in search_scenes(catalog.as_uri(), SceneQuery("s2"))]
    assert by_path == by_url and len(by_path) == 4


def test_catalog_over_http(tmp_path: Path) -> None:
    _catalog(tmp_path / "www")
    with StaticServer(tmp_path / "www") as server:
        region = _region_over(_item("x", datetime.now(UTC), WEST))
        found = search_scenes(server.url("catalog.json"), SceneQuery("s2", region))
        assert [s.id for s in found] == ["w-new", "w-mid", "w-old"]
        assert found[0].assets["red"] == server.url("s2/w-new/red.tif")
        assert found[0].ref.is_remote


def test_remote_catalog_may_not_link_to_local_files(tmp_path: Path) -> None:
    catalog_path = _catalog(tmp_path / "www")
    doc = json.loads(catalog_path.read_text())
    doc["links"].append({"rel": "child", "href": (tmp_path / "www" / "dem" / "collection.json").as_uri()})
    catalog_path.write_text(json.dumps(doc))
    with StaticServer(tmp_path / "www") as server, pytest.raises(DataUnavailable, match="only http"):
        search_scenes(server.url("catalog.json"), SceneQuery("s2"))


def test_unreachable_server_is_data_unavailable(closed_port: int) -> None:
    with pytest.raises(DataUnavailable, match="cannot connect"):
        search_scenes(f"http://127.0.0.1:{closed_port}/catalog.json", SceneQuery("s2"), timeout=2)


def test_describe_names_the_search() -> None:
    query = SceneQuery("s2", box(-3.5, 54.2, -2.7, 54.7), start=datetime(2021, 3, 27, tzinfo=UTC))
    text = query.describe()
    assert "'s2'" in text and "2021-03-27T00:00:00Z" in text and "-3.5000" in text
