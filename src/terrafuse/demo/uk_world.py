"""The invented UK world of the Glasgow and Lake District demo data: geography and terrain.

Lakes, hills, rivers, towns and the coast sit roughly where their real counterparts are, so the
demo looks familiar on a map, but every shape and height is generated here. One terrain field on
a 90 m *domain grid* in UTM 30N covers all the DEM tiles (5-2 deg W, 54-56 deg N): the DEM tiles
and the Sentinel-2 scenes both sample it, so tiles join without seams and the lakes of the
images lie on the flat floors of the DEM's valleys.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.features import rasterize
from shapely.geometry import LineString, Polygon

from terrafuse.demo.landscape import (
    F32,
    Grid,
    Lake,
    aoi_polygon,
    lake_basin,
    lake_field,
    make_lake,
    meander,
    resample,
    smooth_noise,
    smoothstep,
)
from terrafuse.demo.uk import EPSG

DOMAIN_LONLAT = (-5.0, 54.0, -2.0, 56.0)  # the union of the DEM tiles
DOMAIN_RES_M = 90.0
DOMAIN_PAD_M = 3000.0  # room for resampling kernels at the tile edges
COARSE_RES_M = 900.0  # smooth analytic fields (hills, distances) are computed this coarse
WORLD_SEED = 54_5503
VALLEY_WIDTH = 1.2  # lake valleys reach this far beyond the shore, in lake radii
BANK_M = 12.0  # shores rise at least this much above the lake before the valley sides
COAST_RAMP_M = 4000.0  # land rises from the shore to its full height over this distance
CLYDE_VALLEY_M = 6000.0

TERRAIN_BASE_OCTAVES = ((40000, 1.0), (20000, 0.7), (10000, 0.45), (5000, 0.25))
TERRAIN_RUGGED_OCTAVES = ((8000, 1.0), (4000, 0.75), (2000, 0.5), (1000, 0.3), (500, 0.15), (250, 0.08))
SHORE_OCTAVES = ((4000, 1.0), (2000, 0.7), (1000, 0.45), (500, 0.25), (250, 0.12))


@dataclass(frozen=True)
class LakeSpec:
    """A lake: centre, semi-axes (m), long-axis azimuth (deg from north), roughness, level (m)."""

    name: str
    lon: float
    lat: float
    semi_major: float
    semi_minor: float
    azimuth: float
    roughness: float
    level: float


@dataclass(frozen=True)
class RiverSpec:
    """A river: width (m) and waypoints (lon, lat) from source to mouth."""

    name: str
    width: float
    waypoints: tuple[tuple[float, float], ...]


LAKES: tuple[LakeSpec, ...] = (
    # Lake District
    LakeSpec("Windermere", -2.945, 54.350, 8500, 650, 172, 0.15, 39),
    LakeSpec("Ullswater", -2.880, 54.585, 6300, 500, 40, 0.15, 145),
    LakeSpec("Derwentwater", -3.145, 54.580, 2300, 1000, 0, 0.18, 75),
    LakeSpec("Bassenthwaite Lake", -3.215, 54.655, 3000, 600, 160, 0.15, 69),
    LakeSpec("Coniston Water", -3.075, 54.345, 4000, 420, 170, 0.12, 44),
    LakeSpec("Haweswater", -2.800, 54.515, 3300, 380, 150, 0.15, 240),
    LakeSpec("Thirlmere", -3.065, 54.545, 3000, 380, 0, 0.15, 179),
    LakeSpec("Wast Water", -3.290, 54.440, 2500, 380, 50, 0.12, 61),
    LakeSpec("Ennerdale Water", -3.385, 54.520, 2000, 550, 110, 0.15, 112),
    LakeSpec("Crummock Water", -3.300, 54.560, 2000, 450, 150, 0.15, 98),
    LakeSpec("Buttermere", -3.270, 54.535, 1000, 320, 140, 0.12, 100),
    LakeSpec("Loweswater", -3.355, 54.580, 800, 270, 130, 0.12, 121),
    LakeSpec("Grasmere", -3.025, 54.452, 520, 360, 0, 0.12, 62),
    LakeSpec("Esthwaite Water", -2.985, 54.355, 1000, 300, 0, 0.12, 65),
    # Glasgow and the Clyde valley
    LakeSpec("Strathclyde Loch", -4.015, 55.795, 1100, 230, 140, 0.12, 30),
    LakeSpec("Hogganfield Loch", -4.163, 55.878, 380, 230, 80, 0.12, 80),
    LakeSpec("Bishop Loch", -4.105, 55.875, 450, 160, 85, 0.12, 85),
    LakeSpec("Milngavie Reservoir", -4.305, 55.952, 550, 300, 30, 0.12, 100),
    LakeSpec("Balgray Reservoir", -4.345, 55.785, 650, 300, 60, 0.12, 110),
    LakeSpec("Castle Semple Loch", -4.600, 55.815, 1300, 380, 50, 0.15, 25),
    # Galloway (DEM tiles only)
    LakeSpec("Loch Doon", -4.380, 55.250, 4000, 600, 170, 0.15, 210),
    LakeSpec("Loch Ken", -4.080, 55.020, 6000, 400, 160, 0.15, 50),
)

# Hills as Gaussian bumps: (lon, lat, height m, radius km).
HILLS: tuple[tuple[float, float, float, float], ...] = (
    (-3.10, 54.48, 150, 16),  # the Lake District dome
    (-3.21, 54.455, 560, 4.5),  # Scafell
    (-3.02, 54.53, 520, 5),  # Helvellyn
    (-3.145, 54.65, 520, 3.5),  # Skiddaw
    (-3.05, 54.64, 430, 3),  # Blencathra
    (-2.86, 54.49, 470, 5),  # High Street
    (-3.12, 54.37, 430, 4),  # Coniston Old Man
    (-3.29, 54.50, 470, 4),  # Pillar
    (-3.28, 54.57, 400, 3.5),  # Grasmoor
    (-3.17, 54.43, 380, 4),  # Bowfell
    (-3.00, 54.40, 200, 5),  # Wansfell
    (-2.56, 54.38, 420, 6),  # Howgill Fells
    (-2.45, 54.33, 380, 9),  # the Pennines
    (-2.48, 54.52, 450, 9),
    (-2.49, 54.70, 560, 8),  # Cross Fell
    (-2.42, 54.88, 420, 10),
    (-2.30, 54.10, 350, 12),
    (-3.64, 54.94, 380, 3),  # Criffel
    (-4.20, 54.98, 350, 8),  # Galloway hills
    (-3.90, 55.00, 250, 8),
    (-4.45, 55.13, 520, 9),  # the Southern Uplands
    (-4.15, 55.25, 420, 12),
    (-3.95, 55.10, 380, 12),
    (-3.75, 55.36, 450, 12),
    (-3.35, 55.47, 520, 11),
    (-3.05, 55.30, 380, 12),
    (-4.60, 55.38, 250, 10),  # Carrick hills
    (-3.32, 55.85, 380, 6),  # Pentland Hills
    (-4.20, 55.995, 380, 4),  # Campsie Fells
    (-4.05, 56.00, 330, 4),  # Kilsyth Hills
    (-4.47, 55.95, 290, 4),  # Kilpatrick Hills
    (-4.72, 55.84, 300, 6),  # Renfrewshire Heights
    (-4.48, 55.80, 130, 3),  # Gleniffer Braes
    (-4.20, 55.80, 90, 2.5),  # Cathkin Braes
    (-4.33, 55.72, 220, 6),  # Eaglesham moors
)

RIVERS: tuple[RiverSpec, ...] = (
    RiverSpec("Clyde", 140, ((-3.93, 55.76), (-4.04, 55.815), (-4.16, 55.84), (-4.25, 55.855),
                             (-4.31, 55.862), (-4.40, 55.885), (-4.47, 55.915), (-4.56, 55.936))),
    RiverSpec("Kelvin", 30, ((-4.10, 55.955), (-4.22, 55.91), (-4.29, 55.87))),
    RiverSpec("White Cart", 25, ((-4.28, 55.77), (-4.37, 55.835), (-4.41, 55.88))),
    RiverSpec("Derwent", 40, ((-3.24, 54.685), (-3.36, 54.665), (-3.47, 54.655), (-3.555, 54.648))),
    RiverSpec("Kent", 30, ((-2.77, 54.40), (-2.745, 54.33), (-2.79, 54.25))),
    RiverSpec("Leven", 35, ((-2.955, 54.275), (-3.00, 54.25), (-3.04, 54.225))),
    RiverSpec("Eden", 45, ((-2.70, 54.55), (-2.75, 54.67), (-2.85, 54.80), (-2.95, 54.90), (-3.05, 54.94))),
    RiverSpec("Esk", 25, ((-3.20, 54.41), (-3.32, 54.37), (-3.40, 54.35))),
    RiverSpec("Duddon", 25, ((-3.18, 54.38), (-3.20, 54.30), (-3.21, 54.27))),
)  # fmt: skip

# Towns: (lon, lat, radius km) of their built-up area.
TOWNS: tuple[tuple[float, float, float], ...] = (
    (-4.25, 55.86, 7.5),  # Glasgow
    (-4.42, 55.845, 3.5),  # Paisley
    (-4.39, 55.905, 2.5),  # Clydebank
    (-4.17, 55.765, 3.5),  # East Kilbride
    (-4.03, 55.79, 3.5),  # Hamilton / Motherwell
    (-4.01, 55.862, 3.5),  # Coatbridge
    (-4.30, 55.79, 3.0),  # Newton Mearns
    (-4.14, 55.91, 2.5),  # Kirkintilloch
    (-4.32, 55.93, 2.5),  # Bearsden
    (-3.135, 54.60, 0.9),  # Keswick
    (-2.96, 54.43, 0.7),  # Ambleside
    (-2.915, 54.365, 1.2),  # Windermere / Bowness
    (-2.745, 54.33, 2.0),  # Kendal
    (-3.36, 54.66, 1.0),  # Cockermouth
    (-3.585, 54.55, 1.8),  # Whitehaven
    (-3.55, 54.64, 2.0),  # Workington
    (-2.75, 54.665, 1.6),  # Penrith
    (-3.09, 54.195, 1.0),  # Ulverston
    (-3.22, 54.12, 3.0),  # Barrow-in-Furness
)

# The sea (Irish Sea, Solway Firth, Firth of Clyde) as a lon/lat ring, roughly along the coast.
SEA: tuple[tuple[float, float], ...] = (
    (-6.0, 53.5), (-3.05, 53.5), (-3.05, 53.95), (-2.88, 54.03), (-2.80, 54.10), (-2.90, 54.18),
    (-2.98, 54.15), (-3.05, 54.22), (-3.10, 54.12), (-3.16, 54.07), (-3.22, 54.04), (-3.27, 54.14),
    (-3.22, 54.21), (-3.19, 54.27), (-3.25, 54.23), (-3.29, 54.20), (-3.33, 54.22), (-3.40, 54.29),
    (-3.42, 54.33), (-3.41, 54.35), (-3.48, 54.40), (-3.51, 54.42), (-3.64, 54.51), (-3.59, 54.55),
    (-3.57, 54.64), (-3.50, 54.71), (-3.44, 54.77), (-3.39, 54.87), (-3.30, 54.91), (-3.21, 54.95),
    (-3.10, 54.96), (-3.05, 54.99), (-3.26, 54.98), (-3.33, 54.97), (-3.48, 54.97), (-3.56, 55.02),
    (-3.60, 54.88), (-3.78, 54.86), (-3.88, 54.82), (-4.05, 54.82), (-4.15, 54.78), (-4.19, 54.86),
    (-4.38, 54.90), (-4.45, 54.90), (-4.44, 54.87), (-4.36, 54.70), (-4.40, 54.68), (-4.58, 54.76),
    (-4.85, 54.87), (-4.86, 54.63), (-5.12, 54.84), (-5.03, 54.90), (-5.00, 55.10), (-4.86, 55.24),
    (-4.83, 55.32), (-4.76, 55.40), (-4.64, 55.46), (-4.66, 55.54), (-4.68, 55.61), (-4.82, 55.64),
    (-4.86, 55.69), (-4.87, 55.80), (-4.89, 55.88), (-4.82, 55.96), (-4.75, 55.95), (-4.69, 55.935),
    (-4.62, 55.93), (-4.585, 55.935), (-4.62, 55.945), (-4.65, 55.96), (-4.73, 56.00), (-4.78, 56.02),
    (-4.82, 55.985), (-4.85, 56.2), (-6.0, 56.2),
)  # fmt: skip


@dataclass(frozen=True)
class Terrain:
    """The world on the domain grid, shared by the DEM tiles and the scenes."""

    grid: Grid
    elevation: F32  # metres; sea at 0, lakes flat at their level
    basin: F32  # lakes where < 1
    sea: F32  # sea where > 0.5
    lakes: tuple[Lake, ...]
    rivers: tuple[tuple[LineString, float], ...]  # centre lines (UTM) and widths (m)


_TO_UTM = Transformer.from_crs(4326, EPSG, always_xy=True)


def to_utm(lon: float, lat: float) -> tuple[float, float]:
    """Lon/lat to UTM zone 30N metres."""
    x, y = _TO_UTM.transform(lon, lat)
    return float(x), float(y)


def domain_grid(resolution: float = DOMAIN_RES_M) -> Grid:
    """The grid of the terrain field: the DEM tiles' extent in UTM 30N plus a pad."""
    minx, miny, maxx, maxy = aoi_polygon(DOMAIN_LONLAT, EPSG).bounds
    left = math.floor((minx - DOMAIN_PAD_M) / resolution) * resolution
    top = math.ceil((maxy + DOMAIN_PAD_M) / resolution) * resolution
    width = math.ceil((maxx + DOMAIN_PAD_M - left) / resolution)
    height = math.ceil((top - miny + DOMAIN_PAD_M) / resolution)
    return Grid(EPSG, Affine(resolution, 0.0, left, 0.0, -resolution, top), width, height)


