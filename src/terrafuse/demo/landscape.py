"""The invented landscape behind the synthetic scenes: grids, smooth noise, lakes, rivers, clouds.

Everything here is computed once per scene on a coarse *model grid* (60 m) and later resampled
to the output grid strip by strip (``synthetic.py``). Because the content lives on the model grid
(and rivers are vectors), a 10 m and a 20 m scene show the same landscape on a finer or coarser
grid. All randomness comes from explicitly seeded generators, so a scene is bit-for-bit stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.io import MemoryFile
from rasterio.warp import reproject
from rasterio.windows import Window
from shapely.geometry import LineString, Polygon, box

F32 = NDArray[np.float32]

SNAP_M = 60.0  # grid origin and extent snap to the coarsest Sentinel-2 resolution
MODEL_RES_M = 60.0
MODEL_PAD_M = 2400.0  # room for cloud-shadow offsets and resampling kernels beyond the grid


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in a projected CRS."""

    epsg: int
    transform: Affine
    width: int
    height: int

    @property
    def res(self) -> float:
        """Pixel size in metres."""
        return float(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)``."""
        left, top = self.transform.c, self.transform.f
        return (left, top - self.height * self.res, left + self.width * self.res, top)

    @property
    def crs(self) -> CRS:
        """The rasterio CRS."""
        return CRS.from_epsg(self.epsg)

    def rows(self, row0: int, nrows: int) -> Grid:
        """The sub-grid of ``nrows`` rows starting at ``row0`` (a strip)."""
        return Grid(self.epsg, self.transform @ Affine.translation(0, row0), self.width, nrows)

    def centers(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel-centre x of each column and y of each row."""
        x = self.transform.c + (np.arange(self.width) + 0.5) * self.res
        y = self.transform.f - (np.arange(self.height) + 0.5) * self.res
        return x, y


def aoi_polygon(aoi: Sequence[float], epsg: int) -> Polygon:
    """A lon/lat rectangle as a polygon in ``epsg``, edges densified (they curve in UTM)."""
    lonlat = shapely.segmentize(box(*aoi), 0.005)
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    return shapely.transform(lonlat, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))


def grid_around(polygon: Polygon, epsg: int, resolution: float, margin_m: float) -> Grid:
    """A grid covering ``polygon`` plus a margin, snapped outwards to a 60 m lattice."""
    if SNAP_M % resolution:
        raise ValueError(f"resolution must divide {SNAP_M:g} m, got {resolution!r}")
    minx, miny, maxx, maxy = polygon.bounds
    left = math.floor((minx - margin_m) / SNAP_M) * SNAP_M
    bottom = math.floor((miny - margin_m) / SNAP_M) * SNAP_M
    right = math.ceil((maxx + margin_m) / SNAP_M) * SNAP_M
    top = math.ceil((maxy + margin_m) / SNAP_M) * SNAP_M
    width = round((right - left) / resolution)
    height = round((top - bottom) / resolution)
    return Grid(epsg, Affine(resolution, 0.0, left, 0.0, -resolution, top), width, height)


def model_grid(grid: Grid) -> Grid:
    """The coarse grid on which the landscape is modelled: the scene's extent, padded, at 60 m."""
    left, bottom, right, top = grid.bounds
    left, top = left - MODEL_PAD_M, top + MODEL_PAD_M
    width = round((right - left + MODEL_PAD_M) / MODEL_RES_M)
    height = round((top - bottom + MODEL_PAD_M) / MODEL_RES_M)
    return Grid(grid.epsg, Affine(MODEL_RES_M, 0.0, left, 0.0, -MODEL_RES_M, top), width, height)


def resample(data: F32, src: Grid, dst: Grid, resampling: Resampling) -> F32:
    """Resample ``data`` (2-D, or 3-D band-first) from ``src`` to ``dst`` with GDAL's warper."""
    out = np.zeros((*data.shape[:-2], dst.height, dst.width), dtype=np.float32)
    reproject(
        np.ascontiguousarray(data),
        out,
        src_transform=src.transform,
        src_crs=src.crs,
        dst_transform=dst.transform,
        dst_crs=dst.crs,
        resampling=resampling,
    )
    return out


