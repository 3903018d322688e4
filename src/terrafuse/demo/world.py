"""The invented world of the seed scenes: an Almanor-like lake district in the northern Sierra.

Lakes, ponds and rivers are placed around their real-world counterparts near Lake Almanor (the
seed AOI) so the demo looks familiar on a map, but every shape, value and cloud is generated
here. The landscape (terrain, land cover, water bodies) is shared by both dates; each
:class:`SceneSpec` adds its own clouds, water levels, season and (in 2022) a burn scar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from terrafuse.demo.landscape import (
    F32,
    Grid,
    Lake,
    cloud_edge_scale,
    hillshade,
    lake_basin,
    make_lake,
    meander,
    smooth_noise,
    smoothstep,
)

EPSG = 32610
LANDSCAPE_SEED = 40_2357  # the shared world; each scene has its own seed for clouds and noise

# Long-axis azimuth (deg), semi-axes (m) and roughness of the main water bodies, by lon/lat.
LAKES: tuple[tuple[float, float, float, float, float, float], ...] = (
    (-121.155, 40.235, 11000, 4300, 160, 0.22),  # Almanor-like main basin
    (-121.235, 40.185, 4200, 1900, 65, 0.2),  # its west arm
    (-121.075, 40.270, 3800, 1800, 35, 0.2),  # its north-east (Hamilton Branch) lobe
    (-120.970, 40.305, 5200, 2400, 100, 0.22),  # Mountain Meadows-like reservoir
    (-121.190, 40.110, 4200, 1300, 150, 0.2),  # Butt Valley-like reservoir
    (-121.320, 40.370, 4000, 2100, 30, 0.22),
    (-121.060, 39.930, 5000, 2600, 120, 0.22),  # Bucks-like reservoir
    (-120.850, 40.400, 4600, 3000, 70, 0.22),
    (-120.860, 40.040, 3800, 2100, 20, 0.22),
)
POND_COUNT = 45

# Start and end (lon/lat) and width (m) of the rivers; ends inside lakes join them.
RIVERS: tuple[tuple[float, float, float, float, float], ...] = (
    (-121.330, 40.490, -121.190, 40.300, 60),
    (-120.900, 40.490, -120.970, 40.305, 45),
    (-120.990, 40.300, -121.075, 40.270, 55),
    (-121.130, 40.160, -121.190, 40.110, 60),
    (-121.190, 40.110, -121.420, 39.950, 70),
    (-120.720, 40.200, -120.860, 40.040, 50),
    (-121.060, 39.930, -121.100, 39.810, 55),
    (-120.730, 40.350, -120.850, 40.400, 45),
)

TERRAIN_OCTAVES = (
    (24000, 1.0),
    (12000, 0.7),
    (6000, 0.45),
    (3000, 0.28),
    (1500, 0.16),
    (750, 0.09),
    (375, 0.05),
)
COVER_OCTAVES = ((8000, 1.0), (4000, 0.7), (2000, 0.5), (1000, 0.35), (500, 0.2), (250, 0.1))
SHORE_OCTAVES = ((4000, 1.0), (2000, 0.7), (1000, 0.45), (500, 0.25), (250, 0.12))
CLOUD_OCTAVES = ((12000, 0.6), (6000, 0.8), (3000, 0.7), (1500, 0.55), (750, 0.35), (375, 0.18), (190, 0.08))

# Surface reflectance of the end members in (blue, green, red, nir, swir16).
BANDS = ("blue", "green", "red", "nir", "swir16")
FOREST = (0.022, 0.042, 0.028, 0.27, 0.13)
GRASS = {"summer": (0.045, 0.075, 0.075, 0.28, 0.27), "spring": (0.035, 0.07, 0.045, 0.36, 0.22)}
SOIL = (0.085, 0.12, 0.16, 0.23, 0.31)
ROCK = (0.075, 0.095, 0.115, 0.16, 0.21)
BURN = (0.035, 0.048, 0.058, 0.10, 0.19)
WATER_CLEAR = (0.032, 0.040, 0.022, 0.009, 0.004)
WATER_TURBID = (0.045, 0.070, 0.050, 0.018, 0.007)
SHALLOW_BOTTOM = (0.020, 0.030, 0.020, 0.002, 0.0)  # bottom seen through shallow water (not in NIR)
# Thick cumulus: bright and flat; NIR a little above green as in Sen2Cor L2A over clouds.
CLOUD = (0.58, 0.54, 0.56, 0.72, 0.45)
SHADOW_DEPTH = (0.55, 0.58, 0.60, 0.65, 0.68)  # diffuse skylight keeps shadows bluer
CLOUD_EDGE_M = 80.0
SHADOW_EDGE_M = 160.0
CLOUD_HEIGHT_M = 1800.0


@dataclass(frozen=True)
class SceneSpec:
    """What differs between the two dates of the seed scenes."""

    item_id: str
    datetime: str
    platform: str
    seed: int
    cloud_fraction: float  # share of the scene under cloud (density threshold quantile)
    water_level: float  # scales every lake's shoreline (drought shrinks them)
    river_width: float  # scales river widths
    season: str  # "summer" or "spring" grass
    burn: bool  # show the burn scar of the summer-2021 fire
    sun_azimuth: float
    sun_elevation: float


SCENES: dict[str, SceneSpec] = {
    s.item_id: s
    for s in (
        SceneSpec("S2B_10TFK_20210713_0_L2A", "2021-07-13T19:03:24Z", "sentinel-2b", 2021_0713, 0.05,
                  1.0, 1.0, "summer", False, 138.5, 66.5),
        SceneSpec("S2A_10TFK_20220524_0_L2A", "2022-05-24T19:03:21Z", "sentinel-2a", 2022_0524, 0.07,
                  0.965, 0.85, "spring", True, 141.0, 66.0),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Landscape:
    """The date-independent world on the model grid."""

    model: Grid
    elevation: F32
    forest: F32
    grass: F32
    rock: F32
    turbidity: F32
    burn: F32
    shore_noise: F32
    lakes: tuple[Lake, ...]
    ponds: tuple[Lake, ...]
    rivers: tuple[tuple[shapely.LineString, float], ...]


@dataclass(frozen=True)
class SceneFields:
    """A scene's fields on the model grid, ready to be resampled to the output grid."""

    spec: SceneSpec
    model: Grid
    land: F32  # (5, h, w) shaded land reflectance
    turbidity: F32
    basin: F32  # water where < 1
    cloud: F32  # cloud density
    cloud_texture: F32
    cloud_threshold: float
    cloud_ramp: float  # density over which the cloud edge goes from clear to opaque
    shadow_ramp: float
    shadow_shift: tuple[float, float]
    rivers: MultiPolygon


