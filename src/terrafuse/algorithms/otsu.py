"""Otsu's threshold on a streaming histogram.

Otsu (1979) picks the split of a histogram into a low and a high class that maximises the
between-class variance ``w0 * w1 * (mu0 - mu1)**2``. The histogram here has a fixed range and
fixed bins, so it can be filled block by block (bounded memory) and merged across workers,
and the threshold found from it is independent of the block order.

Conventions, all exact:

* Bins are closed on the right: bin ``i`` holds the values ``v`` with
  ``edges[i] < v <= edges[i + 1]``; the lowest bin also holds ``v == lo``. Values outside the
  range are counted in the first or last bin. When ``bins / (hi - lo)`` is a power of two and
  ``lo`` a multiple of the bin width (the default: [-1, 1] with 2048 bins), edges are binary
  fractions and every value lands exactly where the edges say; for other ranges bins are
  computed in float64 and a value within rounding of an edge may land next door.
* The threshold returned is the **upper edge** of the last bin of the low class, so the high
  class is exactly ``v > threshold`` (and equally ``bin_index(v) > split``).
* The between-class variance is compared with integer arithmetic (bin indices stand in for
  bin centres: an affine change that does not move the maximum), so there are no rounding
  ties. **Tie rule:** when several splits reach the maximum, the lowest one wins (as
  ``numpy.argmax`` / scikit-image do). In particular, when the two classes are separated by
  empty bins the threshold sits at the top of the last occupied bin of the low class.
* Degenerate input: when all counted values share one bin there is no split with two
  non-empty classes; the threshold is that bin's upper edge, so nothing is above it (as
  scikit-image returns the value of a constant image). No values at all raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

DEFAULT_BINS = 2048
DEFAULT_RANGE = (-1.0, 1.0)


class Histogram:
    """A fixed-range histogram that can be filled incrementally and thresholded with Otsu.

    Args:
        bins: number of bins (>= 2). Powers of two keep float32 binning exact on [-1, 1].
        value_range: ``(lo, hi)`` with ``lo < hi``; NDWI and other normalized differences
            live in [-1, 1].

    Raises:
        ValueError: on a bad ``bins`` or ``value_range``.
    """

    def __init__(self, bins: int = DEFAULT_BINS, value_range: tuple[float, float] = DEFAULT_RANGE) -> None:
        lo, hi = (float(v) for v in value_range)
        if int(bins) != bins or bins < 2:
            raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"value_range must be two finite numbers lo < hi, got {value_range!r}")
        self.bins = int(bins)
        self.lo = lo
        self.hi = hi
        self._scale = self.bins / (hi - lo)
        mantissa, _ = np.frexp(self._scale)
        offset = -lo * self._scale
        # A power-of-two scale and an integer offset make binning exact in float32 too.
        self._dyadic = bool(mantissa == 0.5 and offset == int(offset) and abs(offset) < 2**23)
        self._offset = offset if self._dyadic else 0.0
        self.counts: NDArray[np.int64] = np.zeros(self.bins, dtype=np.int64)

    @property
    def edges(self) -> NDArray[np.float64]:
        """The ``bins + 1`` bin edges, from ``lo`` to ``hi``."""
        return self.lo + np.arange(self.bins + 1, dtype=np.float64) / self._scale

    @property
    def total(self) -> int:
        """How many values were counted."""
        return int(self.counts.sum())

    def bin_index(self, values: ArrayLike, dtype: DTypeLike = np.intp) -> NDArray[Any]:
        """The bin of each value (values must be finite; out-of-range values are clipped).

        Exposed so callers can store the bin index of each pixel (a compact, exactly
        thresholdable code) while filling the histogram.

        Args:
            values: finite numbers.
            dtype: integer dtype of the result (e.g. ``uint16`` for up to 65536 bins).
        """
        v = np.asarray(values)
        if v.dtype not in (np.float32, np.float64):
            v = v.astype(np.float64)
        return self.bin_index_inplace(v.copy()).astype(dtype, copy=False)

    def bin_index_inplace(self, values: NDArray[np.floating]) -> NDArray[np.intp]:
        """Like :meth:`bin_index` for a float32/float64 array, overwriting ``values``.

        The hot loop of the water service calls this on cache-sized chunks; skipping the
        temporaries matters there.
        """
        v = values
        if self._dyadic:
            # ceil(v * 2**m) is exact in v's own precision, and adding the integer offset to an
            # integer-valued float is exact too: no float64 copy needed for float32 blocks.
            np.multiply(v, v.dtype.type(self._scale), out=v)
        else:
            v = (v.astype(np.float64) - self.lo) * self._scale
        np.ceil(v, out=v)
        # Right-closed bins: ceil(x) - 1 maps (i, i + 1] to i.
        v += self._offset - 1
        np.clip(v, 0, self.bins - 1, out=v)
        return v.astype(np.intp)

    def add(self, values: ArrayLike) -> None:
        """Count the finite values of ``values`` (NaN and +/-inf are ignored)."""
        v = np.asarray(values).ravel()
        if v.dtype.kind == "f":
            v = v[np.isfinite(v)]
        if v.size:
            self.add_indices(self.bin_index(v))

    def add_indices(self, indices: ArrayLike) -> None:
        """Count values already turned into bin indices by :meth:`bin_index`."""
        idx = np.asarray(indices).ravel()
        if idx.size:
            self.counts += np.bincount(idx, minlength=self.bins)[: self.bins].astype(np.int64)

    def add_counts(self, counts: ArrayLike) -> None:
        """Add per-bin counts (``bins`` non-negative integers) computed elsewhere."""
        c = np.asarray(counts)
        if c.shape != (self.bins,):
            raise ValueError(f"expected {self.bins} counts, got shape {c.shape}")
        if c.size and (c.dtype.kind not in "iu" or c.min() < 0):
            raise ValueError("counts must be non-negative integers")
        self.counts += c.astype(np.int64)

    def merge(self, other: Histogram) -> None:
        """Add the counts of another histogram with the same bins and range."""
        if (other.bins, other.lo, other.hi) != (self.bins, self.lo, self.hi):
            raise ValueError("cannot merge histograms with different bins or ranges")
        self.counts += other.counts

    def otsu_split(self) -> int:
        """The index of the last bin of the low class (see the module notes for the rules).

        Raises:
            ValueError: if the histogram is empty.
        """
        return otsu_split(self.counts)

    def otsu_threshold(self) -> float:
        """Otsu's threshold: values ``> threshold`` form the high class.

        Raises:
            ValueError: if the histogram is empty.
        """
        return float(self.edges[self.otsu_split() + 1])

    def count_above(self, split: int) -> int:
        """How many counted values lie in the bins after ``split`` (the high class)."""
        return int(self.counts[split + 1 :].sum())


def otsu_split(counts: ArrayLike) -> int:
    """Otsu's split of a histogram given as counts per bin.

    Returns the index ``k`` of the last bin of the low class (bins ``0..k``) that maximises the
    between-class variance, lowest ``k`` on ties. When only one bin is occupied, that bin.

    Raises:
        ValueError: if all counts are zero (or any is negative).
    """
    c = [int(x) for x in np.asarray(counts).ravel()]
    if any(x < 0 for x in c):
        raise ValueError("histogram counts must not be negative")
    n = sum(c)
    if n == 0:
        raise ValueError("cannot compute an Otsu threshold: no finite values were counted")
    s = sum(i * x for i, x in enumerate(c))
    occupied = [i for i, x in enumerate(c) if x]
    if len(occupied) == 1:
        return occupied[0]
    # With n0, s0 = count and index-sum of bins 0..k, and n1 = n - n0, s1 = s - s0, the
    # between-class variance is proportional to (n1*s0 - n0*s1)**2 / (n0*n1). Python ints keep
    # this exact; a ratio p/q beats the best b_p/b_q iff p*b_q > b_p*q. Only splits at occupied
    # bins can be maxima (an empty bin k gives the same classes as the occupied bin before it,
    # which is lower and so wins the tie anyway).
    best_k, best_p, best_q = -1, -1, 1
    n0 = s0 = 0
    for k in occupied[:-1]:
        n0 += c[k]
        s0 += k * c[k]
        # Bins between the previous occupied bin and k are empty, so the running sums only need
        # the occupied ones.
        n1, s1 = n - n0, s - s0
        p = (n1 * s0 - n0 * s1) ** 2
        q = n0 * n1
        if p * best_q > best_p * q:
            best_k, best_p, best_q = k, p, q
    return best_k


def otsu_threshold(
    values: ArrayLike, bins: int = DEFAULT_BINS, value_range: tuple[float, float] = DEFAULT_RANGE
) -> float:
    """Otsu's threshold of an array in one call (finite values only; see :class:`Histogram`).

    Raises:
        ValueError: if ``values`` holds no finite value.
    """
    hist = Histogram(bins, value_range)
    hist.add(values)
    return hist.otsu_threshold()