class FieldSampler:
    """Fields of the model grid, resampled on demand onto any sub-grid aligned with it.

    Uses GDAL's resampling RasterIO on an in-memory GeoTIFF: with a floating-point source window
    it gives the same values as a warp (checked to float precision) several times faster, and
    strips read separately join seamlessly because the kernel sees pixels beyond the window.
    """

    def __init__(self, data: F32, grid: Grid) -> None:
        self.grid = grid
        self._memfile = MemoryFile()
        with self._memfile.open(
            driver="GTiff", width=grid.width, height=grid.height, count=data.shape[0], dtype="float32",
            crs=grid.crs, transform=grid.transform,
        ) as ds:  # fmt: skip
            ds.write(data.astype(np.float32, copy=False))
        self._dataset = self._memfile.open()

    def sample(
        self,
        sub: Grid,
        resampling: Resampling,
        indexes: Sequence[int] | None = None,
        shift: tuple[float, float] = (0.0, 0.0),
    ) -> F32:
        """Bands ``indexes`` (1-based, default all) on ``sub``; ``out(p) = field(p - shift)``."""
        indexes = list(indexes or range(1, self._dataset.count + 1))
        res = self.grid.res
        window = Window(
            (sub.transform.c - shift[0] - self.grid.transform.c) / res,
            (self.grid.transform.f - sub.transform.f + shift[1]) / res,
            sub.width * sub.res / res,
            sub.height * sub.res / res,
        )
        out_shape = (len(indexes), sub.height, sub.width)
        return self._dataset.read(indexes, window=window, out_shape=out_shape, resampling=resampling)

    def close(self) -> None:
        """Release the in-memory dataset."""
        self._dataset.close()
        self._memfile.close()

    def __enter__(self) -> FieldSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def smooth_noise(rng: np.random.Generator, grid: Grid, octaves: Sequence[tuple[float, float]]) -> F32:
    """Multi-octave smooth noise on ``grid``, normalised to mean 0 and standard deviation 1.

    ``octaves`` are ``(cell size in m, amplitude)`` from coarse to fine. Built as a pyramid: the
    sum so far is interpolated onto the next, finer lattice (cubic B-spline: smooth, no lattice
    artefacts; cheap because lattices are small) and that octave's Gaussian values are added;
    only the finest lattice is resampled to ``grid`` (one cubic warp instead of one per octave).
    """
    left, bottom, right, top = grid.bounds
    total: F32 | None = None
    previous: Grid | None = None
    for cell, amplitude in octaves:
        nx = math.ceil((right - left) / cell) + 5
        ny = math.ceil((top - bottom) / cell) + 5
        lattice_grid = Grid(grid.epsg, Affine(cell, 0.0, left - 2 * cell, 0.0, -cell, top + 2 * cell), nx, ny)
        values = np.float32(amplitude) * rng.standard_normal((ny, nx), dtype=np.float32)
        if total is not None and previous is not None:
            values += resample(total, previous, lattice_grid, Resampling.cubic_spline)
        total, previous = values, lattice_grid
    if total is None or previous is None:
        raise ValueError("at least one octave is needed")
    total = resample(total, previous, grid, Resampling.cubic)
    total -= total.mean()
    total /= max(float(total.std()), 1e-6)
    return total


def hillshade(
    elevation: F32, res: float, sun_azimuth: float, sun_elevation: float, floor: float = 0.25
) -> F32:
    """Relative illumination of the terrain (1 on flat ground) above a diffuse ``floor``.

    A hazier sky (more diffuse light) means a higher floor and weaker terrain shading.
    """
    dz_drow, dz_dcol = np.gradient(elevation.astype(np.float64), res)
    # Rows run southwards, so the northward slope is minus the row gradient.
    nx, ny, nz = -dz_dcol, dz_drow, np.ones_like(dz_dcol)
    norm = np.sqrt(nx * nx + ny * ny + 1.0)
    az, el = math.radians(sun_azimuth), math.radians(sun_elevation)
    sun = (math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el))
    cos_i = (nx * sun[0] + ny * sun[1] + nz * sun[2]) / norm
    return (floor + (1.0 - floor) * np.clip(cos_i, 0.0, None) / sun[2]).astype(np.float32)


@dataclass(frozen=True)
class Lake:
    """An irregular lake: a rotated ellipse with wavy radius, roughened by smooth noise.

    ``azimuth`` is the direction of the long axis, clockwise from grid north (degrees).
    ``roughness`` scales the noise added to the normalised radius (bays, islands, lobes).
    """

    x: float
    y: float
    semi_major: float
    semi_minor: float
    azimuth: float
    roughness: float
    harmonics: tuple[tuple[float, float], ...]  # (amplitude, phase) of radial harmonics k = 2, 3, ...


