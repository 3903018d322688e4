"""Demo: Sentinel-2 Cloud Classification (and its 1.1-guide name, Demo: Cloud Classification).

Chain: Sentinel-2 ingestion of blue, green, red, nir and swir16 over the slice → classification
into 0 ground, 1 shadow, 2 thick cloud, 3 thin cloud (255 no data) by
:func:`terrafuse.algorithms.clouds.classify_clouds`. The output's histogram range is fixed to
0..3, so its 10-bin histogram puts the classes in bins 0, 3, 6 and 9 in every slice and the
histograms of a group can be summed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.windows import Window

from terrafuse.algorithms.clouds import CLASS_NAMES, GROUND, NODATA, THIN_CLOUD, classify_clouds
from terrafuse.core.catalogue import Documentation, Price
from terrafuse.services.base import ComponentContext, RunContext
from terrafuse.services.platform.common import REGION_DOCS, blocks_to_cog
from terrafuse.services.platform.sentinel2 import Ingested, OpticalService, Product, optical_face

BANDS = ("blue", "green", "red", "nir", "swir16")
CLASSES = range(GROUND, THIN_CLOUD + 1)
PRICE = Price(base=Decimal("1"), per_km2=Decimal("0.01"), minimum=Decimal("1"))
PRODUCT = Product(
    "cloud_classification",
    "Cloud classification",
    summary="uint8 COG: 0 ground, 1 shadow, 2 thick cloud, 3 thin cloud, 255 no data.",
    description="0 ground, 1 shadow, 2 thick cloud, 3 thin cloud, 255 no data.",
    histogram_range=(float(GROUND), float(THIN_CLOUD)),
)
_INGESTION_SHARE = 0.7

_DOCUMENTATION = Documentation(
    summary="Classifies each pixel of a Sentinel-2 scene as ground, cloud shadow, thick cloud or thin cloud.",
    description=(
        "Ingests the Sentinel-2 L2A acquisition chosen by the date options over the region (blue, green, "
        "red, near infrared and short-wave infrared reflectance), then classifies every pixel into four "
        "classes: 0 ground, 1 cloud shadow, 2 thick cloud, 3 thin cloud (255 outside the region or without "
        "data). Large regions are split into slices that run in parallel; a statistics aggregator sums "
        "their histograms into a CSV."
    ),
    assumptions="Optical data only: night-time or snow-covered scenes are not handled specially.",
    performance="About a minute per slice at 20 m.",
    actions="Download the classification of each slice and merge them (e.g. rasterio.merge).",
    inputs=REGION_DOCS,
    outputs=(
        "reflectance.tif: the ingested reflectance (5 bands, float32).",
        "cloud_classification.tif: the classes (uint8; 0 ground, 1 shadow, 2 thick cloud, 3 thin cloud, "
        "255 no data).",
    ),
    options=(
        "latest_date: use the newest acquisition.",
        "start_date, end_date: otherwise, the first acquisition in this range.",
        "resolution: pixel size in metres.",
    ),
)


def _classify(ctx: RunContext, c: ComponentContext, ingested: Ingested, path: Path) -> None:
    """Classify the ingested reflectance block by block into the COG ``path``; log the class shares."""
    counts = dict.fromkeys(CLASSES, 0)

    def classify(window: Window, bands: list[NDArray[np.float32]]) -> NDArray[np.uint8]:
        valid = np.all([np.isfinite(b) for b in bands], axis=0)
        if not valid.any():
            return np.full(valid.shape, NODATA, dtype=np.uint8)
        classes = np.asarray(classify_clouds(*bands, nodata_mask=~valid), dtype=np.uint8)
        classes = np.where(valid, classes, np.uint8(NODATA))
        found = np.bincount(classes[valid], minlength=len(CLASSES))
        for k in counts:
            counts[k] += int(found[k])
        return classes

    blocks_to_cog(ctx, c, ingested.path, path, classify, "uint8", NODATA, Resampling.nearest)
    total = sum(counts.values())
    if total:
        shares = ", ".join(f"{CLASS_NAMES[k]} {v / total:.1%}" for k, v in counts.items())
        c.log(f"classified {total} pixels: {shares}")


def _service(key: str, name: str, algorithm: str) -> OpticalService:
    """One of the two catalogue entries: they differ in key, names and whether they are featured."""
    face = optical_face(
        key,
        name,
        algorithm,
        categories=("Clouds", "Demo"),
        keywords=("Cloud", "Cloud Classification", "Sentinel-2", "Demo"),
        documentation=_DOCUMENTATION,
        resolution=20.0,
        price=PRICE,
        featured=key == "cloud-classification",
    )
    return OpticalService(face, BANDS, PRODUCT, _classify, ingestion_share=_INGESTION_SHARE)


CLOUD_CLASSIFICATION = _service(
    "cloud-classification", "Demo: Sentinel-2 Cloud Classification", "Sentinel-2 Cloud Classification"
)
CLOUD_CLASSIFICATION_V1 = _service(
    "cloud-classification-v1", "Demo: Cloud Classification", "Demo: Cloud Classification"
)
