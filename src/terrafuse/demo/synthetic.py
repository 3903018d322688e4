"""Synthetic Sentinel-2 L2A-like seed scenes with a known water truth.

``generate_scene`` renders one of the two seed scenes (``world.SCENES``) on a UTM 10N grid that
covers the seed AOI plus a 2 km margin, strip by strip (bounded memory), and writes COGs with
Earth Search's asset keys plus ``water-truth`` (1 = observable water, 0 = not water, 255 = nodata)
and ``scl`` (a Sentinel-2 scene-classification-like band), and the STAC item beside them.

The spectra are chosen so that NDWI = (green - nir) / (green + nir) with an Otsu threshold
recovers the truth: water NDWI is about +0.55 to +0.75, land -0.75 to -0.25, clouds about -0.14
(water covers ~10 % of the AOI and clouds ~5-7 %, which keeps Otsu's split between land and water).
Water under a cloud edge counts as *hidden* once the cloud's opacity reaches
``ALPHA_HIDDEN``: from there on the bright cloud dominates the water's NDWI signal.

The strip-by-strip writing (:func:`write_scene`), the sensor model (:func:`digital_numbers`) and
the item's common parts are shared with the UK scenes (``uk_scenes.py``).
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.windows import Window
from shapely.geometry import Polygon, box

from terrafuse.demo import uk, world
from terrafuse.demo.cogs import BLOCK_SIZE, copy_to_cog
from terrafuse.demo.landscape import FieldSampler, Grid, aoi_polygon, grid_around, model_grid, smoothstep
from terrafuse.demo.stac_items import (
    ITEM_EXTENSIONS,
    SENTINEL2_BANDS,
    VIEW_EXTENSION,
    band_asset,
    footprint,
    item_dict,
    plain_asset,
    proj_fields,
    write_item,
)

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
SEED_AOI_BOUNDS = (-121.399, 39.834, -120.74, 40.472)
MARGIN_M = 2000.0
STRIP_ROWS = 512
ALPHA_HIDDEN = 0.2
TRUTH_NODATA = 255
TRUTH_KEY = "water-truth"
SQRT6 = 6**0.5


@dataclass(frozen=True)
class Raster:
    """One output raster of a scene: data type, nodata, and whether its values are classes."""

    dtype: str
    nodata: int
    classes: bool = False  # class values get nearest-neighbour overviews (averaging invents classes)


# Every output raster, by asset key.
OUTPUTS: dict[str, Raster] = {
    **{key: Raster("uint16", 0) for key in world.BANDS},
    "scl": Raster("uint8", 0, classes=True),
    TRUTH_KEY: Raster("uint8", TRUTH_NODATA, classes=True),
}
# A swath edge (descending orbit, running 13 deg east of grid north) clips a grid corner, so the
# scenes have some nodata like real ones; it never comes closer than this to the AOI.
SWATH_EDGE_ANGLE_DEG = 13.0
SWATH_EDGE_CLEARANCE_M = 300.0
SCL_DESCRIPTION = (
    "0 no data, 3 cloud shadow, 4 vegetation, 5 not vegetated, 6 water, 8/9 cloud medium/high probability"
)


@dataclass(frozen=True)
class Strip:
    """One rendered strip: a block of every output raster (by asset key) and its cloudy pixels."""

    blocks: dict[str, np.ndarray]
    cloudy: int


@dataclass(frozen=True)
class SwathEdge:
    """Pixels with ``nx * x + ny * y > c`` are outside the swath (nodata)."""

    nx: float
    ny: float
    c: float

    def valid(self, grid: Grid) -> np.ndarray:
        """Boolean mask of the pixels of ``grid`` inside the swath."""
        xs, ys = grid.centers()
        return (self.nx * xs[None, :] + self.ny * ys[:, None]) <= self.c

    def clip(self, polygon: Polygon, reach: float = 1e6) -> Polygon:
        """``polygon`` minus the outside of the swath."""
        n = np.array([self.nx, self.ny])
        d = np.array([-self.ny, self.nx])
        p0 = n * self.c
        outside = Polygon([p0 - reach * d, p0 + reach * d, p0 + reach * (d + n), p0 + reach * (n - d)])
        return polygon.difference(outside)


def scene_grid(resolution: float = 20.0) -> tuple[Grid, Polygon]:
    """The output grid of the seed scenes at ``resolution`` and the AOI polygon in UTM."""
    aoi = aoi_polygon(SEED_AOI_BOUNDS, world.EPSG)
    return grid_around(aoi, world.EPSG, resolution, MARGIN_M), aoi


def swath_edge(aoi: Polygon) -> SwathEdge:
    """The swath edge west of the AOI: it cuts off the grid's north-west corner."""
    angle = np.radians(SWATH_EDGE_ANGLE_DEG)
    nx, ny = -np.cos(angle), np.sin(angle)  # outward normal, pointing west-north-west
    coords = np.asarray(aoi.buffer(SWATH_EDGE_CLEARANCE_M).exterior.coords)
    return SwathEdge(float(nx), float(ny), float((coords @ np.array([nx, ny])).max()))