def make_lake(
    rng: np.random.Generator, x: float, y: float, a: float, b: float, azimuth: float, roughness: float
) -> Lake:
    """A lake with random (seeded) radial harmonics."""
    harmonics = tuple(
        (float(rng.uniform(0.03, 0.2)) / math.sqrt(k), float(rng.uniform(0, 2 * math.pi)))
        for k in range(2, 7)
    )
    return Lake(x, y, a, b, azimuth, roughness, harmonics)


def lake_basin(model: Grid, lakes: Sequence[Lake], levels: Sequence[float], noise: F32) -> F32:
    """The basin field: water where it is below 1; each lake's level scales its shoreline.

    Per lake the field is the normalised elliptic radius divided by a wavy radius function, plus
    roughness noise, divided by that lake's level (a lower level shrinks the lake).
    """
    basin = np.full((model.height, model.width), 9.0, dtype=np.float32)
    for lake, level in zip(lakes, levels, strict=True):
        found = lake_field(model, lake, noise)
        if found is None:
            continue
        window, field = found
        np.minimum(basin[window], (field / level).astype(np.float32), out=basin[window])
    return basin


def lake_field(
    model: Grid, lake: Lake, noise: F32, reach: float = 1.8
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """One lake's basin field (float64) in the window of ``model`` within ``reach`` semi-major axes.

    Returns ``(window, field)`` (``field`` < 1 is the lake at level 1), or ``None`` when the
    window misses the grid.
    """
    xs, ys = model.centers()
    extent = reach * lake.semi_major
    c0, c1 = np.searchsorted(xs, [lake.x - extent, lake.x + extent])
    r0, r1 = np.searchsorted(-ys, [-(lake.y + extent), -(lake.y - extent)])
    if c1 <= c0 or r1 <= r0:
        return None
    dx = (xs[c0:c1] - lake.x)[None, :]
    dy = (ys[r0:r1] - lake.y)[:, None]
    az = math.radians(lake.azimuth)
    u = (dx * math.sin(az) + dy * math.cos(az)) / lake.semi_major
    v = (dx * math.cos(az) - dy * math.sin(az)) / lake.semi_minor
    phi = np.arctan2(v, u)
    radius = np.ones_like(phi)
    for k, (amp, phase) in enumerate(lake.harmonics, start=2):
        radius += amp * np.cos(k * phi + phase)
    window = (slice(int(r0), int(r1)), slice(int(c0), int(c1)))
    return window, np.hypot(u, v) / radius + lake.roughness * noise[window]


def meander(
    rng: np.random.Generator, start: tuple[float, float], end: tuple[float, float], step: float = 60.0
) -> LineString:
    """A meandering river centre line from ``start`` towards ``end`` (map coordinates).

    The heading is the bearing to the target plus a slow sine (meanders) plus a correlated random
    deviation, so the line wanders but always arrives.
    """
    x, y = start
    points = [(x, y)]
    deviation = 0.0
    wavelength = rng.uniform(1500.0, 3000.0)
    amplitude = rng.uniform(0.5, 0.9)
    phase = rng.uniform(0, 2 * math.pi)
    travelled = 0.0
    for _ in range(20000):
        remaining = math.hypot(end[0] - x, end[1] - y)
        if remaining < step:
            break
        bearing = math.atan2(end[1] - y, end[0] - x)
        deviation = float(np.clip(0.96 * deviation + rng.normal(0.0, 0.12), -0.9, 0.9))
        # Meanders flatten close to the target so the river cannot orbit it.
        damp = min(1.0, remaining / 3000.0)
        heading = bearing + damp * (
            amplitude * math.sin(2 * math.pi * travelled / wavelength + phase) + deviation
        )
        x += step * math.cos(heading)
        y += step * math.sin(heading)
        travelled += step
        points.append((x, y))
    points.append(end)
    return LineString(points).simplify(step / 10)


def cloud_edge_scale(density: F32, threshold: float, res: float) -> float:
    """Median gradient (per metre) of the cloud density along the cloud edges.

    ``width_m * scale`` is then the density ramp that makes cloud edges about ``width_m`` wide,
    whatever the amplitude of the noise.
    """
    gy, gx = np.gradient(density, res)
    grad = np.hypot(gx, gy)
    near = np.abs(density - threshold) < 0.05
    return float(np.median(grad[near])) if near.any() else float(np.median(grad))


def smoothstep(x: F32) -> F32:
    """``3x^2 - 2x^3`` of ``x`` clipped to [0, 1] (a soft 0-to-1 ramp)."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
