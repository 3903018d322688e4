"""Writing Cloud-Optimized GeoTIFFs for the demo catalog (GDAL's COG driver through rasterio)."""

from __future__ import annotations

from pathlib import Path

import rasterio
import rasterio.shutil
from rasterio.enums import Resampling

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
BLOCK_SIZE = 512


def cog_options(resampling: Resampling = Resampling.average, level: int = 6) -> dict[str, str]:
    """Creation options of every demo COG: DEFLATE + horizontal predictor, 512 blocks, overviews.

    ``resampling`` is used for the internal overviews: ``average`` suits reflectance, ``nearest``
    suits class and mask bands (averaging class codes would invent classes). ``level`` is the
    DEFLATE level (1 fastest, 9 smallest).
    """
    return {
        "COMPRESS": "DEFLATE",
        "LEVEL": str(level),
        "PREDICTOR": "2",
        "BLOCKSIZE": str(BLOCK_SIZE),
        "OVERVIEWS": "AUTO",
        "OVERVIEW_RESAMPLING": resampling.name.upper(),
        "RESAMPLING": resampling.name.upper(),
        # Compression dominates the build time; GDAL compresses blocks in parallel but writes them
        # in order, so the pixel content does not depend on thread scheduling.
        "NUM_THREADS": "ALL_CPUS",
        "BIGTIFF": "IF_SAFER",
    }


def copy_to_cog(src: Path, dst: Path, *, resampling: Resampling = Resampling.average, level: int = 6) -> None:
    """Copy a single-band raster file (nodata already declared) into a COG at ``dst``."""
    with rasterio.open(src) as ds:
        rasterio.shutil.copy(ds, dst, driver="COG", **cog_options(resampling, level))


def convert_to_cog(
    src: Path,
    dst: Path,
    *,
    resampling: Resampling = Resampling.average,
    nodata: float | None = None,
    raise_zero_to_one: bool = False,
) -> None:
    """Convert the first band of ``src`` (any GDAL raster, small) into a COG at ``dst``.

    Args:
        src: source raster.
        dst: output path (parent folder must exist).
        resampling: overview resampling.
        nodata: nodata value to declare on the COG (``None`` keeps the source's).
        raise_zero_to_one: turn source zeros into ones before declaring 0 as nodata. The sample
            scenes declare no nodata, and a few genuine zero pixels (e.g. Sentinel-2 cirrus)
            would otherwise vanish; ESA's own products reserve 0 for nodata the same way.
    """
    with rasterio.open(src) as ds:
        data = ds.read(1)
        profile = {
            "driver": "GTiff",
            "width": ds.width,
            "height": ds.height,
            "count": 1,
            "dtype": data.dtype,
            "crs": ds.crs,
            "transform": ds.transform,
            "nodata": nodata if nodata is not None else ds.nodata,
        }
        area_or_point = ds.tags().get("AREA_OR_POINT")
    if raise_zero_to_one:
        data[data == 0] = 1
    # The sample scenes are a few MB each, so an in-memory GeoTIFF is the simplest source.
    with rasterio.MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(data, 1)
            if area_or_point:
                # Landsat declares PixelIsPoint; keep it so the georeferencing stays identical.
                tmp.update_tags(AREA_OR_POINT=area_or_point)
        with mem.open() as tmp:
            rasterio.shutil.copy(tmp, dst, driver="COG", **cog_options(resampling))
