"""Water Bodies over a region: the OGC ``water-bodies`` algorithm (NDWI + Otsu) as a platform service.

Chain: Sentinel-2 ingestion of green and nir over the slice → ``water_mask.tif`` (uint8: 1 water,
0 land, 255 no data). Same kernels as :mod:`terrafuse.services.water_bodies`: pass 1 turns each
block's NDWI into Otsu histogram codes (scratch file) and fills the histogram; pass 2 maps the
codes to the mask with Otsu's split. Each slice finds its own threshold.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.windows import Window

from terrafuse.algorithms.otsu import Histogram
from terrafuse.algorithms.water import MASK_NODATA, BandValues, classify_codes, code_dtype, ndwi_codes
from terrafuse.core.catalogue import Documentation, Price
from terrafuse.errors import DataUnavailable
from terrafuse.services.base import ComponentContext, RunContext
from terrafuse.services.platform.common import REGION_DOCS, blocks_to_cog, transform_blocks
from terrafuse.services.platform.sentinel2 import OPTION_DOCS, Ingested, OpticalService, Product, optical_face

# NaN marks no data in the ingested reflectance.
_NAN_BAND = BandValues(nodata=float("nan"))


def _detect(ctx: RunContext, c: ComponentContext, ingested: Ingested, path: Path) -> None:
    """Two passes over the ingested bands (see the module docstring) into the mask COG ``path``."""
    hist = Histogram()
    dtype = np.dtype(code_dtype(hist)).name

    def codes(window: Window, bands: list[NDArray[np.float32]]) -> NDArray[Any]:
        green, nir = bands
        return ndwi_codes(green, nir, hist, _NAN_BAND, _NAN_BAND)

    codes_path = path.with_name("ndwi_codes.tif")
    transform_blocks(
        ingested.path,
        codes_path,
        dtype,
        hist.bins,
        codes,
        progress=lambda f: c.progress(0.6 * f),
        check_cancelled=ctx.check_cancelled,
    )
    if hist.total == 0:
        raise DataUnavailable("the region has no pixel with both green and nir reflectance")
    split = hist.otsu_split()
    water = hist.count_above(split)
    c.log(
        f"Otsu threshold {hist.otsu_threshold():.4f} over {hist.total} valid pixels; "
        f"water fraction {water / hist.total:.4f}"
    )

    def mask(window: Window, bands: list[NDArray[np.float32]]) -> NDArray[np.uint8]:
        # The codes file declares the nodata code as nodata, so it reads back as NaN.
        (code,) = bands
        missing = np.isnan(code)
        return classify_codes(np.where(missing, hist.bins, code).astype(dtype), split, hist.bins)

    blocks_to_cog(
        ctx, c, codes_path, path, mask, "uint8", MASK_NODATA, Resampling.nearest, progress=(0.6, 0.3)
    )
    codes_path.unlink()


WATER_BODIES_REGION = OpticalService(
    optical_face(
        "water-bodies-region",
        "Water Bodies",
        "Water Bodies",
        categories=("Water",),
        keywords=("Water", "Water Bodies", "NDWI", "Otsu", "Sentinel-2"),
        documentation=Documentation(
            summary="Water mask of a Sentinel-2 acquisition over a region (NDWI with Otsu's threshold).",
            description=(
                "Ingests the green and near-infrared reflectance of the Sentinel-2 L2A acquisition chosen by "
                "the date options over the region, computes NDWI = (green - nir) / (green + nir) and splits "
                "it into water and land with Otsu's threshold: the algorithm of the OGC 'water-bodies' "
                "process."
            ),
            assumptions="Each slice has both water and land for Otsu's threshold to be meaningful.",
            performance="Seconds per slice at 10 m.",
            actions="Download water_mask.tif of each slice.",
            inputs=REGION_DOCS,
            outputs=(
                "reflectance.tif: green and nir reflectance.",
                "water_mask.tif: 1 water, 0 land, 255 no data (uint8).",
            ),
            options=OPTION_DOCS,
        ),
        resolution=10.0,
        price=Price(base=Decimal("1"), per_km2=Decimal("0.005"), minimum=Decimal("1")),
    ),
    ("green", "nir"),
    Product(
        "water_mask",
        "Water mask",
        summary="uint8 COG: 1 water, 0 land, 255 no data.",
        description="1 water, 0 land, 255 no data.",
        histogram_range=(0.0, 1.0),
    ),
    _detect,
    ingestion_share=0.7,
)
