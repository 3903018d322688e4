"""Tiny static STAC catalogs of small COGs, written into tmp folders for the tests.

(A uniquely named module rather than ``conftest`` imports; the ingest tests use it too.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.warp import transform_bounds

# A UTM 30N origin near the Lake District (about 3.03 W, 54.56 N).
UTM30 = "EPSG:32630"
ORIGIN = (500_000.0, 6_046_000.0)


def write_cog(
    path: Path,
    data: np.ndarray,
    crs: str,
    transform: Affine,
    nodata: float | None,
    overviews: bool = True,
) -> Path:
    """Write a single-band array as a Cloud-Optimized GeoTIFF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype,
        "crs": crs,
        "transform": transform,
    }
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(data, 1)
        with mem.open() as src:
            options = {"OVERVIEWS": "AUTO"} if overviews else {"OVERVIEWS": "NONE"}
            rasterio.shutil.copy(src, path, driver="COG", BLOCKSIZE=256, **options)
    return path


@dataclass
class AssetSpec:
    """One single-band asset of an item."""

    data: np.ndarray
    transform: Affine
    crs: str = UTM30
    nodata: float | None = 0
    scale: float | None = None
    offset: float | None = None
    common_name: str | None = None


@dataclass
class ItemSpec:
    """One item: id, time and assets (all on one footprint, taken from the first asset)."""

    id: str
    when: datetime
    assets: dict[str, AssetSpec]
    footprint: dict[str, Any] | None = None  # WGS84 geometry; default: the first asset's bounds
    extra_properties: dict[str, Any] = field(default_factory=dict)


def item_bounds_wgs84(spec: ItemSpec) -> tuple[float, float, float, float]:
    """WGS84 bounds of an item's first asset."""
    first = next(iter(spec.assets.values()))
    rows, cols = first.data.shape
    left, top = first.transform.c, first.transform.f
    right, bottom = first.transform @ (cols, rows)
    return transform_bounds(first.crs, "EPSG:4326", left, bottom, right, top, densify_pts=21)


def write_item(folder: Path, collection: str, spec: ItemSpec) -> Path:
    """Write an item's COGs and JSON into ``folder/<id>/``; returns the item JSON path."""
    item_dir = folder / spec.id
    item_dir.mkdir(parents=True, exist_ok=True)
    assets = {}
    for key, asset in spec.assets.items():
        write_cog(item_dir / f"{key}.tif", asset.data, asset.crs, asset.transform, asset.nodata)
        raster_band: dict[str, Any] = {"data_type": str(asset.data.dtype)}
        if asset.nodata is not None:
            raster_band["nodata"] = asset.nodata
        if asset.scale is not None:
            raster_band["scale"] = asset.scale
        if asset.offset is not None:
            raster_band["offset"] = asset.offset
        entry: dict[str, Any] = {
            "href": f"./{key}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "raster:bands": [raster_band],
        }
        if asset.common_name is not None:
            entry["eo:bands"] = [{"name": key, "common_name": asset.common_name}]
        assets[key] = entry
    w, s, e, n = item_bounds_wgs84(spec)
    geometry = spec.footprint or {
        "type": "Polygon",
        "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
    }
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": spec.id,
        "collection": collection,
        "bbox": [w, s, e, n],
        "geometry": geometry,
        "properties": {"datetime": spec.when.strftime("%Y-%m-%dT%H:%M:%SZ"), **spec.extra_properties},
        "links": [{"rel": "collection", "href": "../collection.json"}],
        "assets": assets,
    }
    path = item_dir / f"{spec.id}.json"
    path.write_text(json.dumps(item), encoding="utf-8")
    return path


def write_catalog(root: Path, collections: dict[str, list[ItemSpec]]) -> Path:
    """Write ``root/catalog.json`` with one child collection per entry; returns catalog.json."""
    root.mkdir(parents=True, exist_ok=True)
    children = []
    for collection_id, items in collections.items():
        folder = root / collection_id
        folder.mkdir(parents=True, exist_ok=True)
        links = [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "../catalog.json"}]
        for spec in items:
            path = write_item(folder, collection_id, spec)
            links.append({"rel": "item", "href": f"./{path.relative_to(folder).as_posix()}"})
        collection = {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": collection_id,
            "description": f"test collection {collection_id}",
            "license": "proprietary",
            "extent": {
                "spatial": {"bbox": [[-180, -90, 180, 90]]},
                "temporal": {"interval": [[None, None]]},
            },
            "links": links,
        }
        (folder / "collection.json").write_text(json.dumps(collection), encoding="utf-8")
        children.append({"rel": "child", "href": f"./{collection_id}/collection.json"})
    catalog = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "test-catalog",
        "description": "test catalog",
        "links": [{"rel": "root", "href": "./catalog.json"}, *children],
    }
    path = root / "catalog.json"
    path.write_text(json.dumps(catalog), encoding="utf-8")
    return path


def utm_transform(res: float, origin: tuple[float, float] = ORIGIN) -> Affine:
    """North-up transform at ``origin`` (top-left) in UTM 30N."""
    return Affine(res, 0.0, origin[0], 0.0, -res, origin[1])


def lonlat_box(bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """A GeoJSON Polygon of a lon/lat box."""
    w, s, e, n = bounds
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def utm_polygon(points: list[tuple[float, float]], crs: str = UTM30) -> dict[str, Any]:
    """A GeoJSON Polygon (WGS84) of a ring given in UTM coordinates."""
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    ring = [list(to_wgs84.transform(x, y)) for x, y in [*points, points[0]]]
    return {"type": "Polygon", "coordinates": [ring]}