def sea_polygon() -> Polygon:
    """The sea in UTM 30N."""
    ring = shapely.segmentize(Polygon(SEA), 0.05)
    utm = shapely.transform(ring, lambda xy: np.column_stack(_TO_UTM.transform(xy[:, 0], xy[:, 1])))
    return shapely.make_valid(utm) if not utm.is_valid else utm


def _coarse(grid: Grid) -> Grid:
    """A grid with the origin of ``grid``, COARSE_RES_M pixels, covering it with a cell to spare."""
    left, bottom, right, top = grid.bounds
    width = math.ceil((right - left) / COARSE_RES_M) + 2
    height = math.ceil((top - bottom) / COARSE_RES_M) + 2
    res = COARSE_RES_M
    return Grid(grid.epsg, Affine(res, 0.0, left - res, 0.0, -res, top + res), width, height)


def _distance(coarse: Grid, geometry: shapely.Geometry) -> F32:
    """Distance (m) from each coarse pixel centre to ``geometry`` (0 inside a polygon)."""
    xs, ys = coarse.centers()
    points = shapely.points(*np.meshgrid(xs, ys))
    return shapely.distance(points, geometry).astype(np.float32)


def _hills(coarse: Grid) -> F32:
    xs, ys = coarse.centers()
    total = np.zeros((coarse.height, coarse.width), dtype=np.float64)
    for lon, lat, height, radius_km in HILLS:
        x, y = to_utm(lon, lat)
        gx = np.exp(-(((xs - x) / (radius_km * 1000.0)) ** 2))
        gy = np.exp(-(((ys - y) / (radius_km * 1000.0)) ** 2))
        total += height * np.outer(gy, gx)
    return total.astype(np.float32)


