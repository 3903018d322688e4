"""Terrain derivatives of a digital elevation model: slope by Horn's method.

Horn (1981) estimates the gradient at a pixel from its eight neighbours, weighting the four
edge-adjacent ones twice:

    dz/dx = ((c + 2f + i) - (a + 2d + g)) / (8 * xres)
    dz/dy = ((g + 2h + i) - (a + 2b + c)) / (8 * yres)

for the 3 x 3 window ``a b c / d e f / g h i``; slope = atan(hypot(dz/dx, dz/dy)).

Missing neighbours (beyond the array edge, or nodata) are filled by mirroring the opposite
neighbour through the centre (``2e - opposite``); when that one is missing too, a diagonal
neighbour is extrapolated from the two edge neighbours next to it (``b + d - e`` for ``a``) and
an edge neighbour takes the centre value (that direction counts as flat). All of these are exact
on planes, so edges, corners and holes need no special casing by the caller. To
compute a large DEM block by block with results identical to one piece, give each block a
one-pixel halo and drop the halo from the result.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Neighbour offsets (row, column) and their Horn weights for dz/dx and dz/dy (rows run south).
_OFFSETS: tuple[tuple[int, int, float, float], ...] = (
    (-1, -1, -1.0, -1.0),
    (-1, 0, 0.0, -2.0),
    (-1, 1, 1.0, -1.0),
    (0, -1, -2.0, 0.0),
    (0, 1, 2.0, 0.0),
    (1, -1, -1.0, 1.0),
    (1, 0, 0.0, 2.0),
    (1, 1, 1.0, 1.0),
)


def slope_degrees(
    dem: ArrayLike, xres: float | ArrayLike, yres: float, nodata: float | None = None
) -> NDArray[np.float32]:
    """Slope in degrees (0 flat .. 90 vertical) of each pixel of ``dem`` by Horn's method.

    Args:
        dem: 2-D elevations.
        xres: pixel width in the unit of the elevations (e.g. metres); a scalar, or one value
            per row (a geographic DEM's pixels narrow towards the poles).
        yres: pixel height in that unit (positive).
        nodata: elevation value meaning "no data" (NaN is always treated as no data).

    Returns:
        float32 array of the shape of ``dem``; NaN where the DEM has no data.

    Raises:
        ValueError: if ``dem`` is not 2-D, or a resolution is not positive and finite.
    """
    z = np.array(dem, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"dem must be a 2-D array, got shape {z.shape}")
    dx = np.asarray(xres, dtype=np.float64)
    if dx.ndim == 1:
        if dx.shape[0] != z.shape[0]:
            raise ValueError(f"xres has {dx.shape[0]} values for {z.shape[0]} rows")
        dx = dx[:, None]
    elif dx.ndim != 0:
        raise ValueError("xres must be a number or one value per row")
    dy = float(yres)
    if not (np.all(np.isfinite(dx)) and np.all(dx > 0) and np.isfinite(dy) and dy > 0):
        raise ValueError(f"pixel sizes must be positive, got xres={xres!r}, yres={yres!r}")
    if nodata is not None and not np.isnan(nodata):
        z[z == nodata] = np.nan
    missing = np.isnan(z)
    rows, cols = z.shape
    padded = np.full((rows + 2, cols + 2), np.nan)
    padded[1:-1, 1:-1] = z

    def neighbour(dr: int, dc: int) -> NDArray[np.float64]:
        return padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]

    filled: dict[tuple[int, int], NDArray[np.float64]] = {}
    with np.errstate(invalid="ignore"):
        # Edge neighbours first: the diagonal ones fall back on them.
        for dr, dc, _, _ in sorted(_OFFSETS, key=lambda o: abs(o[0]) + abs(o[1])):
            value = neighbour(dr, dc)
            mirrored = 2.0 * z - neighbour(-dr, -dc)
            # Diagonals: planar extrapolation from the two edge neighbours next to them.
            fallback = filled[(dr, 0)] + filled[(0, dc)] - z if dr and dc else z
            substitute = np.where(np.isnan(mirrored), fallback, mirrored)
            filled[(dr, dc)] = np.where(np.isnan(value), substitute, value)
    gx = np.zeros_like(z)
    gy = np.zeros_like(z)
    for dr, dc, wx, wy in _OFFSETS:
        if wx:
            gx += wx * filled[(dr, dc)]
        if wy:
            gy += wy * filled[(dr, dc)]
    gx /= 8.0 * dx
    gy /= 8.0 * dy
    slope = np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)
    slope[missing] = np.nan
    return slope
