"""The ``water-bodies`` service: water masks from NDWI and Otsu's threshold.

A re-implementation of the OGC EO Application Package "water-bodies" (eoap
``app-water-bodies-cloud-native``): for each STAC Item, crop the green and near-infrared bands
to the AOI, compute the NDWI ``(green - nir) / (green + nir)``, threshold it with Otsu's method
and publish the mask as a Cloud-Optimized GeoTIFF with a STAC Item. Deliberate differences
from the package: the AOI is reprojected with densified edges; the mask's nodata is 255 (the
package inherits nodata 0, which flags every "no water" pixel as nodata); bands on different
grids are resampled onto the first band's grid; ``raster:bands`` scale/offset are applied.

Each Item is one task (``ctx.map``). Within an Item, memory stays bounded whatever the AOI
size: pass 1 reads both bands block by block, turns NDWI into histogram codes
(:mod:`terrafuse.algorithms.water`) written to a scratch GeoTIFF and fills the histogram;
pass 2 maps the codes to the mask with the Otsu split; GDAL's COG driver then writes the
final file.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
import rasterio.shutil
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.windows import Window

from terrafuse.algorithms.otsu import Histogram
from terrafuse.algorithms.water import (
    MASK_NODATA,
    BandValues,
    classify_codes,
    code_dtype,
    ndwi_codes,
)
from terrafuse.errors import DataUnavailable, InvalidInput
from terrafuse.ingest.raster import (
    Bounds,
    aoi_window,
    block_windows,
    check_bounds_in_crs,
    on_grid_of,
    open_raster,
    parse_aoi,
    parse_crs,
    raster_env,
    read_blocks,
)
from terrafuse.ingest.stac import BandAsset, StacItemRef, check_item_url, fetch_item, find_band_asset
from terrafuse.services.base import (
    InputDescription,
    OutputDescription,
    RunContext,
    ServiceDescription,
    TaskContext,
)
from terrafuse.services.water_bodies_stac import MaskResult, mask_item

SERVICE_ID = "water-bodies"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
DEFAULT_EPSG = "EPSG:4326"
DEFAULT_BANDS = ("green", "nir")
HTTP_TIMEOUT = 30.0
COG_BLOCK = 512
# Pixels per block read: memory per Item is a few times this (x 2 bytes per band), whatever
# the AOI size; large enough for GDAL to merge the range requests of a row of tiles.
BLOCK_PIXELS = 1 << 22

# Share of an Item's progress at the end of each stage (reading dominates).
_PASS1_END, _PASS2_END, _COG_END = 0.75, 0.85, 0.99

DESCRIPTION = ServiceDescription(
    id=SERVICE_ID,
    version="1.0.0",
    title="Water bodies detection based on NDWI and the Otsu threshold",
    description=(
        "Detects water bodies in optical scenes (e.g. Sentinel-2 L2A): for each STAC Item, the "
        "NDWI (green - nir) / (green + nir) is computed over the area of interest and split into "
        "water and land with Otsu's threshold. Returns a STAC FeatureCollection with one Item per "
        "input Item whose 'data' asset is a Cloud-Optimized GeoTIFF mask (1 water, 0 land, 255 no "
        "data)."
    ),
    inputs={
        "stac_items": InputDescription(
            title="STAC Items",
            description="URLs of the STAC Items to process (http(s) URLs of Item JSON documents).",
            schema={"type": "array", "items": {"type": "string", "format": "uri"}, "minItems": 1},
        ),
        "aoi": InputDescription(
            title="Area of interest",
            description="Bounding box 'minx,miny,maxx,maxy' in the CRS given by 'epsg'.",
            schema={"type": "string"},
        ),
        "epsg": InputDescription(
            title="EPSG code",
            description="CRS of the area of interest's numbers, e.g. 'EPSG:4326' (longitude, latitude).",
            schema={"type": "string", "default": DEFAULT_EPSG},
            min_occurs=0,
        ),
        "bands": InputDescription(
            title="Bands",
            description="Common names of the two bands of the normalized difference (a - b) / (a + b).",
            schema={
                "type": "array",
                "items": {"type": "string"},
                "minItems": 2,
                "maxItems": 2,
                "default": list(DEFAULT_BANDS),
            },
            min_occurs=0,
        ),
    },
    outputs={
        "stac_catalog": OutputDescription(
            title="Water bodies STAC catalog",
            description="A STAC FeatureCollection: one Item per input Item, with the water mask asset.",
            schema={
                "type": "object",
                "contentMediaType": "application/json",
                "required": ["type", "features"],
                "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"type": "object"}},
                },
            },
        ),
    },
    keywords=("water", "NDWI", "Otsu", "Sentinel-2", "STAC"),
    job_control=("async-execute", "sync-execute", "dismiss"),
    inline=False,
    metadata=(
        {
            "title": "OGC EO Application Package this service re-implements",
            "href": "https://github.com/eoap/mastering-app-package",
        },
    ),
)


@dataclass(frozen=True)
class WaterInputs:
    """The service's inputs, parsed and validated."""

    items: tuple[str, ...]
    aoi: Bounds
    crs: str
    bands: tuple[str, str]