def render_strip(
    fields: world.SceneFields,
    sharp: FieldSampler,
    soft: FieldSampler,
    sub: Grid,
    valid: np.ndarray,
    rng: np.random.Generator,
) -> Strip:
    """All outputs of one strip: the five bands (uint16), ``scl`` and the truth.

    ``sharp`` holds the basin and cloud density (cubic: thresholded, so they need smooth edges),
    ``soft`` the land reflectance, turbidity and cloud texture (bilinear).
    """
    basin, cloud = sharp.sample(sub, Resampling.cubic)
    shadow_density = sharp.sample(sub, Resampling.cubic, indexes=[2], shift=fields.shadow_shift)[0]
    smooth = soft.sample(sub, Resampling.bilinear)
    turbidity, texture = smooth[5], smooth[6]
    smooth_land_red, smooth_land_nir = smooth[2].copy(), smooth[3].copy()
    lake = basin < 1.0
    river = rasterize(
        ((g, 1) for g in fields.rivers.geoms), out_shape=lake.shape, transform=sub.transform, dtype="uint8"
    )
    river = river.astype(bool) & ~lake
    water = lake | river
    col = world.band_column
    # Masked updates: water, shadows and clouds each cover a small share of the strip.
    reflectance = smooth[:5]
    shallow = np.where(lake[water], np.clip(1.0 - (1.0 - basin[water]) / 0.06, 0.0, 1.0), 0.4)
    clear, turbid, bottom = (col(v) for v in (world.WATER_CLEAR, world.WATER_TURBID, world.SHALLOW_BOTTOM))
    reflectance[:, water] = clear + turbidity[water] * (turbid - clear) + shallow * bottom
    shadow = smoothstep((shadow_density - fields.cloud_threshold) / fields.shadow_ramp)
    shaded = shadow > 0
    reflectance[:, shaded] *= 1.0 - shadow[shaded] * col(world.SHADOW_DEPTH)
    alpha = smoothstep((cloud - fields.cloud_threshold) / fields.cloud_ramp)
    cloudy = alpha > 0
    cloud_spectrum = col(world.CLOUD) * np.clip(0.9 + 0.08 * texture[cloudy], 0.7, 1.1)
    reflectance[:, cloudy] += alpha[cloudy] * (cloud_spectrum - reflectance[:, cloudy])
    bands = digital_numbers(reflectance, valid, rng)
    ndvi = (smooth_land_nir - smooth_land_red) / (smooth_land_nir + smooth_land_red)
    scl = np.where(ndvi > 0.4, 4, 5).astype(np.uint8)
    scl[water] = 6
    scl[(shadow > 0.5) & ~water] = 3
    scl[alpha >= ALPHA_HIDDEN] = 8
    scl[alpha >= 0.6] = 9
    scl[~valid] = 0
    truth = (water & (alpha < ALPHA_HIDDEN)).astype(np.uint8)
    truth[~valid] = TRUTH_NODATA
    blocks = {**dict(zip(world.BANDS, bands, strict=True)), "scl": scl, TRUTH_KEY: truth}
    return Strip(blocks, int(((alpha >= 0.5) & valid).sum()))


