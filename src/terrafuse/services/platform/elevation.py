"""Elevation: a digital elevation model of the region, and its slope.

Chain: "DEM Ingestion" mosaics the Copernicus DEM tiles (``cop-dem-glo-90``, asset ``data``)
over the region's bounding box onto a UTM grid → ``dem.tif`` (file type DEM); "Elevation" clips
it to the region → ``elevation.tif`` (float32 metres) and computes ``slope.tif`` (degrees) with
:func:`terrafuse.algorithms.terrain.slope_degrees`. Both are Cloud-Optimized GeoTIFFs, NaN outside
the region. The slope is computed on the unclipped DEM with a one-pixel halo around each block,
so pixels at the region's edge and at block edges get true neighbours.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.windows import Window

from terrafuse.algorithms.terrain import slope_degrees
from terrafuse.core.catalogue import Documentation, PlatformFace, Price
from terrafuse.core.refs import object_ref
from terrafuse.errors import DataUnavailable
from terrafuse.ingest.mosaic import BLOCK_SIZE, Layer, TargetGrid, project_region, region_mask, write_mosaic
from terrafuse.ingest.search import SceneQuery, search_scenes
from terrafuse.services.base import ComponentContext, OutputFile, RunContext
from terrafuse.services.platform.common import (
    REGION_DOCS,
    REGION_INPUT,
    cog_output,
    component_dir,
    describe,
    grid_crs,
    option_value,
    parse_region,
    resolution_option,
    write_cog,
)

COLLECTION = "cop-dem-glo-90"
ASSET = "data"
INGESTION = "DEM Ingestion"
ALGORITHM = "Elevation"
RESOLUTION = resolution_option(30.0)
_INGESTION_SHARE = 0.5

FACE = PlatformFace(
    key="elevation",
    name="Elevation",
    version="1.0.0",
    categories=("Terrain",),
    keywords=("Elevation", "DEM", "Slope", "Terrain", "Copernicus DEM"),
    documentation=Documentation(
        summary="Elevation and slope of a region from the Copernicus digital elevation model.",
        description=(
            "Ingests the Copernicus DEM (GLO-90) tiles covering the region onto the region's UTM grid, then "
            "publishes the elevation clipped to the region (metres above the EGM2008 geoid) and the slope "
            "in degrees."
        ),
        assumptions="GLO-90 is a 90 m surface model: finer resolutions interpolate it.",
        performance="Seconds for a city-sized region.",
        actions="Download elevation.tif and slope.tif.",
        inputs=REGION_DOCS,
        outputs=(
            "dem.tif: the DEM over the region's bounding box (float32 metres).",
            "elevation.tif: elevation in the region (float32 metres, NaN outside).",
            "slope.tif: slope in degrees (float32, NaN outside).",
        ),
        options=("resolution: pixel size in metres.",),
    ),
    inputs=(REGION_INPUT,),
    options=(RESOLUTION,),
    price=Price(base=Decimal("1"), per_km2=Decimal("0.002"), minimum=Decimal("1")),
    chain=(INGESTION, ALGORITHM),
    featured=True,
)


class ElevationService:
    """The Elevation catalogue entry (see the module docstring)."""

    face = FACE
    description = describe(
        FACE,
        FACE.documentation.description,
        {
            "elevation": cog_output(
                "Elevation", "float32 COG of elevation in metres, NaN outside the region."
            ),
            "slope": cog_output("Slope", "float32 COG of slope in degrees, NaN outside the region."),
        },
    )

    def check_inputs(self, inputs: dict[str, Any]) -> None:
        """Refuse a bad region or resolution."""
        parse_region(inputs)
        option_value(inputs, RESOLUTION)

    def run(self, ctx: RunContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Ingest the DEM, clip it, compute the slope; returns refs of ``elevation`` and ``slope``."""
        region = parse_region(inputs)
        resolution = float(option_value(inputs, RESOLUTION))
        crs = grid_crs(inputs, region)
        grid = TargetGrid.covering(region, crs, resolution)
        with ctx.component(INGESTION, share=_INGESTION_SHARE) as c:
            for data_id in ctx.input_data_ids:
                c.add_input(data_id)
            dem, dem_path = _ingest(ctx, c, region, grid)
        with ctx.component(ALGORITHM, share=1 - _INGESTION_SHARE) as c:
            c.add_input(dem.data_id)
            folder = component_dir(ctx, "elevation")
            elevation_scratch, slope_scratch = folder / "elevation_scratch.tif", folder / "slope_scratch.tif"
            _terrain(ctx, c, dem_path, project_region(region, crs), elevation_scratch, slope_scratch)
            outputs = {}
            for name, scratch, title in (
                ("elevation", elevation_scratch, "Elevation (m)"),
                ("slope", slope_scratch, "Slope (degrees)"),
            ):
                path = folder / f"{name}.tif"
                write_cog(scratch, path, Resampling.average)
                outputs[name] = c.add_output(
                    path, "GeoTIFF", title=title, description=f"{title}; NaN no data."
                )
            c.progress(1.0)
        return {name: object_ref(out.key) for name, out in outputs.items()}