def to_utm(lon: float, lat: float) -> tuple[float, float]:
    """Lon/lat to UTM zone 10N metres."""
    x, y = _TO_UTM.transform(lon, lat)
    return float(x), float(y)


_TO_UTM = Transformer.from_crs(4326, EPSG, always_xy=True)


@lru_cache(maxsize=1)
def build_landscape(model: Grid) -> Landscape:
    """Terrain, land cover and water bodies of the world (cached: both dates share it)."""
    rng = np.random.default_rng(LANDSCAPE_SEED)
    elevation = 1650.0 + 550.0 * smooth_noise(rng, model, TERRAIN_OCTAVES)
    rock = np.clip((elevation - 2450.0) / 400.0 + 0.3 * smooth_noise(rng, model, COVER_OCTAVES), 0, 1)
    forest = np.clip(0.78 + 0.3 * smooth_noise(rng, model, COVER_OCTAVES) - 0.8 * rock, 0, 1)
    grass = np.clip(0.55 + 0.4 * smooth_noise(rng, model, COVER_OCTAVES), 0, 1)
    turbidity = np.clip(0.35 + 0.3 * smooth_noise(rng, model, SHORE_OCTAVES), 0, 1)
    shore_noise = smooth_noise(rng, model, SHORE_OCTAVES)
    lakes = tuple(make_lake(rng, *to_utm(lon, lat), a, b, az, rough) for lon, lat, a, b, az, rough in LAKES)
    left, bottom, right, top = model.bounds
    ponds = []
    for _ in range(POND_COUNT):
        x, y = rng.uniform(left + 4000, right - 4000), rng.uniform(bottom + 4000, top - 4000)
        a = rng.uniform(150.0, 500.0)
        ponds.append(make_lake(rng, x, y, a, a * rng.uniform(0.5, 1.0), rng.uniform(0, 180), 0.2))
    rivers = tuple(
        (meander(rng, to_utm(x0, y0), to_utm(x1, y1)), float(width)) for x0, y0, x1, y1, width in RIVERS
    )
    # Meadows ring the lakes: less forest just above the shoreline.
    basin = lake_basin(model, lakes, [1.0] * len(lakes), shore_noise)
    forest *= np.clip((basin - 1.0) / 0.35, 0.3, 1.0)
    # The burn scar (a Dixie-fire-like area east of the lake) only shows after summer 2021.
    cx, cy = to_utm(-120.98, 40.19)
    xs, ys = model.centers()
    dist = np.hypot((xs[None, :] - cx) / 17000.0, (ys[:, None] - cy) / 14000.0)
    patchy = smooth_noise(rng, model, COVER_OCTAVES)
    burn = smoothstep((1.0 - dist + 0.25 * smooth_noise(rng, model, COVER_OCTAVES)) / 0.25)
    burn *= np.clip(0.55 + 0.4 * patchy, 0, 1)
    f32 = np.float32
    return Landscape(
        model, elevation.astype(f32), forest.astype(f32), grass.astype(f32), rock.astype(f32),
        turbidity.astype(f32), burn.astype(f32), shore_noise, lakes, tuple(ponds), rivers,
    )  # fmt: skip


