"""Otsu's threshold on the streaming histogram, against known truth and brute force."""

from __future__ import annotations

import numpy as np
import pytest

from terrafuse.algorithms.otsu import Histogram, otsu_split, otsu_threshold


def brute_force_best_variance(values: np.ndarray) -> float:
    """Maximum between-class variance over every split "v <= c" at a distinct value c."""
    v = np.sort(values.astype(np.float64))
    best = 0.0
    for c in np.unique(v)[:-1]:
        low, high = v[v <= c], v[v > c]
        w0, w1 = low.size / v.size, high.size / v.size
        best = max(best, w0 * w1 * (low.mean() - high.mean()) ** 2)
    return best


def between_class_variance(values: np.ndarray, threshold: float) -> float:
    v = values.astype(np.float64)
    low, high = v[v <= threshold], v[v > threshold]
    if not low.size or not high.size:
        return 0.0
    return low.size / v.size * high.size / v.size * (low.mean() - high.mean()) ** 2


def test_bimodal_with_a_gap_threshold_separates_the_modes():
    # Two well separated clusters: every split inside the gap is optimal; the tie rule puts the
    # threshold at the top of the last occupied bin of the low class.
    rng = np.random.default_rng(42)
    low = rng.uniform(-0.6, -0.3, 30_000)
    high = rng.uniform(0.2, 0.5, 10_000)
    values = np.concatenate([low, high]).astype(np.float32)
    hist = Histogram()
    hist.add(values)
    t = hist.otsu_threshold()
    assert low.max() <= t < high.min()
    assert t - low.max() <= 2 / 2048  # within one bin of the low cluster's top
    assert hist.count_above(hist.otsu_split()) == high.size


def test_known_optimum_of_a_symmetric_mixture():
    # Two overlapping Gaussians mirrored about 0 (a bin edge): the between-class variance is
    # symmetric about 0 and peaks there, so Otsu's threshold is 0 (up to one bin).
    rng = np.random.default_rng(7)
    x = rng.normal(-0.3, 0.15, 200_000)
    t = otsu_threshold(np.concatenate([x, -x]))
    assert abs(t) <= 2 / 2048


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_brute_force_on_small_arrays(seed):
    # Values on bin centres: the histogram loses nothing, so Otsu on it must reach the exact
    # maximum between-class variance that brute force finds.
    rng = np.random.default_rng(seed)
    bins = 64
    centres = -1 + (np.arange(bins) + 0.5) * 2 / bins
    values = rng.choice(centres, size=int(rng.integers(5, 60)))
    if np.unique(values).size < 2:
        values = np.append(values, centres[0] if values[0] != centres[0] else centres[1])
    t = otsu_threshold(values, bins=bins)
    assert between_class_variance(values, t) == pytest.approx(brute_force_best_variance(values), rel=1e-12)


def test_threshold_is_exact_for_the_mask_rule():
    # "v > t" and "bin_index(v) > split" agree for every value, including values on edges.
    hist = Histogram()
    edges = hist.edges.astype(np.float32)
    rng = np.random.default_rng(3)
    values = np.concatenate([edges, np.nextafter(edges, np.float32(2)), rng.uniform(-1, 1, 10_000)]).astype(
        np.float32
    )
    hist.add(values)
    split = hist.otsu_split()
    t = hist.otsu_threshold()
    assert np.array_equal(values > t, hist.bin_index(values) > split)


def test_streaming_equals_one_shot_and_merge():
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.normal(-0.5, 0.1, 5000), rng.normal(0.4, 0.2, 3000)]).astype(np.float32)
    streamed, merged_a, merged_b = Histogram(), Histogram(), Histogram()
    for chunk in np.array_split(values, 7):
        streamed.add(chunk)
    merged_a.add(values[:4000])
    merged_b.add(values[4000:])
    merged_a.merge(merged_b)
    assert np.array_equal(streamed.counts, merged_a.counts)
    assert streamed.otsu_threshold() == merged_a.otsu_threshold() == otsu_threshold(values)


def test_non_finite_values_are_ignored_and_out_of_range_clipped():
    hist = Histogram()
    hist.add(np.array([np.nan, np.inf, -np.inf, -5.0, 5.0, 0.25], dtype=np.float32))
    assert hist.total == 3
    assert hist.counts[0] == 1 and hist.counts[-1] == 1


def test_right_closed_bins():
    hist = Histogram(bins=4)  # edges -1, -0.5, 0, 0.5, 1
    assert list(hist.bin_index([-1.0, -0.5, -0.49, 0.0, 1e-9, 1.0])) == [0, 0, 1, 1, 2, 3]


def test_tie_rule_picks_the_lowest_split():
    # Symmetric three-level histogram: splitting after bin 0 or after bin 1 ties exactly.
    assert otsu_split([5, 0, 10, 0, 5]) == 0
    # Two occupied bins with empty bins between: the split is the low bin itself.
    assert otsu_split([0, 3, 0, 0, 0, 7]) == 1


def test_constant_input_puts_everything_in_the_low_class():
    values = np.full(100, 0.3, dtype=np.float32)
    t = otsu_threshold(values)
    assert t >= 0.3
    assert not np.any(values > t)


def test_empty_input_is_a_clear_error():
    with pytest.raises(ValueError, match="no finite values"):
        otsu_threshold(np.array([], dtype=np.float32))
    with pytest.raises(ValueError, match="no finite values"):
        otsu_threshold(np.array([np.nan, np.nan]))
    with pytest.raises(ValueError, match="no finite values"):
        Histogram().otsu_threshold()


def test_bad_parameters():
    with pytest.raises(ValueError):
        Histogram(bins=1)
    with pytest.raises(ValueError):
        Histogram(value_range=(1.0, -1.0))
    with pytest.raises(ValueError):
        Histogram(bins=8).merge(Histogram(bins=16))
    with pytest.raises(ValueError):
        Histogram(bins=4).add_counts([1, 2, 3])


def test_non_dyadic_range_still_thresholds():
    values = np.concatenate([np.full(100, 10.0), np.full(50, 200.0)])
    t = otsu_threshold(values, bins=1000, value_range=(0.0, 255.0))
    assert 10.0 <= t < 200.0
