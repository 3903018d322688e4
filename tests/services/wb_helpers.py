"""Helpers of the water-bodies service tests: generated scenes and a static HTTP server.

(A uniquely named module rather than ``conftest`` imports: several test folders have a
``conftest.py`` and only one can be ``import conftest``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from tests.support.http import StaticServer

__all__ = ["Scene", "StaticServer", "make_scene"]

ORIGIN = (600_000.0, 4_420_000.0)  # UTM 10N
SHAPE = (400, 500)


@dataclass(frozen=True)
class Scene:
    """A generated two-band scene with its truth."""

    item_path: Path
    truth: np.ndarray  # 1 water, 0 land
    nodata: np.ndarray  # True where a band is nodata
    bounds: tuple[float, float, float, float]  # in EPSG:32610


def _write(path: Path, data: np.ndarray, res: float) -> None:
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype,
        "crs": "EPSG:32610",
        "transform": from_origin(*ORIGIN, res, res),
        "nodata": 0,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def make_scene(root: Path, item_id: str = "SYN_1", nir_res: float = 10.0, seed: int = 0) -> Scene:
    """A lake and a river in noisy land; a nodata swath edge in green, a nodata hole in nir."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    water = ((rows - 220) ** 2 + (cols - 260) ** 2 < 110**2) | (np.abs(rows - 0.5 * cols - 20) < 6)
    green = np.where(water, rng.normal(1100, 60, SHAPE), rng.normal(700, 80, SHAPE))
    nir = np.where(water, rng.normal(250, 50, SHAPE), rng.normal(2600, 200, SHAPE))
    green = np.clip(green, 1, 10000).astype(np.uint16)
    nir = np.clip(nir, 1, 10000).astype(np.uint16)
    nodata = np.zeros(SHAPE, dtype=bool)
    green[:, :30] = 0
    nodata[:, :30] = True
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "green.tif", green, 10.0)
    if nir_res == 10.0:
        nir[300:320, 100:130] = 0
        nodata[300:320, 100:130] = True
        _write(root / "nir.tif", nir, 10.0)
    else:
        k = int(nir_res // 10)
        coarse = nir.reshape(SHAPE[0] // k, k, SHAPE[1] // k, k).mean(axis=(1, 3)).astype(np.uint16)
        _write(root / "nir.tif", coarse, nir_res)
    left, top = ORIGIN
    bounds = (left, top - 10 * SHAPE[0], left + 10 * SHAPE[1], top)
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/eo/v1.1.0/schema.json"],
        "id": item_id,
        "geometry": None,
        "properties": {"datetime": "2021-07-13T19:03:24Z"},
        "links": [],
        "assets": {
            "B03": {
                "href": "green.tif",
                "roles": ["data"],
                "eo:bands": [{"name": "B03", "common_name": "green"}],
            },
            "B08": {
                "href": "./nir.tif",
                "roles": ["data"],
                "eo:bands": [{"name": "B08", "common_name": "nir"}],
            },
            "thumbnail": {"href": "thumb.png", "roles": ["thumbnail"]},
        },
    }
    item_path = root / f"{item_id}.json"
    item_path.write_text(json.dumps(item))
    return Scene(item_path, water.astype(np.uint8), nodata, bounds)
