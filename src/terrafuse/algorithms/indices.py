"""Spectral indices: arrays in, arrays out.

Pure numpy; nothing here knows about files, CRSs or terrafuse.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def normalized_difference(
    a: ArrayLike, b: ArrayLike, valid_mask: ArrayLike | None = None, out: NDArray[np.float32] | None = None
) -> NDArray[np.float32]:
    """The normalized difference ``(a - b) / (a + b)`` as float32.

    With ``a`` = green and ``b`` = near infrared this is the NDWI of McFeeters (1996); with
    ``a`` = nir and ``b`` = red it is the NDVI.

    Args:
        a: first band (any real dtype; integers are converted before subtracting, so unsigned
            inputs do not wrap around).
        b: second band, same shape as ``a``.
        valid_mask: boolean array, True where both bands hold data. ``None`` means all valid.
        out: optional float32 array of the same shape to write the result into.

    Returns:
        A float32 array of the same shape, NaN where ``valid_mask`` is False, where either
        input is not finite, or where ``a + b == 0``.

    Raises:
        ValueError: if the shapes differ.
    """
    a32 = np.asarray(a, dtype=np.float32)
    b32 = np.asarray(b, dtype=np.float32)
    if a32.shape != b32.shape:
        raise ValueError(f"band shapes differ: {a32.shape} != {b32.shape}")
    total = a32 + b32
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.subtract(a32, b32, out=out)
        np.divide(out, total, out=out)
    # x / 0 gives +/-inf, 0 / 0 and non-finite inputs give NaN: one isfinite pass finds them all.
    bad = ~np.isfinite(out)
    if valid_mask is not None:
        mask = np.asarray(valid_mask, dtype=bool)
        if mask.shape != a32.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the bands' {a32.shape}")
        bad |= ~mask
    np.copyto(out, np.float32(np.nan), where=bad)
    return out