def scene_fields(landscape: Landscape, spec: SceneSpec) -> SceneFields:
    """The fields of one date: land reflectance, water levels, clouds and shadows."""
    model = landscape.model
    rng = np.random.default_rng(spec.seed)
    shade = hillshade(landscape.elevation, model.res, spec.sun_azimuth, spec.sun_elevation)
    grass = GRASS[spec.season]
    land = np.empty((len(BANDS), model.height, model.width), dtype=np.float32)
    for i in range(len(BANDS)):
        open_land = (1 - landscape.rock) * (
            landscape.grass * grass[i] + (1 - landscape.grass) * SOIL[i]
        ) + landscape.rock * ROCK[i]
        band = landscape.forest * FOREST[i] + (1 - landscape.forest) * open_land
        if spec.burn:
            band = band * (1 - landscape.burn) + landscape.burn * BURN[i]
        land[i] = band * shade
    # In a drier year (lower level) some ponds shrink more than the lakes, a few dry up.
    pond_levels = (
        rng.uniform(0.75, 1.0, len(landscape.ponds))
        if spec.water_level < 1
        else np.ones(len(landscape.ponds))
    )
    levels = [spec.water_level] * len(landscape.lakes) + [spec.water_level * float(v) for v in pond_levels]
    basin = lake_basin(model, landscape.lakes + landscape.ponds, levels, landscape.shore_noise)
    cloud = smooth_noise(rng, model, CLOUD_OCTAVES)
    threshold = float(np.quantile(cloud, 1.0 - spec.cloud_fraction))
    scale = cloud_edge_scale(cloud, threshold, model.res)
    texture = smooth_noise(rng, model, CLOUD_OCTAVES[3:])
    reach = CLOUD_HEIGHT_M / math.tan(math.radians(spec.sun_elevation))
    az = math.radians(spec.sun_azimuth)
    # A cloud above q shades q - reach * (sun direction): the shadow field is the cloud field
    # shifted away from the sun.
    shift = (-reach * math.sin(az), -reach * math.cos(az))
    rivers = shapely.union_all(
        [line.buffer(width * spec.river_width / 2) for line, width in landscape.rivers]
    )
    if isinstance(rivers, Polygon):
        rivers = MultiPolygon([rivers])
    return SceneFields(
        spec, model, land, landscape.turbidity, basin, cloud, texture, threshold,
        CLOUD_EDGE_M * scale, SHADOW_EDGE_M * scale, shift, rivers,
    )  # fmt: skip


def band_column(values: Sequence[float]) -> np.ndarray:
    """Per-band values as a (5, 1) float32 column: broadcasts over (band, selected pixels)."""
    return np.asarray(values, dtype=np.float32)[:, None]
