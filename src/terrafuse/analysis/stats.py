"""Summary statistics and the 10-bin histogram shared by raster bands and vector attributes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class Summary:
    """Statistics of a set of finite values; the histogram spans minimum..maximum in 10 equal bins."""

    minimum: float
    maximum: float
    mean: float
    sd: float
    histogram: list[int]


def summarise(values: np.ndarray, scale: float = 1.0) -> Summary | None:
    """Statistics of the finite values of a 1-D array, or None when there are none.

    ``scale`` multiplies the histogram counts, so a histogram of a decimated sample estimates the
    counts of the full-resolution data (sums over slices stay comparable).
    """
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    minimum = float(data.min())
    maximum = float(data.max())
    if minimum == maximum:
        # numpy would widen the range by ±0.5 and put everything in the middle bin; a constant
        # belongs in the first bin of a zero-width range.
        counts = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
        counts[0] = data.size
    else:
        counts, _ = np.histogram(data, bins=HISTOGRAM_BINS, range=(minimum, maximum))
    if scale != 1.0:
        counts = np.rint(counts * scale).astype(np.int64)
    return Summary(
        minimum=minimum,
        maximum=maximum,
        mean=float(data.mean()),
        sd=float(data.std()),
        histogram=[int(count) for count in counts],
    )
