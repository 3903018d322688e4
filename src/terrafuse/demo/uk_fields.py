"""Land cover of the UK regions and the clouds of each date, on a scene's coarse model grid.

A region's land (terrain from ``uk_world``, land cover, water) is shared by its three dates;
each :class:`~terrafuse.demo.uk.UkScene` adds its season, sun and clouds. Clouds come in two
kinds, matching the cloud-truth classes: *thick* cumulus (opaque, casting shadows) and *thin*
sheets (semi-transparent, high, no noticeable shadow). Their noise has no octave coarser than a
few km, so every part of a scene gets its share of each class.

Spectra (surface reflectance in blue, green, red, nir, swir16) follow the usual physics: clouds
are bright and white, thick (water) clouds stay bright at 1.6 um while thin ice clouds absorb
there; cloud shadows keep some diffuse skylight, more in the blue than in the infrared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from rasterio.enums import Resampling
from shapely.geometry import MultiPolygon, Polygon, box

from terrafuse.demo.landscape import (
    F32,
    Grid,
    cloud_edge_scale,
    hillshade,
    resample,
    smooth_noise,
    smoothstep,
)
from terrafuse.demo.uk import UkRegion, UkScene
from terrafuse.demo.uk_world import TOWNS, Terrain, build_terrain, to_utm

Spectrum = tuple[float, float, float, float, float]

PASTURE: dict[str, Spectrum] = {
    "spring": (0.035, 0.065, 0.045, 0.32, 0.21),
    "summer": (0.03, 0.07, 0.04, 0.38, 0.2),
}
# Fell moorland: dead grass and bracken in March, green heather and bracken in June.
MOOR: dict[str, Spectrum] = {
    "spring": (0.045, 0.06, 0.075, 0.19, 0.26),
    "summer": (0.035, 0.06, 0.05, 0.27, 0.22),
}
# Ploughed fields in March, crops in June.
ARABLE: dict[str, Spectrum] = {
    "spring": (0.08, 0.11, 0.15, 0.22, 0.3),
    "summer": (0.035, 0.07, 0.05, 0.34, 0.22),
}
FOREST: Spectrum = (0.02, 0.038, 0.025, 0.24, 0.11)
ROCK: Spectrum = (0.075, 0.09, 0.105, 0.15, 0.2)
URBAN: Spectrum = (0.075, 0.085, 0.095, 0.16, 0.19)
LAKE_WATER: Spectrum = (0.028, 0.038, 0.02, 0.008, 0.004)
TURBID_WATER: Spectrum = (0.05, 0.075, 0.055, 0.02, 0.008)
THICK_CLOUD: Spectrum = (0.58, 0.54, 0.56, 0.72, 0.45)
THIN_CLOUD: Spectrum = (0.52, 0.5, 0.48, 0.5, 0.26)
SHADOW_DEPTH: Spectrum = (0.68, 0.72, 0.74, 0.78, 0.8)  # share of the light a full shadow removes

HAZE_FLOOR = 0.55  # diffuse share of the light on a hazy UK day: gentle terrain shading
THIN_MAX_OPACITY = 0.32
CLOUD_HEIGHT_M = 1500.0
THICK_EDGE_M = 80.0
THIN_EDGE_M = 200.0
SHADOW_EDGE_M = 100.0

COVER_OCTAVES = ((6000, 1.0), (3000, 0.7), (1500, 0.5), (750, 0.35), (375, 0.2), (190, 0.1))
THICK_OCTAVES = ((3000, 0.8), (1500, 0.7), (750, 0.5), (375, 0.3), (190, 0.15))
THIN_OCTAVES = ((4000, 0.8), (2000, 0.6), (1000, 0.4), (500, 0.2))
TEXTURE_OCTAVES = ((750, 0.5), (375, 0.3), (190, 0.15))


@dataclass(frozen=True)
class RegionLand:
    """The date-independent land of one region on its model grid."""

    model: Grid
    elevation: F32
    basin: F32  # lakes where < 1
    sea: F32  # sea where > 0.5
    forest: F32
    moor: F32
    rock: F32
    arable: F32
    urban: F32
    turbidity: F32  # 0 clear lake water .. 1 turbid estuary
    rivers: MultiPolygon


@dataclass(frozen=True)
class UkSceneFields:
    """One date's fields on the model grid, ready to be resampled onto the output grid."""

    scene: UkScene
    land: RegionLand
    reflectance: F32  # (5, h, w) shaded land reflectance
    thick: F32  # thick-cloud density
    thick_threshold: float
    thick_ramp: float  # density over which a thick-cloud edge goes from clear to opaque
    shadow_ramp: float
    shadow_shift: tuple[float, float]
    thin: F32  # thin-cloud density
    thin_threshold: float
    thin_ramp: float
    texture: F32


