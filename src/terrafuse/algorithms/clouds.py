"""Cloud and cloud-shadow classification of surface reflectance by per-pixel spectral tests.

Four classes plus nodata, from five bands (blue, green, red, nir, swir16; reflectance 0-1).
Every test looks at one pixel only (no scene statistics, no neighbourhood), so a scene cut into
blocks or slices is classified exactly as in one piece. The tests follow the physics used by
Fmask (Zhu & Woodcock 2012) and similar rule sets, with fixed thresholds:

* **thick cloud** — bright (mean visible reflectance >= ``THICK_BRIGHTNESS``) and white (the
  visible bands within ``THICK_WHITENESS`` of their mean, relative), and not snow (snow is dark
  at 1.6 um: NDSI = (green - swir16) / (green + swir16) below ``SNOW_NDSI``);
* **thin cloud** — not thick, but hazy: the haze-optimised transform HOT = blue - 0.5 * red
  (Zhang et al. 2002) at least ``THIN_HOT``. Clear land and water lie on a "clear line" with
  HOT near 0-0.03; a semi-transparent cloud adds its flat, bright spectrum and lifts the blue
  more than half as much as the red;
* **cloud shadow** — not cloud, and dark: on land (NDWI = (green - nir) / (green + nir) at most
  ``WATER_NDWI``) the direct light that a shadow removes leaves nir below ``SHADOW_NIR`` *and*
  swir16 below ``SHADOW_SWIR`` (dark slopes and dark covers keep one of them brighter); on water,
  which is always dark in the infrared, a green reflectance below ``WATER_SHADOW_GREEN``;
* **ground** — everything else with data (land and water).

Pixels flagged by ``nodata_mask``, or with a non-finite band, are ``NODATA``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

GROUND = 0
SHADOW = 1
THICK_CLOUD = 2
THIN_CLOUD = 3
NODATA = 255
CLASS_NAMES: dict[int, str] = {
    GROUND: "ground",
    SHADOW: "cloud shadow",
    THICK_CLOUD: "thick cloud",
    THIN_CLOUD: "thin cloud",
    NODATA: "nodata",
}

THICK_BRIGHTNESS = 0.3
THICK_WHITENESS = 0.3
SNOW_NDSI = 0.5
THIN_HOT = 0.045
WATER_NDWI = 0.25
SHADOW_NIR = 0.12
SHADOW_SWIR = 0.1
WATER_SHADOW_GREEN = 0.028

# 64 Ki pixels per chunk: the float32 temporaries stay in cache.
_CHUNK = 1 << 16


def classify_clouds(
    blue: ArrayLike,
    green: ArrayLike,
    red: ArrayLike,
    nir: ArrayLike,
    swir16: ArrayLike,
    *,
    nodata_mask: ArrayLike | None = None,
) -> NDArray[np.uint8]:
    """Classify each pixel as GROUND, SHADOW, THICK_CLOUD or THIN_CLOUD (NODATA where unknown).

    Args:
        blue, green, red, nir, swir16: surface reflectance (0-1, any real dtype), same shape.
        nodata_mask: boolean array of that shape, True where the pixel has no data.

    Returns:
        uint8 array of class codes, same shape as the bands.

    Raises:
        ValueError: if the shapes differ.
    """
    bands = [np.asarray(b) for b in (blue, green, red, nir, swir16)]
    shape = bands[0].shape
    if any(b.shape != shape for b in bands):
        raise ValueError(f"band shapes differ: {[b.shape for b in bands]}")
    invalid = None
    if nodata_mask is not None:
        invalid = np.asarray(nodata_mask, dtype=bool)
        if invalid.shape != shape:
            raise ValueError(f"nodata_mask shape {invalid.shape} differs from the bands' {shape}")
    flat = [b.reshape(-1) for b in bands]
    flat_invalid = invalid.reshape(-1) if invalid is not None else None
    out = np.empty(flat[0].size, dtype=np.uint8)
    for start in range(0, out.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        b, g, r, n, s = (np.asarray(x[part], dtype=np.float32) for x in flat)
        out[part] = _classify_chunk(b, g, r, n, s)
        if flat_invalid is not None:
            out[part][flat_invalid[part]] = NODATA
    return out.reshape(shape)


def _classify_chunk(
    b: NDArray[np.float32], g: NDArray[np.float32], r: NDArray[np.float32], n: NDArray[np.float32],
    s: NDArray[np.float32],
) -> NDArray[np.uint8]:  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        visible = (b + g + r) / np.float32(3.0)
        spread = np.maximum(np.maximum(np.abs(b - visible), np.abs(g - visible)), np.abs(r - visible))
        white = spread <= THICK_WHITENESS * visible
        ndsi = (g - s) / (g + s)
        ndwi = (g - n) / (g + n)
    thick = (visible >= THICK_BRIGHTNESS) & white & ~(ndsi >= SNOW_NDSI)
    thin = ~thick & (b - np.float32(0.5) * r >= THIN_HOT)
    water = ndwi > WATER_NDWI
    dark_land = ~water & (n < SHADOW_NIR) & (s < SHADOW_SWIR)
    dark_water = water & (g < WATER_SHADOW_GREEN)
    out = np.full(b.shape, GROUND, dtype=np.uint8)
    out[dark_land | dark_water] = SHADOW
    out[thin] = THIN_CLOUD
    out[thick] = THICK_CLOUD
    finite = np.isfinite(b) & np.isfinite(g) & np.isfinite(r) & np.isfinite(n) & np.isfinite(s)
    out[~finite] = NODATA
    return out
