"""Normalized difference and the water kernels (NDWI codes, mask lookup)."""

from __future__ import annotations

import numpy as np
import pytest

from terrafuse.algorithms.indices import normalized_difference
from terrafuse.algorithms.otsu import Histogram
from terrafuse.algorithms.water import (
    MASK_NODATA,
    BandValues,
    classify_codes,
    ndwi_codes,
)


def test_normalized_difference_values_and_invalid_pixels():
    a = np.array([[300, 100, 0, 50]], dtype=np.uint16)
    b = np.array([[100, 300, 0, 50]], dtype=np.uint16)
    valid = np.array([[True, True, True, False]])
    out = normalized_difference(a, b, valid)
    assert out.dtype == np.float32
    assert out[0, 0] == pytest.approx(0.5)
    assert out[0, 1] == pytest.approx(-0.5)  # unsigned inputs must not wrap around
    assert np.isnan(out[0, 2])  # a + b == 0
    assert np.isnan(out[0, 3])  # masked


def test_normalized_difference_non_finite_inputs_and_shapes():
    out = normalized_difference(np.array([np.nan, 1.0, np.inf]), np.array([1.0, np.nan, 1.0]))
    assert np.isnan(out).all()
    with pytest.raises(ValueError):
        normalized_difference(np.zeros(3), np.zeros(4))


def test_ndwi_codes_match_histogram_and_mask():
    rng = np.random.default_rng(0)
    green = rng.integers(1, 5000, (300, 500), dtype=np.uint16)
    nir = rng.integers(1, 5000, (300, 500), dtype=np.uint16)
    green[:, :10] = 0  # nodata column
    nir[5, 20] = 0
    hist = Histogram()
    codes = ndwi_codes(green, nir, hist, BandValues(nodata=0), BandValues(nodata=0))
    ndwi = normalized_difference(green, nir, (green != 0) & (nir != 0))
    reference = Histogram()
    reference.add(ndwi)
    assert np.array_equal(hist.counts, reference.counts)
    split = hist.otsu_split()
    mask = classify_codes(codes, split, hist.bins)
    t = hist.otsu_threshold()
    expected = np.where(np.isnan(ndwi), MASK_NODATA, ndwi > t).astype(np.uint8)
    assert np.array_equal(mask, expected)
    assert (mask[:, :10] == MASK_NODATA).all() and mask[5, 20] == MASK_NODATA


def test_band_values_scale_offset_and_nan_nodata():
    values = BandValues(nodata=float("nan"), scale=0.0001, offset=-0.1)
    stored = np.array([1000.0, 3000.0, np.nan], dtype=np.float32)
    assert values.physical(stored)[:2] == pytest.approx([0.0, 0.2], abs=1e-6)
    assert list(values.valid(stored)) == [True, True, False]
    assert BandValues().valid(stored) is None
