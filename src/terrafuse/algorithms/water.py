"""Water detection kernels: NDWI per block turned into histogram codes, codes into a mask.

The water-bodies service reads a region block by block. Pass 1 turns each block of the two
bands into *codes*: the Otsu histogram bin of each pixel's NDWI (see
:class:`terrafuse.algorithms.otsu.Histogram`), or ``hist.bins`` where there is no valid NDWI.
Codes are uint16, half the size of float32 NDWI, and thresholding them against the Otsu split
gives exactly ``ndwi > threshold``. Pass 2 maps codes to the mask.

Work is done in cache-sized chunks: whole-block temporaries cost ten times more (memory
traffic and page faults) than the arithmetic itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from terrafuse.algorithms.indices import normalized_difference
from terrafuse.algorithms.otsu import Histogram

MASK_LAND = 0
MASK_WATER = 1
MASK_NODATA = 255

# 64 Ki pixels: the handful of float32 temporaries per chunk stay in L2 cache.
_CHUNK = 1 << 16


@dataclass(frozen=True)
class BandValues:
    """How to turn a band's stored numbers into physical values.

    Attributes:
        nodata: stored value meaning "no data" (``None``: every finite value is data).
        scale: multiplier applied to stored values (e.g. 0.0001 for Sentinel-2 L2A).
        offset: added after scaling (e.g. -0.1 for Sentinel-2 processing baseline >= 04.00).
    """

    nodata: float | None = None
    scale: float = 1.0
    offset: float = 0.0

    def physical(self, stored: NDArray[np.generic]) -> NDArray[np.float32]:
        """Stored values as float32 physical values (scale and offset applied)."""
        out = np.asarray(stored, dtype=np.float32)
        if self.scale != 1.0 or self.offset != 0.0:
            out = out * np.float32(self.scale) + np.float32(self.offset)
        return out

    def valid(self, stored: NDArray[np.generic]) -> NDArray[np.bool_] | None:
        """True where the stored value is not the nodata value (``None`` when all are)."""
        if self.nodata is None:
            return None
        if np.isnan(self.nodata):
            return ~np.isnan(stored)
        return stored != self.nodata


def code_dtype(hist: Histogram) -> type[np.unsignedinteger]:
    """The smallest unsigned dtype holding every code of ``hist`` (bins plus the nodata code)."""
    return np.uint8 if hist.bins < 255 else np.uint16 if hist.bins < 65535 else np.uint32


def ndwi_codes(
    a: NDArray[np.generic],
    b: NDArray[np.generic],
    hist: Histogram,
    a_values: BandValues = BandValues(),
    b_values: BandValues = BandValues(),
) -> NDArray[np.unsignedinteger]:
    """Codes of the normalized difference ``(a - b) / (a + b)`` of one block; fills ``hist``.

    Args:
        a: first band block (green for the NDWI), stored values.
        b: second band block (nir), same shape.
        hist: histogram that the valid NDWI values are counted into.
        a_values: nodata, scale and offset of ``a``.
        b_values: nodata, scale and offset of ``b``.

    Returns:
        An array of the block's shape and :func:`code_dtype`: the bin index of each pixel's
        NDWI, or ``hist.bins`` where a band is nodata/NaN or ``a + b == 0``.
    """
    if a.shape != b.shape:
        raise ValueError(f"band shapes differ: {a.shape} != {b.shape}")
    if a_values.offset == 0 == b_values.offset and a_values.scale == b_values.scale != 0:
        # A common scale cancels out of (a - b) / (a + b): skip two passes per band.
        a_values = BandValues(a_values.nodata)
        b_values = BandValues(b_values.nodata)
    flat_a = np.ascontiguousarray(a).reshape(-1)
    flat_b = np.ascontiguousarray(b).reshape(-1)
    codes = np.empty(flat_a.size, dtype=code_dtype(hist))
    counts = np.zeros(hist.bins + 1, dtype=np.int64)
    nd_buf = np.empty(min(_CHUNK, flat_a.size), dtype=np.float32)
    for start in range(0, flat_a.size, _CHUNK):
        ca = flat_a[start : start + _CHUNK]
        cb = flat_b[start : start + _CHUNK]
        valid = _and(a_values.valid(ca), b_values.valid(cb))
        nd = normalized_difference(a_values.physical(ca), b_values.physical(cb), valid, out=nd_buf[: ca.size])
        bad = np.isnan(nd)
        np.copyto(nd, np.float32(0), where=bad)  # any finite value: its bin is overwritten below
        idx = hist.bin_index_inplace(nd)
        np.copyto(idx, hist.bins, where=bad)
        counts += np.bincount(idx, minlength=hist.bins + 1)
        codes[start : start + idx.size] = idx
    # The last slot counted the invalid pixels; the histogram only holds valid NDWI.
    hist.add_counts(counts[: hist.bins])
    return codes.reshape(a.shape)


def classify_codes(codes: NDArray[np.unsignedinteger], split: int, bins: int) -> NDArray[np.uint8]:
    """The water mask of a block of codes: 1 above ``split``, 0 up to it, 255 for code ``bins``.

    Args:
        codes: codes from :func:`ndwi_codes`.
        split: Otsu's split (last bin of the low class).
        bins: the histogram's bin count (the nodata code).
    """
    # Comparisons beat a lookup-table gather several times over on large blocks.
    mask = np.greater(codes, split).view(np.uint8)
    mask[codes == bins] = MASK_NODATA
    return mask


def _and(x: NDArray[np.bool_] | None, y: NDArray[np.bool_] | None) -> NDArray[np.bool_] | None:
    if x is None:
        return y
    if y is None:
        return x
    return x & y