def _river_line(rng: np.random.Generator, river: RiverSpec) -> LineString:
    points = [to_utm(lon, lat) for lon, lat in river.waypoints]
    coords: list[tuple[float, float]] = []
    for start, end in itertools.pairwise(points):
        coords.extend(meander(rng, start, end).coords)
    return LineString(coords)


def _sea_field(grid: Grid, sea: Polygon, noise: F32) -> F32:
    """Sea where > 0.5: the rasterised polygon, blurred, its shore roughened by ``noise``."""
    mask = rasterize([(sea, 1)], out_shape=(grid.height, grid.width), transform=grid.transform, dtype="uint8")
    blur_res = 4 * grid.res
    blur = Grid(grid.epsg, Affine(blur_res, 0.0, grid.transform.c, 0.0, -blur_res, grid.transform.f),
                math.ceil(grid.width / 4), math.ceil(grid.height / 4))  # fmt: skip
    coarse = resample(mask.astype(np.float32), grid, blur, Resampling.average)
    field = np.clip(resample(coarse, blur, grid, Resampling.cubic), 0.0, 1.0)
    # The noise only moves the shore: it vanishes where the field is 0 or 1.
    field += 1.4 * noise * field * (1.0 - field)
    return field


@lru_cache(maxsize=1)
def build_terrain() -> Terrain:
    """Elevation, lakes, sea and rivers of the UK demo world (cached: DEM and scenes share it)."""
    grid = domain_grid()
    coarse = _coarse(grid)
    rng = np.random.default_rng(WORLD_SEED)
    sea = sea_polygon()
    hills = resample(_hills(coarse), coarse, grid, Resampling.cubic)
    coast = resample(_distance(coarse, sea), coarse, grid, Resampling.cubic)
    rivers = tuple((_river_line(rng, river), river.width) for river in RIVERS)
    clyde = resample(_distance(coarse, rivers[0][0]), coarse, grid, Resampling.cubic)
    base = np.maximum(70.0 + 45.0 * smooth_noise(rng, grid, TERRAIN_BASE_OCTAVES), 8.0)
    rugged = smooth_noise(rng, grid, TERRAIN_RUGGED_OCTAVES)
    upland = np.clip(hills / 350.0, 0.0, 1.0)
    # Ridged noise (sharp crests, rounded valleys) roughens the uplands like glaciated fells.
    elevation = base + hills + upland * (130.0 * (0.5 - np.abs(rugged)) + 40.0)
    elevation *= 0.2 + 0.8 * smoothstep(clyde / CLYDE_VALLEY_M)
    elevation *= 0.05 + 0.95 * np.sqrt(smoothstep(coast / COAST_RAMP_M))
    np.maximum(elevation, 1.0, out=elevation)
    shore_noise = smooth_noise(rng, grid, SHORE_OCTAVES)
    lakes = tuple(
        make_lake(rng, *to_utm(s.lon, s.lat), s.semi_major, s.semi_minor, s.azimuth, s.roughness)
        for s in LAKES
    )
    for spec, lake in zip(LAKES, lakes, strict=True):
        found = lake_field(grid, lake, shore_noise, reach=1.0 + 2.0 * VALLEY_WIDTH)
        if found is None:
            continue
        window, field = found
        # The valley floor sinks (or rises) to the lake level towards the shore, with a bank.
        t = smoothstep((field - 1.0) / VALLEY_WIDTH)
        flattened = spec.level + (elevation[window] - spec.level) * t + BANK_M * np.sin(np.pi * np.sqrt(t))
        elevation[window] = np.where(field < 1.0, spec.level, flattened)
    basin = lake_basin(grid, lakes, [1.0] * len(lakes), shore_noise)
    sea_field = _sea_field(grid, sea, smooth_noise(rng, grid, SHORE_OCTAVES))
    elevation[sea_field > 0.5] = 0.0
    return Terrain(grid, elevation.astype(np.float32), basin, sea_field.astype(np.float32), lakes, rivers)
