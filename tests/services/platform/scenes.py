"""Synthetic Sentinel-2-like scenes and DEM tiles for the platform service tests.

Each S2 scene is 240 x 240 pixels of 20 m (4.8 km) in UTM 30N, uint16 with scale 0.0001 and
nodata 0: a round lake (green above nir) in vegetation (nir far above red). Each scene's red
reflectance over land is its own (``red_land``), so the NDVI tells which scene was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine

from tests.services.platform.catalog_maker import (
    ORIGIN,
    AssetSpec,
    ItemSpec,
    utm_polygon,
    utm_transform,
    write_catalog,
)

SIZE = 240
RES = 20.0
SCALE = 0.0001
LAKE_CENTRE = (120, 110)  # row, col
LAKE_RADIUS = 50


@dataclass(frozen=True)
class S2Scene:
    """One scene to generate."""

    id: str
    when: datetime
    red_land: int = 500  # stored value (x 0.0001 = reflectance)
    origin: tuple[float, float] = ORIGIN


def lake_truth() -> np.ndarray:
    """True on the lake, on the scenes' own 240 x 240 grid."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    return (rows - LAKE_CENTRE[0]) ** 2 + (cols - LAKE_CENTRE[1]) ** 2 < LAKE_RADIUS**2


def band_values(scene: S2Scene, seed: int = 0) -> dict[str, np.ndarray]:
    """The stored uint16 values of the five bands of a scene."""
    rng = np.random.default_rng(seed)
    lake = lake_truth()

    def band(water: float, land: float, noise: float) -> np.ndarray:
        values = np.where(lake, water, land) + rng.normal(0, noise, lake.shape)
        return np.clip(values, 1, 10_000).astype(np.uint16)

    return {
        "blue": band(600, 400, 10),
        "green": band(900, 600, 10),
        "red": band(300, scene.red_land, 5),
        "nir": band(150, 3000, 20),
        "swir16": band(50, 1800, 10),
    }


def s2_item(scene: S2Scene, seed: int = 0) -> ItemSpec:
    """The ItemSpec of a scene (assets with common names and raster:bands scale)."""
    transform = utm_transform(RES, scene.origin)
    assets = {
        name: AssetSpec(values, transform, scale=SCALE, offset=0.0, common_name=name)
        for name, values in band_values(scene, seed).items()
    }
    return ItemSpec(scene.id, scene.when, assets)


def s2_catalog(root: Path, scenes: list[S2Scene], extra: dict[str, list[ItemSpec]] | None = None) -> Path:
    """A catalog with a ``sentinel-2-l2a`` collection of the scenes; returns catalog.json."""
    return write_catalog(
        root, {"sentinel-2-l2a": [s2_item(s, i) for i, s in enumerate(scenes)], **(extra or {})}
    )


def scene_region(inset_px: float = 20, origin: tuple[float, float] = ORIGIN) -> dict[str, Any]:
    """A pentagon (WGS84 GeoJSON) well inside a scene, covering the lake and land around it."""
    x0, y1 = origin
    size = SIZE * RES
    m = inset_px * RES
    points = [
        (x0 + m, y1 - size + m),
        (x0 + size - m, y1 - size + m),
        (x0 + size - m, y1 - size / 2),
        (x0 + size / 2, y1 - m),
        (x0 + m, y1 - m),
    ]
    return utm_polygon(points)


DEM_RES_DEG = 1 / 1200  # 3 arc-seconds
DEM_REFERENCE_LON = -4.0


def dem_tile(west: float, north: float, size_deg: float = 0.25) -> tuple[np.ndarray, Affine]:
    """A 4326 DEM tile (float32 metres) of a tilted plane rising 50 m per km eastwards.

    Height = 100 + 50 * (lon + 4) * 111.32 * cos(lat) km, the same plane in every tile: a slope
    of atan(0.05) ≈ 2.86° everywhere (up to the UTM scale factor).
    """
    size = round(size_deg / DEM_RES_DEG)
    lons = west + (np.arange(size) + 0.5) * DEM_RES_DEG
    lats = north - (np.arange(size) + 0.5) * DEM_RES_DEG
    km_east = (lons[None, :] - DEM_REFERENCE_LON) * 111.32 * np.cos(np.radians(lats[:, None]))
    heights = (100.0 + 50.0 * km_east).astype(np.float32)
    return heights, Affine(DEM_RES_DEG, 0.0, west, 0.0, -DEM_RES_DEG, north)