@dataclass(frozen=True)
class WaterTask:
    """One Item to process: plain data, picklable, sent to a worker."""

    item_url: str
    aoi: tuple[float, float, float, float]
    aoi_crs: str
    bands: tuple[str, str]
    http_timeout: float = HTTP_TIMEOUT


def parse_inputs(inputs: dict[str, Any]) -> WaterInputs:
    """Validate the raw input values (defaults applied when missing).

    Raises:
        InvalidInput: naming the input and what is wrong with it.
    """
    items = inputs.get("stac_items")
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not items:
        raise InvalidInput("stac_items must be a non-empty list of STAC Item URLs")
    urls: list[str] = []
    for value in items:
        # OGC clients may send {"href": ...} for URI values.
        url = value.get("href") if isinstance(value, dict) else value
        if not isinstance(url, str) or not url.strip():
            raise InvalidInput(f"stac_items: {value!r} is not a URL")
        check_item_url(url.strip())
        if url.strip() in urls:
            raise InvalidInput(f"stac_items lists {url.strip()} twice")
        urls.append(url.strip())
    if "aoi" not in inputs:
        raise InvalidInput("aoi is required ('minx,miny,maxx,maxy')")
    aoi = parse_aoi(inputs["aoi"])
    crs = parse_crs(inputs.get("epsg", DEFAULT_EPSG))
    check_bounds_in_crs(aoi, crs)
    bands = inputs.get("bands", list(DEFAULT_BANDS))
    if (
        not isinstance(bands, list | tuple)
        or len(bands) != 2
        or not all(isinstance(b, str) and b.strip() for b in bands)
    ):
        raise InvalidInput(f"bands must be two band names such as ['green', 'nir'], got {bands!r}")
    if bands[0].strip() == bands[1].strip():
        raise InvalidInput(f"bands must name two different bands, got {bands!r}")
    return WaterInputs(tuple(urls), aoi, crs, (bands[0].strip(), bands[1].strip()))