def _ingest(ctx: RunContext, c: ComponentContext, region: Any, grid: TargetGrid) -> tuple[OutputFile, Path]:
    """Mosaic the DEM tiles over the grid; publish ``dem.tif``."""
    query = SceneQuery(COLLECTION, region, order="newest")
    tiles = search_scenes(ctx.catalog_url, query)
    if not tiles:
        raise DataUnavailable(f"no elevation data was found in {query.describe()}")
    c.log(f"mosaicking {len(tiles)} DEM tile(s): {', '.join(t.id for t in tiles)}")
    c.log(f"grid: {grid.width} x {grid.height} pixels of {grid.resolution:g} m in {grid.crs}")
    folder = component_dir(ctx, "dem")
    scratch = folder / "dem_scratch.tif"
    layer = Layer("elevation", tuple(t.band(ASSET) for t in tiles))
    result = write_mosaic(
        scratch,
        [layer],
        grid,
        progress=lambda f: c.progress(0.9 * f),
        check_cancelled=ctx.check_cancelled,
    )
    if result.valid_pixels == 0:
        raise DataUnavailable(f"the DEM tiles {', '.join(t.id for t in tiles)} have no data over the region")
    path = folder / "dem.tif"
    write_cog(scratch, path, Resampling.average)
    out = c.add_output(path, "DEM", title="Digital elevation model", description="Metres; NaN no data.")
    c.progress(1.0)
    return out, path


def _terrain(
    ctx: RunContext, c: ComponentContext, dem_path: Path, region: Any, elevation_path: Path, slope_path: Path
) -> None:
    """Clip the DEM to the region and compute the slope, block by block with a 1-pixel halo."""

    with rasterio.open(dem_path) as dem:
        grid = TargetGrid(str(dem.crs), dem.transform, dem.width, dem.height)
        xres, yres = abs(dem.transform.a), abs(dem.transform.e)
        profile = grid.profile(1, "float32", float("nan"))
        total, done, inside_valid = grid.width * grid.height, 0, 0
        with (
            rasterio.open(elevation_path, "w", **profile) as elev,
            rasterio.open(slope_path, "w", **profile) as slp,
        ):
            for window in grid.blocks(BLOCK_SIZE):
                ctx.check_cancelled()
                inside = region_mask(grid, region, window)
                heights = _read_with_halo(dem, window)
                slope = np.asarray(slope_degrees(heights, xres, yres, float("nan")), dtype=np.float32)[
                    1:-1, 1:-1
                ]
                core = heights[1:-1, 1:-1]
                keep = inside & np.isfinite(core)
                elev.write(np.where(keep, core, np.float32(np.nan)).astype(np.float32), 1, window=window)
                slp.write(np.where(keep & np.isfinite(slope), slope, np.float32(np.nan)), 1, window=window)
                inside_valid += int(np.count_nonzero(keep))
                done += int(window.width * window.height)
                c.progress(0.8 * done / total)
    if inside_valid == 0:
        raise DataUnavailable("the elevation data has no value inside the region")
    c.log(f"{inside_valid} pixels with elevation inside the region")


def _read_with_halo(dem: rasterio.io.DatasetReader, window: Window) -> NDArray[np.float32]:
    """The window grown by one pixel on each side; NaN beyond the raster and for nodata."""
    col0, row0 = int(window.col_off) - 1, int(window.row_off) - 1
    col1, row1 = int(window.col_off + window.width) + 1, int(window.row_off + window.height) + 1
    c0, r0, c1, r1 = max(col0, 0), max(row0, 0), min(col1, dem.width), min(row1, dem.height)
    data = dem.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(np.float32)
    nodata = dem.nodata
    if nodata is not None and not np.isnan(nodata):
        data[data == nodata] = np.nan
    out = np.full((row1 - row0, col1 - col0), np.nan, dtype=np.float32)
    out[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = data
    return out


ELEVATION = ElevationService()
