"""Reading bands of one or more scenes onto a region's pixel grid, block by block.

A :class:`TargetGrid` is the grid outputs are made on: a CRS (the region's UTM zone), a pixel
size, and the region's bounds in that CRS snapped outward to whole pixels counted from the CRS
origin, so grids of neighbouring slices line up pixel for pixel and merge cleanly.

A :class:`Layer` is one output band: the same band in several Items (tiles of one acquisition,
DEM tiles), in priority order; the first valid value wins. Each source is warped onto the grid
(``WarpedVRT``) and read one block at a time, so memory does not grow with the region. When
the grid is much coarser than a source, a source overview close to the grid's pixel size is
read instead of the full resolution. Values come back as float32 physical values
(``raster:bands`` scale and offset applied), NaN where no source has data or outside the region.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.features import geometry_mask
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform, transform_bounds
from rasterio.windows import Window
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from terrafuse.errors import DataUnavailable
from terrafuse.ingest.raster import open_raster, raster_env
from terrafuse.ingest.stac import BandAsset

# Pixels per side of a processing block: 1024² float32 is 4 MB per band.
BLOCK_SIZE = 1024
# Degrees between vertices when projecting a lon/lat region (edges are straight in lon/lat).
_SEGMENT_DEG = 0.01
# Fraction of a pixel by which grid edges may cut a region's bounds (float noise of transforms).
_SNAP = 1e-6
# Coarser than this many source pixels per grid pixel: average instead of interpolating.
_DOWNSAMPLE = 1.5

Progress = Callable[[float], None]
Check = Callable[[], None]


@dataclass(frozen=True)
class TargetGrid:
    """The pixel grid outputs are made on (north-up, square pixels)."""

    crs: str
    transform: Affine
    width: int
    height: int

    @classmethod
    def covering(cls, region: BaseGeometry, crs: str, resolution: float) -> TargetGrid:
        """The grid of ``resolution`` pixels in ``crs`` that covers ``region`` (WGS84 lon/lat).

        Edges are snapped outward to multiples of ``resolution`` from the CRS origin.

        Raises:
            ValueError: for a non-positive resolution or an empty region.
        """
        if not (resolution > 0 and math.isfinite(resolution)):
            raise ValueError(f"resolution must be a positive number, got {resolution!r}")
        if region.is_empty:
            raise ValueError("the region is empty")
        left, bottom, right, top = project_region(region, crs).bounds
        # Round trips through lon/lat move edges by nanometres: not worth a row of pixels.
        x0 = math.floor(left / resolution + _SNAP) * resolution
        y1 = math.ceil(top / resolution - _SNAP) * resolution
        width = max(1, math.ceil((right - x0) / resolution - _SNAP))
        height = max(1, math.ceil((y1 - bottom) / resolution - _SNAP))
        return cls(crs, Affine(resolution, 0.0, x0, 0.0, -resolution, y1), width, height)

    @property
    def resolution(self) -> float:
        """Pixel size in CRS units."""
        return abs(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the grid's CRS."""
        left, top = self.transform.c, self.transform.f
        return (left, top - self.resolution * self.height, left + self.resolution * self.width, top)

    def window_transform(self, window: Window) -> Affine:
        """The transform of a window's top-left pixel."""
        return self.transform @ Affine.translation(window.col_off, window.row_off)

    def window_bounds(self, window: Window) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of a window."""
        t = self.window_transform(window)
        return (t.c, t.f - self.resolution * window.height, t.c + self.resolution * window.width, t.f)

    def blocks(self, size: int = BLOCK_SIZE) -> Iterator[Window]:
        """The grid cut into ``size`` x ``size`` windows, row-major (edge windows are smaller)."""
        for row in range(0, self.height, size):
            for col in range(0, self.width, size):
                yield Window(col, row, min(size, self.width - col), min(size, self.height - row))

    def profile(self, count: int, dtype: Any, nodata: float | None) -> dict[str, Any]:
        """GeoTIFF profile of a tiled scratch file on this grid."""
        profile: dict[str, Any] = {
            "driver": "GTiff",
            "width": self.width,
            "height": self.height,
            "count": count,
            "dtype": dtype,
            "crs": self.crs,
            "transform": self.transform,
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "BIGTIFF": "IF_SAFER",
        }
        if nodata is not None:
            profile["nodata"] = nodata
        return profile


@dataclass(frozen=True)
class Layer:
    """One band to mosaic: the same band in one or more Items, in priority order.

    ``categorical`` bands (classes, masks) are resampled with nearest neighbour (mode when
    the grid is coarser), never interpolated.
    """

    name: str
    assets: tuple[BandAsset, ...]
    categorical: bool = False


@dataclass(frozen=True)
class MosaicBlock:
    """One block of a mosaic: its window, one array per layer, and which pixels are in the region."""

    window: Window
    arrays: list[NDArray[np.float32]]
    inside: NDArray[np.bool_]


@dataclass(frozen=True)
class MosaicResult:
    """What :func:`write_mosaic` wrote.

    Attributes:
        path: the GeoTIFF (float32, one band per layer, nodata NaN).
        grid: its grid.
        valid_pixels: pixels (inside the region) where every layer has a value.
        region_pixels: pixels inside the region (all pixels when no region was given).
    """

    path: Path
    grid: TargetGrid
    valid_pixels: int
    region_pixels: int


def project_region(region: BaseGeometry, crs: str) -> BaseGeometry:
    """A WGS84 lon/lat geometry in ``crs``, its edges densified first (straight in lon/lat)."""
    transformer = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    dense = shapely.segmentize(region, _SEGMENT_DEG)
    projected = shapely.transform(
        dense, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
    if not np.all(np.isfinite(shapely.get_coordinates(projected))):
        raise DataUnavailable(f"the region cannot be expressed in {crs}")
    return projected


def region_mask(grid: TargetGrid, region: BaseGeometry | None, window: Window) -> NDArray[np.bool_]:
    """True for the pixels of ``window`` whose centre is inside ``region`` (in the grid's CRS).

    Pixel centres decide, so slices that share an edge share no pixel.
    """
    shape = (int(window.height), int(window.width))
    if region is None:
        return np.ones(shape, dtype=bool)
    block = box(*grid.window_bounds(window))
    if not region.intersects(block):
        return np.zeros(shape, dtype=bool)
    if region.contains(block):
        return np.ones(shape, dtype=bool)
    part = region.intersection(block.buffer(grid.resolution))
    return geometry_mask([mapping(part)], shape, grid.window_transform(window), invert=True)


def read_mosaic(
    layers: Sequence[Layer],
    grid: TargetGrid,
    region: BaseGeometry | None = None,
    *,
    block_size: int = BLOCK_SIZE,
    check_cancelled: Check | None = None,
    timeout: float = 30,
) -> Iterator[MosaicBlock]:
    """Every block of the grid with one float32 array per layer (NaN: no data or outside).

    Args:
        layers: the bands to read.
        grid: where to put them.
        region: the region in the grid's CRS (see :func:`project_region`); ``None`` keeps the
            whole grid.
        block_size: pixels per side of a block.
        check_cancelled: called before each block (raises to stop).
        timeout: seconds to wait for remote reads.

    Raises:
        DataUnavailable: a source cannot be opened or read.
    """
    with raster_env(timeout=timeout), ExitStack() as stack:
        sources = [
            [_open_source(stack, asset, grid, layer.categorical) for asset in layer.assets]
            for layer in layers
        ]
        for window in grid.blocks(block_size):
            if check_cancelled is not None:
                check_cancelled()
            inside = region_mask(grid, region, window)
            arrays = []
            for layer_sources in sources:
                out = np.full(inside.shape, np.nan, dtype=np.float32)
                if inside.any():
                    _fill(out, [s for s in layer_sources if s is not None], grid, window)
                    out[~inside] = np.nan
                arrays.append(out)
            yield MosaicBlock(window, arrays, inside)


def write_mosaic(
    path: Path,
    layers: Sequence[Layer],
    grid: TargetGrid,
    region: BaseGeometry | None = None,
    *,
    block_size: int = BLOCK_SIZE,
    progress: Progress | None = None,
    check_cancelled: Check | None = None,
    timeout: float = 30,
) -> MosaicResult:
    """Write the layers as a tiled float32 GeoTIFF on ``grid`` (one band per layer, nodata NaN).

    Band descriptions are the layer names. See :func:`read_mosaic` for the arguments.
    """
    if not layers:
        raise ValueError("no layers to mosaic")
    total = grid.width * grid.height
    done = valid = inside_count = 0
    with rasterio.open(path, "w", **grid.profile(len(layers), "float32", float("nan"))) as dst:
        for i, layer in enumerate(layers, start=1):
            dst.set_band_description(i, layer.name)
        blocks = read_mosaic(
            layers, grid, region, block_size=block_size, check_cancelled=check_cancelled, timeout=timeout
        )
        for block in blocks:
            stack = np.stack(block.arrays)
            dst.write(stack, window=block.window)
            valid += int(np.count_nonzero(~np.isnan(stack).any(axis=0)))
            inside_count += int(np.count_nonzero(block.inside))
            done += int(block.window.width * block.window.height)
            if progress is not None:
                progress(done / total)
    return MosaicResult(path, grid, valid, inside_count)


@dataclass
class _Source:
    """One asset warped onto the grid, ready to be read block by block."""

    vrt: WarpedVRT
    band: int
    alpha: int | None  # band of the VRT that says where the source has data (no nodata value)
    nodata: float | None
    scale: float
    offset: float
    bounds: tuple[float, float, float, float]  # in the grid's CRS


def _open_source(stack: ExitStack, asset: BandAsset, grid: TargetGrid, categorical: bool) -> _Source | None:
    """Open and warp one asset; ``None`` when it does not overlap the grid."""
    ds = stack.enter_context(open_raster(asset.href))
    if ds.crs is None:
        raise DataUnavailable(f"the raster {asset.href} has no coordinate reference system")
    if asset.band > ds.count:
        raise DataUnavailable(
            f"the asset {asset.key} ({asset.href}) has {ds.count} band(s), not {asset.band}"
        )
    try:
        bounds = transform_bounds(ds.crs, grid.crs, *ds.bounds, densify_pts=21)
    except RasterioError:
        bounds = grid.bounds  # cannot tell: let the warper find out
    if not box(*bounds).intersects(box(*grid.bounds)) or not all(math.isfinite(v) for v in bounds):
        return None
    native = _native_resolution(ds, grid)
    ds, native = _overview(stack, ds, asset.band, native, grid.resolution)
    coarser = native * _DOWNSAMPLE < grid.resolution
    if categorical:
        resampling = Resampling.mode if coarser else Resampling.nearest
    else:
        resampling = Resampling.average if coarser else Resampling.bilinear
    nodata = ds.nodatavals[asset.band - 1]
    if nodata is None:
        nodata = asset.nodata
    options: dict[str, Any] = {
        "crs": grid.crs,
        "transform": grid.transform,
        "width": grid.width,
        "height": grid.height,
        "resampling": resampling,
    }
    if nodata is None:
        # No value means "no data": an alpha band tells the warped edges from real values.
        options["add_alpha"] = True
    else:
        options.update(src_nodata=nodata, nodata=nodata)
    try:
        vrt = stack.enter_context(WarpedVRT(ds, **options))
    except RasterioError as exc:
        raise DataUnavailable(f"cannot reproject {asset.href} to {grid.crs}: {exc}") from None
    alpha = vrt.count if nodata is None else None
    return _Source(vrt, asset.band, alpha, nodata, asset.scale, asset.offset, bounds)


def _native_resolution(ds: DatasetReader, grid: TargetGrid) -> float:
    """The source's pixel size expressed in the grid's CRS units."""
    try:
        transform, _, _ = calculate_default_transform(ds.crs, grid.crs, ds.width, ds.height, *ds.bounds)
        return abs(transform.a)
    except RasterioError:
        return grid.resolution


def _overview(
    stack: ExitStack, ds: DatasetReader, band: int, native: float, target: float
) -> tuple[DatasetReader, float]:
    """The coarsest overview of ``ds`` still at least as fine as ``target`` (or ``ds`` itself)."""
    factors = ds.overviews(band)
    best = None
    for level, factor in enumerate(factors):
        if native * factor <= target * 1.0001:
            best = (level, factor)
    if best is None:
        return ds, native
    try:
        reduced = stack.enter_context(rasterio.open(ds.name, overview_level=best[0]))
    except RasterioError:
        return ds, native
    return reduced, native * best[1]


def _fill(out: NDArray[np.float32], sources: list[_Source], grid: TargetGrid, window: Window) -> None:
    """Fill the NaN pixels of ``out`` from the sources, first valid value wins."""
    block = box(*grid.window_bounds(window))
    for src in sources:
        if not box(*src.bounds).intersects(block):
            continue
        missing = np.isnan(out)
        if not missing.any():
            return
        try:
            data = src.vrt.read(src.band, window=window)
            valid = (
                src.vrt.read(src.alpha, window=window) > 0
                if src.alpha is not None
                else _valid(data, src.nodata)
            )
        except RasterioError as exc:
            raise DataUnavailable(f"cannot read {src.vrt.src_dataset.name}: {exc}") from None
        take = missing & valid
        values = data[take].astype(np.float32)
        if src.scale != 1.0 or src.offset != 0.0:
            values = values * np.float32(src.scale) + np.float32(src.offset)
        out[take] = values


def _valid(data: NDArray[Any], nodata: float | None) -> NDArray[np.bool_]:
    if data.dtype.kind == "f":
        valid = np.isfinite(data)
        if nodata is not None and not math.isnan(nodata):
            valid &= data != nodata
        return valid
    if nodata is None:
        return np.ones(data.shape, dtype=bool)
    return data != nodata