def digital_numbers(reflectance: np.ndarray, valid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stored values (reflectance x 10000, uint16, 0 outside ``valid``) of a strip's (5, h, w) bands.

    Adds sensor-like noise (in place): a texture common to all bands plus independent,
    signal-dependent noise per band. The latter is triangular (sum of two uniforms, std
    1/sqrt(6)): close enough to Gaussian and several times cheaper to draw.
    """
    common = rng.standard_normal(reflectance.shape[1:], dtype=np.float32)
    noise = rng.random(reflectance.shape, dtype=np.float32)
    noise += rng.random(reflectance.shape, dtype=np.float32)
    noise -= 1.0
    scale = reflectance * np.float32(0.004 * SQRT6)
    scale += np.float32(0.001 * SQRT6)
    noise *= scale
    reflectance *= 1.0 + 0.015 * common
    reflectance += noise
    reflectance *= 10000.0
    np.rint(reflectance, out=reflectance)
    np.clip(reflectance, 1, 65535, out=reflectance)
    bands = reflectance.astype(np.uint16)
    bands[:, ~valid] = 0
    return bands


def open_strip_file(path: Path, grid: Grid, dtype: str, nodata: int) -> rasterio.io.DatasetWriter:
    """A tiled one-band GeoTIFF on ``grid`` to write strips into (later copied to a COG)."""
    return rasterio.open(
        path, "w", driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=dtype,
        crs=grid.crs, transform=grid.transform, nodata=nodata, tiled=True,
        blockxsize=BLOCK_SIZE, blockysize=BLOCK_SIZE,
    )  # fmt: skip


def generate_scene(out_dir: Path, item_id: str, resolution: float = 20.0) -> Path:
    """Render the seed scene ``item_id`` into ``out_dir`` and return the path of its item JSON.

    Args:
        out_dir: folder for ``<item_id>.json`` and the ``<asset-key>.tif`` COGs (created).
        item_id: one of ``world.SCENES`` (the seed item ids).
        resolution: pixel size in metres; must divide 60. 20 m (default) takes seconds; 10 m gives
            full-resolution scenes for benchmarks (same content, finer grid).

    Raises:
        KeyError: unknown ``item_id``.
        ValueError: unsupported ``resolution``.
    """
    spec = world.SCENES[item_id]
    grid, aoi = scene_grid(resolution)
    edge = swath_edge(aoi)
    fields = world.scene_fields(world.build_landscape(model_grid(grid)), spec)
    soft_fields = np.concatenate([fields.land, fields.turbidity[None], fields.cloud_texture[None]])
    with (
        FieldSampler(np.stack([fields.basin, fields.cloud]), fields.model) as sharp,
        FieldSampler(soft_fields, fields.model) as soft,
    ):
        render = functools.partial(render_strip, fields, sharp, soft)
        item = functools.partial(_item, spec, grid, edge, resolution)
        return write_scene(Path(out_dir), item_id, OUTPUTS, grid, edge, spec.seed, render, item)


def write_scene(
    out_dir: Path,
    item_id: str,
    outputs: Mapping[str, Raster],
    grid: Grid,
    edge: SwathEdge,
    seed: int,
    render: Callable[[Grid, np.ndarray, np.random.Generator], Strip],
    item: Callable[[float], dict[str, Any]],
) -> Path:
    """Render a scene strip by strip into one COG per output and write its item; return the item's path.

    ``render(sub, valid, rng)`` renders the strip ``sub`` (``valid``: inside the swath) with a
    generator of its own, seeded by ``seed``, strip and resolution: reproducible, and independent
    of how many strips were rendered before. ``item(cloud_cover)`` is the item (cover in %).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # Strips go to plain tiled GeoTIFFs first (the COG driver can only copy a finished raster);
    # this keeps memory to a few strips even at 10 m.
    with tempfile.TemporaryDirectory(prefix=".render-", dir=out_dir) as tmp:
        tmp_dir = Path(tmp)
        cloudy = valid_count = 0
        with ExitStack() as stack:
            writers = {
                key: stack.enter_context(open_strip_file(tmp_dir / f"{key}.tif", grid, out.dtype, out.nodata))
                for key, out in outputs.items()
            }
            for index, row0 in enumerate(range(0, grid.height, STRIP_ROWS)):
                sub = grid.rows(row0, min(STRIP_ROWS, grid.height - row0))
                valid = edge.valid(sub)
                strip = render(sub, valid, np.random.default_rng([seed, index, round(grid.res * 100)]))
                window = Window(0, row0, sub.width, sub.height)
                for key, block in strip.blocks.items():
                    writers[key].write(block, 1, window=window)
                cloudy += strip.cloudy
                valid_count += int(valid.sum())
        for key, out in outputs.items():
            if out.classes:
                copy_to_cog(tmp_dir / f"{key}.tif", out_dir / f"{key}.tif", resampling=Resampling.nearest)
            else:
                # The noisy low bits compress no better at higher levels; level 1 is ~40 % faster.
                copy_to_cog(tmp_dir / f"{key}.tif", out_dir / f"{key}.tif", level=1)
    logger.info("generated %s at %g m (%d x %d px)", item_id, grid.res, grid.width, grid.height)
    return write_item(item(100.0 * cloudy / max(valid_count, 1)), out_dir / f"{item_id}.json")


def band_assets(
    epsg: int, grid: Grid, bands: Sequence[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The grid fields of every asset of a scene on ``grid``, and its reflectance band assets."""
    common = {"epsg": epsg, "shape": (grid.height, grid.width), "transform": grid.transform}
    assets = {key: band_asset(key, SENTINEL2_BANDS[key], href=f"./{key}.tif", **common) for key in bands}
    return common, assets


def acquisition_properties(
    scene: world.SceneSpec | uk.UkScene, title: str, description: str, cloud_cover: float
) -> dict[str, Any]:
    """The item properties of a synthetic Sentinel-2 acquisition, title to sun elevation."""
    return {
        "title": title,
        "description": description,
        "datetime": scene.datetime,
        "platform": scene.platform,
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        "eo:cloud_cover": round(cloud_cover, 2),
        "view:sun_azimuth": scene.sun_azimuth,
        "view:sun_elevation": scene.sun_elevation,
    }


def _item(
    spec: world.SceneSpec, grid: Grid, edge: SwathEdge, resolution: float, cloud_cover: float
) -> dict[str, Any]:
    bbox, geometry = footprint(world.EPSG, edge.clip(box(*grid.bounds)))
    common, assets = band_assets(world.EPSG, grid, world.BANDS)
    assets["scl"] = plain_asset(
        "./scl.tif", "Scene classification map (SCL)", roles=("data",), dtype="uint8", nodata=0,
        extra={"description": SCL_DESCRIPTION}, **common,
    )  # fmt: skip
    assets[TRUTH_KEY] = plain_asset(
        f"./{TRUTH_KEY}.tif", "True water mask", roles=("truth",), dtype="uint8", nodata=TRUTH_NODATA,
        extra={"description": (
            "1 = observable water, 0 = not water (land, or water hidden under cloud of opacity >= "
            f"{ALPHA_HIDDEN:g}), 255 = nodata; same grid as the bands"
        )}, **common,
    )  # fmt: skip
    properties = {
        **acquisition_properties(
            spec,
            f"Synthetic Sentinel-2 L2A-like scene {spec.item_id}",
            "Synthetic scene generated by terrafuse (no Copernicus data); water truth included.",
            cloud_cover,
        ),
        **proj_fields(world.EPSG, common["shape"], grid.transform),
        "terrafuse:synthetic": True,
        "terrafuse:generator": f"terrafuse.demo.synthetic/{GENERATOR_VERSION}",
        "terrafuse:resolution": resolution,
    }
    extensions = (*ITEM_EXTENSIONS, VIEW_EXTENSION)
    return item_dict(
        spec.item_id,
        bbox=bbox,
        geometry=geometry,
        properties=properties,
        assets=assets,
        extensions=extensions,
    )
