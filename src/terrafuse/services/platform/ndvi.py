"""NDVI: the normalized difference vegetation index ``(nir - red) / (nir + red)`` over a region.

Chain: Sentinel-2 ingestion of red and nir over the slice → ``ndvi.tif`` (float32 in -1..1, NaN
no data). The histogram range is fixed to -1..1 so histograms of a group's slices add up.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.windows import Window

from terrafuse.algorithms.indices import normalized_difference
from terrafuse.core.catalogue import Documentation, Price
from terrafuse.services.base import ComponentContext, RunContext
from terrafuse.services.platform.common import REGION_DOCS, blocks_to_cog
from terrafuse.services.platform.sentinel2 import OPTION_DOCS, Ingested, OpticalService, Product, optical_face


def _ndvi(ctx: RunContext, c: ComponentContext, ingested: Ingested, path: Path) -> None:
    """NDVI of the ingested red and nir, block by block."""

    def ndvi(window: Window, bands: list[NDArray[np.float32]]) -> NDArray[np.float32]:
        red, nir = bands
        return normalized_difference(nir, red)

    blocks_to_cog(ctx, c, ingested.path, path, ndvi, "float32", float("nan"), Resampling.average)


NDVI = OpticalService(
    optical_face(
        "ndvi",
        "NDVI",
        "NDVI",
        categories=("Vegetation",),
        keywords=("NDVI", "Vegetation", "Sentinel-2"),
        documentation=Documentation(
            summary="Normalized difference vegetation index of a Sentinel-2 acquisition over a region.",
            description=(
                "Ingests the red and near-infrared reflectance of the Sentinel-2 L2A acquisition chosen by "
                "the date options over the region and computes NDVI = (nir - red) / (nir + red), from -1 "
                "to 1 (dense vegetation is above about 0.6, water below 0)."
            ),
            assumptions="Clouds are not masked: cloudy pixels have low NDVI.",
            performance="Seconds per slice at 10 m.",
            actions="Download ndvi.tif of each slice.",
            inputs=REGION_DOCS,
            outputs=(
                "reflectance.tif: red and nir reflectance.",
                "ndvi.tif: NDVI (float32, NaN no data).",
            ),
            options=OPTION_DOCS,
        ),
        resolution=10.0,
        price=Price(base=Decimal("1"), per_km2=Decimal("0.005"), minimum=Decimal("1")),
    ),
    ("red", "nir"),
    Product(
        "ndvi",
        "NDVI",
        summary="float32 COG of NDVI in -1..1, NaN no data.",
        description="(nir - red) / (nir + red); NaN no data.",
        histogram_range=(-1.0, 1.0),
    ),
    _ndvi,
    ingestion_share=0.8,
)