@lru_cache(maxsize=2)
def region_land(region: UkRegion, model: Grid) -> RegionLand:
    """Land cover and water of ``region`` on ``model`` (cached: the region's dates share it)."""
    terrain = build_terrain()
    rng = np.random.default_rng(region.seed)
    elevation, basin, sea = resample(
        np.stack([terrain.elevation, terrain.basin, terrain.sea]), terrain.grid, model, Resampling.cubic
    )

    def noise() -> F32:
        return smooth_noise(rng, model, COVER_OCTAVES)

    rock = smoothstep((elevation - 620.0) / 250.0 + 0.35 * noise())
    moor = smoothstep((elevation - 230.0) / 230.0 + 0.35 * noise())
    # Plantations and woods on the lower slopes; fields and pasture on the valley floors.
    forest = np.clip(0.15 + 0.3 * noise(), 0.0, 1.0) * (1.0 - smoothstep((elevation - 350.0) / 200.0))
    arable = np.clip(0.6 * noise() - 0.3, 0.0, 1.0) * (1.0 - smoothstep((elevation - 120.0) / 80.0))
    urban = _towns(model, noise())
    turbidity = np.clip(np.where(sea > 0.5, 0.75, 0.2) + 0.2 * noise(), 0.0, 1.0)
    f32 = np.float32
    return RegionLand(
        model, elevation, basin, sea, forest.astype(f32), moor.astype(f32), rock.astype(f32),
        arable.astype(f32), urban.astype(f32), turbidity.astype(f32), _rivers(terrain, model),
    )  # fmt: skip


def _towns(model: Grid, noise: F32) -> F32:
    """Built-up share: each town a ragged disc, denser towards its centre."""
    xs, ys = model.centers()
    urban = np.zeros((model.height, model.width), dtype=np.float32)
    for lon, lat, radius_km in TOWNS:
        x, y = to_utm(lon, lat)
        radius = radius_km * 1000.0
        c0, c1 = np.searchsorted(xs, [x - 1.6 * radius, x + 1.6 * radius])
        r0, r1 = np.searchsorted(-ys, [-(y + 1.6 * radius), -(y - 1.6 * radius)])
        if c1 <= c0 or r1 <= r0:
            continue
        dist = np.hypot(xs[None, c0:c1] - x, ys[r0:r1, None] - y) / radius
        share = 0.85 * smoothstep((1.0 - dist + 0.25 * noise[r0:r1, c0:c1]) / 0.35)
        np.maximum(urban[r0:r1, c0:c1], share.astype(np.float32), out=urban[r0:r1, c0:c1])
    return urban


def _rivers(terrain: Terrain, model: Grid) -> MultiPolygon:
    area = box(*model.bounds)
    parts = [line.buffer(width / 2) for line, width in terrain.rivers if line.intersects(area)]
    rivers = shapely.union_all(parts) if parts else MultiPolygon()
    return MultiPolygon([rivers]) if isinstance(rivers, Polygon) else rivers


def scene_fields(land: RegionLand, scene: UkScene) -> UkSceneFields:
    """The fields of one date: shaded land reflectance, thick and thin clouds, shadow offset."""
    model = land.model
    rng = np.random.default_rng(scene.seed)
    shade = hillshade(land.elevation, model.res, scene.sun_azimuth, scene.sun_elevation, floor=HAZE_FLOOR)
    reflectance = np.empty((5, model.height, model.width), dtype=np.float32)
    season = scene.season
    for i in range(5):
        lowland = land.arable * ARABLE[season][i] + (1 - land.arable) * PASTURE[season][i]
        open_land = (1 - land.rock) * ((1 - land.moor) * lowland + land.moor * MOOR[season][i])
        open_land += land.rock * ROCK[i]
        band = land.forest * FOREST[i] + (1 - land.forest) * open_land
        reflectance[i] = (land.urban * URBAN[i] + (1 - land.urban) * band) * shade
    thick = smooth_noise(rng, model, THICK_OCTAVES)
    thick_threshold = float(np.quantile(thick, 1.0 - scene.thick_fraction))
    thick_scale = cloud_edge_scale(thick, thick_threshold, model.res)
    thin = smooth_noise(rng, model, THIN_OCTAVES)
    thin_threshold = float(np.quantile(thin, 1.0 - scene.thin_fraction))
    thin_scale = cloud_edge_scale(thin, thin_threshold, model.res)
    texture = smooth_noise(rng, model, TEXTURE_OCTAVES)
    # A cloud above q shades q - reach * (sun direction): the shadow field is the cloud field
    # shifted away from the sun.
    reach = CLOUD_HEIGHT_M / math.tan(math.radians(scene.sun_elevation))
    az = math.radians(scene.sun_azimuth)
    shift = (-reach * math.sin(az), -reach * math.cos(az))
    return UkSceneFields(
        scene, land, reflectance, thick, thick_threshold, THICK_EDGE_M * thick_scale,
        SHADOW_EDGE_M * thick_scale, shift, thin, thin_threshold, THIN_EDGE_M * thin_scale, texture,
    )  # fmt: skip
