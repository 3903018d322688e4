"""Synthetic Sentinel-2 L2A-like scenes over Glasgow and the Lake District with a cloud truth.

``generate_uk_scene`` renders one of ``uk.SCENES`` on a UTM 30N grid covering its region plus a
margin, strip by strip (bounded memory), and writes COGs with Earth Search's asset keys (``blue``,
``green``, ``red``, ``nir``, ``swir16``: reflectance x 10000, nodata 0) plus ``cloud-truth``
(0 ground, 1 cloud shadow, 2 thick cloud, 3 thin cloud, 255 nodata) and the STAC item.

The truth follows from the cloud fields, not from the rendered pixels: thick cloud where the
cumulus opacity reaches ``THICK_OPACITY``; thin cloud where a semi-transparent cloud (a thin
sheet, or the fringe of a cumulus) reaches ``THIN_OPACITY``; shadow where the shadow removes at
least half of the direct light; ground elsewhere (land and water alike).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.features import rasterize
from shapely.geometry import Polygon, box

from terrafuse.demo import uk
from terrafuse.demo.landscape import FieldSampler, Grid, aoi_polygon, grid_around, model_grid, smoothstep
from terrafuse.demo.stac_items import (
    ITEM_EXTENSIONS,
    VIEW_EXTENSION,
    footprint,
    item_dict,
    plain_asset,
    proj_fields,
)
from terrafuse.demo.synthetic import (
    Raster,
    Strip,
    SwathEdge,
    acquisition_properties,
    band_assets,
    digital_numbers,
    swath_edge,
    write_scene,
)
from terrafuse.demo.uk_fields import (
    LAKE_WATER,
    SHADOW_DEPTH,
    THICK_CLOUD,
    THIN_CLOUD,
    THIN_MAX_OPACITY,
    TURBID_WATER,
    UkSceneFields,
    region_land,
    scene_fields,
)

GENERATOR_VERSION = "1"
MGRS_EXTENSION = "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json"
THICK_OPACITY = 0.5
THIN_OPACITY = 0.12
SHADOW_STRENGTH = 0.5
TRUTH_DESCRIPTION = (
    "0 = ground (land or water), 1 = cloud shadow, 2 = thick cloud (opacity >= "
    f"{THICK_OPACITY:g}), 3 = thin cloud (semi-transparent, opacity >= {THIN_OPACITY:g}), "
    "255 = nodata; same grid as the bands"
)
OUTPUTS: dict[str, Raster] = {
    **{key: Raster("uint16", 0) for key in uk.S2_BANDS},
    uk.CLOUD_TRUTH_ASSET: Raster("uint8", uk.TRUTH_NODATA, classes=True),
}


def region_grid(region: uk.UkRegion, resolution: float = 20.0) -> tuple[Grid, Polygon]:
    """The output grid of a region's scenes at ``resolution`` and the region's bbox in UTM."""
    aoi = aoi_polygon(region.bbox, uk.EPSG)
    return grid_around(aoi, uk.EPSG, resolution, region.margin_m), aoi


def _column(values: tuple[float, ...]) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)[:, None]


def render_strip(
    fields: UkSceneFields,
    sharp: FieldSampler,
    soft: FieldSampler,
    sub: Grid,
    valid: np.ndarray,
    rng: np.random.Generator,
) -> Strip:
    """The outputs of one strip: the five bands (uint16) and the cloud truth (uint8).

    ``sharp`` holds basin, sea, thick and thin cloud density (cubic: they are thresholded, so
    they need smooth edges), ``soft`` the land reflectance, turbidity and cloud texture (bilinear).
    """
    basin, sea, thick, thin = sharp.sample(sub, Resampling.cubic)
    shadow_density = sharp.sample(sub, Resampling.cubic, indexes=[3], shift=fields.shadow_shift)[0]
    smooth = soft.sample(sub, Resampling.bilinear)
    reflectance, turbidity, texture = smooth[:5], smooth[5], smooth[6]
    rivers = ((g, 1) for g in fields.land.rivers.geoms)
    river = rasterize(rivers, out_shape=basin.shape, transform=sub.transform, dtype="uint8")
    water = (basin < 1.0) | (sea > 0.5) | river.astype(bool)
    clear, turbid = _column(LAKE_WATER), _column(TURBID_WATER)
    reflectance[:, water] = clear + turbidity[water] * (turbid - clear)
    # Masked updates: shadows and clouds each cover a small share of the strip.
    shadow = smoothstep((shadow_density - fields.thick_threshold) / fields.shadow_ramp)
    shaded = shadow > 0
    reflectance[:, shaded] *= 1.0 - shadow[shaded] * _column(SHADOW_DEPTH)
    alpha = smoothstep((thick - fields.thick_threshold) / fields.thick_ramp)
    cloudy = alpha > 0
    spectrum = _column(THICK_CLOUD) * np.clip(0.95 + 0.05 * texture[cloudy], 0.85, 1.05)
    reflectance[:, cloudy] += alpha[cloudy] * (spectrum - reflectance[:, cloudy])
    # Thin sheets are high (cirrus-like): they veil everything below, cumulus included.
    beta = THIN_MAX_OPACITY * smoothstep((thin - fields.thin_threshold) / fields.thin_ramp)
    veiled = beta > 0
    reflectance[:, veiled] += beta[veiled] * (_column(THIN_CLOUD) - reflectance[:, veiled])
    # Sensor-like noise as in the seed scenes.
    bands = digital_numbers(reflectance, valid, rng)
    truth = np.full(basin.shape, uk.TRUTH_GROUND, dtype=np.uint8)
    truth[shadow >= SHADOW_STRENGTH] = uk.TRUTH_SHADOW
    truth[(alpha >= THIN_OPACITY) | (beta >= THIN_OPACITY)] = uk.TRUTH_THIN_CLOUD
    truth[alpha >= THICK_OPACITY] = uk.TRUTH_THICK_CLOUD
    truth[~valid] = uk.TRUTH_NODATA
    cloudy = int(np.count_nonzero((truth == uk.TRUTH_THICK_CLOUD) | (truth == uk.TRUTH_THIN_CLOUD)))
    return Strip({**dict(zip(uk.S2_BANDS, bands, strict=True)), uk.CLOUD_TRUTH_ASSET: truth}, cloudy)


def generate_uk_scene(out_dir: Path, item_id: str, resolution: float = 20.0) -> Path:
    """Render the UK scene ``item_id`` into ``out_dir`` and return the path of its item JSON.

    Args:
        out_dir: folder for ``<item_id>.json`` and the ``<asset-key>.tif`` COGs (created).
        item_id: one of ``uk.SCENES``.
        resolution: pixel size in metres; must divide 60.

    Raises:
        KeyError: unknown ``item_id``.
        ValueError: unsupported ``resolution``.
    """
    scene = uk.SCENES_BY_ID[item_id]
    region = uk.REGIONS[scene.region]
    grid, aoi = region_grid(region, resolution)
    edge = swath_edge(aoi)
    fields = scene_fields(region_land(region, model_grid(grid)), scene)
    land = fields.land
    sharp_fields = np.stack([land.basin, land.sea, fields.thick, fields.thin])
    soft_fields = np.concatenate([fields.reflectance, land.turbidity[None], fields.texture[None]])
    with FieldSampler(sharp_fields, land.model) as sharp, FieldSampler(soft_fields, land.model) as soft:
        render = functools.partial(render_strip, fields, sharp, soft)
        item = functools.partial(_item, scene, region, grid, edge, resolution)
        return write_scene(Path(out_dir), item_id, OUTPUTS, grid, edge, scene.seed, render, item)


def _item(
    scene: uk.UkScene, region: uk.UkRegion, grid: Grid, edge: SwathEdge, resolution: float, cloud_cover: float
) -> dict[str, Any]:
    bbox, geometry = footprint(uk.EPSG, edge.clip(box(*grid.bounds)))
    common, assets = band_assets(uk.EPSG, grid, uk.S2_BANDS)
    assets[uk.CLOUD_TRUTH_ASSET] = plain_asset(
        f"./{uk.CLOUD_TRUTH_ASSET}.tif", "True cloud classes", roles=("truth",), dtype="uint8",
        nodata=uk.TRUTH_NODATA, extra={"description": TRUTH_DESCRIPTION}, **common,
    )  # fmt: skip
    place = "Glasgow" if region.name == uk.GLASGOW else "the Lake District"
    properties = {
        **acquisition_properties(
            scene,
            f"Synthetic Sentinel-2 L2A-like scene {scene.item_id} over {place}",
            "Synthetic scene generated by terrafuse (no Copernicus data); cloud truth included.",
            cloud_cover,
        ),
        "mgrs:utm_zone": int(region.mgrs_tile[:2]),
        "mgrs:latitude_band": region.mgrs_tile[2],
        "mgrs:grid_square": region.mgrs_tile[3:],
        **proj_fields(uk.EPSG, common["shape"], grid.transform),
        "terrafuse:synthetic": True,
        "terrafuse:region": region.name,
        "terrafuse:generator": f"terrafuse.demo.uk_scenes/{GENERATOR_VERSION}",
        "terrafuse:resolution": resolution,
    }
    return item_dict(
        scene.item_id,
        bbox=bbox,
        geometry=geometry,
        properties=properties,
        assets=assets,
        extensions=(*ITEM_EXTENSIONS, VIEW_EXTENSION, MGRS_EXTENSION),
    )