class WaterBodiesService:
    """The ``water-bodies`` service (see the module docstring)."""

    description = DESCRIPTION

    def check_inputs(self, inputs: dict[str, Any]) -> None:
        """Refuse malformed aoi, epsg, bands and item URLs before a job is created."""
        parse_inputs(inputs)

    def run(self, ctx: RunContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Detect water in every Item; returns ``{"stac_catalog": FeatureCollection}``."""
        parsed = parse_inputs(inputs)
        tasks = [WaterTask(url, tuple(parsed.aoi), parsed.crs, parsed.bands) for url in parsed.items]
        ctx.log(
            f"detecting water bodies in {len(tasks)} item(s) over {','.join(map(str, parsed.aoi))} "
            f"({parsed.crs}) with bands {parsed.bands[0]}, {parsed.bands[1]}"
        )
        features = ctx.map(detect_water_item, tasks)
        return {"stac_catalog": {"type": "FeatureCollection", "features": features}}


WATER_BODIES = WaterBodiesService()


def detect_water_item(ctx: TaskContext, task: WaterTask) -> dict[str, Any]:
    """Compute, store and describe the water mask of one Item.

    Returns:
        The STAC Item (a dict) of the mask; its ``data`` asset references the stored COG.

    Raises:
        DataUnavailable: the Item, a band or pixels in the AOI are missing or unreadable.
        ExecutionCancelled: when the execution is dismissed (checked between blocks).
    """
    ref = fetch_item(task.item_url, timeout=task.http_timeout)
    assets = (find_band_asset(ref, task.bands[0]), find_band_asset(ref, task.bands[1]))
    ctx.log(f"{ref.id}: NDWI of {assets[0].key} and {assets[1].key}")
    ctx.check_cancelled()
    workdir = Path(tempfile.mkdtemp(prefix="water-", dir=ctx.scratch_dir()))
    try:
        with raster_env(timeout=task.http_timeout) as env:
            ndwi = _pass1(ctx, ref, assets, task, workdir, env)
        mask_path = _pass2(ctx, ndwi, workdir)
        cog_path = workdir / "otsu.tif"
        _write_cog(mask_path, cog_path)
        ctx.progress(_COG_END)
        key = ctx.output_key(_key_part(ref.id), "otsu.tif")
        item = mask_item(ref, ndwi.result, key)
        # Storing is the last step: a dismissal noticed before it leaves nothing behind, and
        # nothing after it can fail.
        ctx.storage.put_file(key, cog_path, COG_MEDIA_TYPE)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return item


@dataclass(frozen=True)
class _Pass1:
    """Pass 1's products: figures, the scratch file of NDWI codes and Otsu's split."""

    result: MaskResult
    codes_path: Path
    split: int
    bins: int


def _pass1(
    ctx: TaskContext,
    ref: StacItemRef,
    assets: tuple[BandAsset, BandAsset],
    task: WaterTask,
    workdir: Path,
    env: rasterio.Env,
) -> _Pass1:
    """Read both bands block by block; write NDWI codes, fill the histogram, find the split."""
    with ExitStack() as stack:
        ds_a = stack.enter_context(open_raster(assets[0].href))
        ds_b = stack.enter_context(open_raster(assets[1].href))
        values_a = _band_values(ref, assets[0], ds_a)
        values_b = _band_values(ref, assets[1], ds_b)
        window = aoi_window(ds_a, Bounds(*task.aoi), task.aoi_crs, what=f"item {ref.id}")
        src_b = on_grid_of(ds_b, ds_a, values_b.nodata if values_b.nodata is not None else 0.0)
        if src_b is not ds_b:
            stack.enter_context(src_b)
            ctx.log(f"{ref.id}: {assets[1].key} is resampled onto the grid of {assets[0].key}")
        hist = Histogram()
        transform = ds_a.window_transform(window)
        codes_path = workdir / "ndwi_codes.tif"
        profile = _tiled_profile(ds_a.crs, transform, window, code_dtype(hist))
        total, done = window.width * window.height, 0
        blocks = block_windows(window, ds_a.block_shapes[assets[0].band - 1], BLOCK_PIXELS)
        sources = [(ds_a, assets[0].band), (src_b, assets[1].band)]
        with rasterio.open(codes_path, "w", **profile) as dst:
            for block, (a, b) in read_blocks(sources, blocks, env):
                ctx.check_cancelled()
                dst.write(ndwi_codes(a, b, hist, values_a, values_b), 1, window=_relative(block, window))
                done += block.width * block.height
                ctx.progress(_PASS1_END * done / total)
        crs, shape = ds_a.crs, (int(window.height), int(window.width))
    if hist.total == 0:
        raise DataUnavailable(
            f"item {ref.id} has no valid pixels of {task.bands[0]} and {task.bands[1]} in the AOI"
        )
    split = hist.otsu_split()
    result = MaskResult(
        crs=crs,
        transform=transform,
        shape=shape,
        threshold=hist.otsu_threshold(),
        valid_pixels=hist.total,
        water_pixels=hist.count_above(split),
        bands=task.bands,
    )
    ctx.log(
        f"{ref.id}: Otsu threshold {result.threshold:.4f} over {result.valid_pixels} valid pixels; "
        f"water fraction {result.water_fraction:.4f}"
    )
    return _Pass1(result, codes_path, split, hist.bins)


def _pass2(ctx: TaskContext, ndwi: _Pass1, workdir: Path) -> Path:
    """Threshold the codes into the mask (1 water, 0 land, 255 nodata), block by block."""
    mask_path = workdir / "mask.tif"
    with rasterio.open(ndwi.codes_path) as src:
        full = Window(0, 0, src.width, src.height)
        profile = _tiled_profile(src.crs, src.transform, full, "uint8", nodata=MASK_NODATA)
        total, done = src.width * src.height, 0
        with rasterio.open(mask_path, "w", **profile) as dst:
            for block in block_windows(full, src.block_shapes[0], BLOCK_PIXELS):
                ctx.check_cancelled()
                dst.write(classify_codes(src.read(1, window=block), ndwi.split, ndwi.bins), 1, window=block)
                done += block.width * block.height
                ctx.progress(_PASS1_END + (_PASS2_END - _PASS1_END) * done / total)
    return mask_path


def _write_cog(src_path: Path, dst_path: Path) -> None:
    """Turn the mask into a COG: DEFLATE, 512 blocks, nearest-neighbour overviews.

    The overviews are built in the uncompressed scratch file first and the COG driver copies
    them (its default for sources with overviews): half the time of letting it build them
    through its compressed temporary file. Nearest keeps overview pixels exactly 0, 1 or 255;
    ``MODE`` would cost ten times more.
    """
    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
        with rasterio.open(src_path, "r+") as ds:
            factors = _overview_factors(ds.width, ds.height, COG_BLOCK)
            if factors:
                ds.build_overviews(factors, Resampling.nearest)
        rasterio.shutil.copy(
            src_path,
            dst_path,
            driver="COG",
            COMPRESS="DEFLATE",
            BLOCKSIZE=COG_BLOCK,
            NUM_THREADS="ALL_CPUS",
            BIGTIFF="IF_SAFER",
        )


def _overview_factors(width: int, height: int, block: int) -> list[int]:
    """Powers of two until the smallest overview fits in one block (as the COG driver does)."""
    factors, f = [], 2
    while max(width, height) / (f // 2) > block:
        factors.append(f)
        f *= 2
    return factors


def _band_values(ref: StacItemRef, asset: BandAsset, ds: DatasetReader) -> BandValues:
    """Nodata (file, then STAC metadata, then 0), scale and offset of one band."""
    if asset.band > ds.count:
        raise DataUnavailable(f"item {ref.id}: asset {asset.key} has {ds.count} band(s), not {asset.band}")
    nodata = ds.nodatavals[asset.band - 1]
    if nodata is None:
        nodata = asset.nodata if asset.nodata is not None else 0.0
    return BandValues(nodata=float(nodata), scale=asset.scale, offset=asset.offset)


def _tiled_profile(crs: Any, transform: Any, window: Window, dtype: Any, nodata: float | None = None) -> dict:
    """Scratch GeoTIFF profile: tiled, uncompressed (written once, read once, then deleted)."""
    profile = {
        "driver": "GTiff",
        "width": int(window.width),
        "height": int(window.height),
        "count": 1,
        "dtype": dtype,
        "crs": crs,
        "transform": transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "IF_SAFER",
    }
    if nodata is not None:
        profile["nodata"] = nodata
    return profile


def _relative(block: Window, window: Window) -> Window:
    return Window(block.col_off - window.col_off, block.row_off - window.row_off, block.width, block.height)


def _key_part(item_id: str) -> str:
    """The Item id made safe as one object-key segment (ids are free text in STAC)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", item_id).lstrip(".")
    return safe or "item"
