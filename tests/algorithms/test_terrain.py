"""Slope by Horn's method: analytic planes, flat ground, edges, nodata, blocks, a direct reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from terrafuse.algorithms.terrain import slope_degrees


def _plane(rows: int, cols: int, xres: float, yres: float, gx: float, gy: float) -> np.ndarray:
    """z = gx * x + gy * y (x east, y south), sampled at pixel centres."""
    x = (np.arange(cols) + 0.5) * xres
    y = (np.arange(rows) + 0.5) * yres
    return 100.0 + gx * x[None, :] + gy * y[:, None]


def _horn_reference(z: np.ndarray, xres: float, yres: float) -> np.ndarray:
    """Horn's formula written out pixel by pixel (interior pixels only)."""
    out = np.full(z.shape, np.nan)
    for r in range(1, z.shape[0] - 1):
        for c in range(1, z.shape[1] - 1):
            a, b, cc = z[r - 1, c - 1], z[r - 1, c], z[r - 1, c + 1]
            d, f = z[r, c - 1], z[r, c + 1]
            g, h, i = z[r + 1, c - 1], z[r + 1, c], z[r + 1, c + 1]
            dzdx = ((cc + 2 * f + i) - (a + 2 * d + g)) / (8 * xres)
            dzdy = ((g + 2 * h + i) - (a + 2 * b + cc)) / (8 * yres)
            out[r, c] = math.degrees(math.atan(math.hypot(dzdx, dzdy)))
    return out


def test_plane_rising_one_metre_per_metre_is_45_degrees_everywhere() -> None:
    for gx, gy in ((1.0, 0.0), (0.0, -1.0), (math.sqrt(0.5), math.sqrt(0.5))):
        slope = slope_degrees(_plane(7, 9, 30.0, 30.0, gx, gy), 30.0, 30.0)
        assert slope.dtype == np.float32 and slope.shape == (7, 9)
        np.testing.assert_allclose(slope, 45.0, atol=1e-4)  # edges and corners included


def test_plane_with_unequal_pixel_sizes() -> None:
    # Gradients 0.75 eastwards and 0.5 southwards: tan(slope) = hypot(0.75, 0.5).
    slope = slope_degrees(_plane(6, 5, 20.0, 90.0, 0.75, 0.5), 20.0, 90.0)
    np.testing.assert_allclose(slope, math.degrees(math.atan(math.hypot(0.75, 0.5))), atol=1e-4)


def test_flat_surface_is_zero() -> None:
    np.testing.assert_array_equal(slope_degrees(np.full((4, 6), 250.0), 10.0, 10.0), 0.0)
    np.testing.assert_array_equal(slope_degrees(np.full((1, 1), 3.0), 10.0, 10.0), 0.0)


def test_matches_horn_written_out_on_rough_terrain() -> None:
    z = np.random.default_rng(4).normal(500.0, 40.0, (12, 15))
    expected = _horn_reference(z, 25.0, 30.0)
    got = slope_degrees(z, 25.0, 30.0)
    np.testing.assert_allclose(got[1:-1, 1:-1], expected[1:-1, 1:-1], rtol=1e-5)
    assert np.isfinite(got).all()


def test_nodata_and_nan_holes_leave_the_plane_exact_elsewhere() -> None:
    z = _plane(10, 10, 10.0, 10.0, 0.5, 0.25)
    z[4, 4] = -32767.0
    z[0, 7] = -32767.0
    z[6, 2] = np.nan
    z[8:, 8:] = -32767.0  # a block of nodata in a corner
    slope = slope_degrees(z, 10.0, 10.0, nodata=-32767.0)
    holes = np.zeros_like(z, dtype=bool)
    holes[4, 4] = holes[0, 7] = holes[6, 2] = True
    holes[8:, 8:] = True
    assert np.isnan(slope[holes]).all()
    np.testing.assert_allclose(slope[~holes], math.degrees(math.atan(math.hypot(0.5, 0.25))), atol=1e-4)
    # Without declaring the nodata value it is an elevation: a deep pit appears around it.
    assert slope_degrees(z, 10.0, 10.0)[4, 5] > 80.0


def test_isolated_pixel_counts_as_flat() -> None:
    z = np.full((3, 3), np.nan)
    z[1, 1] = 12.0
    slope = slope_degrees(z, 5.0, 5.0)
    assert slope[1, 1] == 0.0 and np.isnan(slope).sum() == 8


def test_per_row_pixel_width_of_a_geographic_grid() -> None:
    widths = np.linspace(60.0, 40.0, 8)  # pixel width (m) of each row: narrower towards the pole
    z = np.tile(30.0 * np.arange(6.0), (8, 1))  # +30 m per column on every row
    slope = slope_degrees(z, widths, 90.0)
    expected = np.degrees(np.arctan(30.0 / widths))
    np.testing.assert_allclose(slope, np.repeat(expected[:, None], 6, axis=1), atol=1e-4)
    assert expected[-1] - expected[0] > 10.0  # one constant width would be wrong on most rows


def test_blocks_with_a_one_pixel_halo_match_the_whole() -> None:
    z = np.random.default_rng(9).normal(300.0, 25.0, (40, 33)).cumsum(axis=0)
    whole = slope_degrees(z, 30.0, 30.0)
    for r0, r1 in ((0, 13), (13, 27), (27, 40)):
        lo, hi = max(r0 - 1, 0), min(r1 + 1, 40)
        block = slope_degrees(z[lo:hi], 30.0, 30.0)
        np.testing.assert_array_equal(block[r0 - lo : r0 - lo + (r1 - r0)], whole[r0:r1])


@pytest.mark.parametrize(
    ("dem", "xres", "yres", "message"),
    [
        (np.zeros((2, 2, 2)), 1.0, 1.0, "2-D"),
        (np.zeros(5), 1.0, 1.0, "2-D"),
        (np.zeros((3, 3)), 0.0, 1.0, "positive"),
        (np.zeros((3, 3)), 1.0, -2.0, "positive"),
        (np.zeros((3, 3)), float("nan"), 1.0, "positive"),
        (np.zeros((3, 3)), np.ones(4), 1.0, "rows"),
    ],
)
def test_bad_input_is_refused(dem: np.ndarray, xres: object, yres: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slope_degrees(dem, xres, yres)  # type: ignore[arg-type]
