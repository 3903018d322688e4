"""Cloud classification: spectral tests on typical spectra, block independence, and the truth of a
generated Lake District scene (60 m, so the test stays fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from terrafuse.algorithms.clouds import (
    GROUND,
    NODATA,
    SHADOW,
    THICK_CLOUD,
    THIN_CLOUD,
    classify_clouds,
)
from terrafuse.demo import uk, uk_fields, uk_scenes, uk_world

# Surface reflectance (blue, green, red, nir, swir16) of typical covers, from the literature's
# usual ranges (not the generator's end members).
GRASS = (0.04, 0.08, 0.05, 0.35, 0.2)
CONIFER = (0.025, 0.04, 0.03, 0.22, 0.1)
BARE_SOIL = (0.09, 0.12, 0.16, 0.24, 0.32)
LAKE = (0.03, 0.04, 0.022, 0.01, 0.005)
CUMULUS = (0.62, 0.6, 0.6, 0.68, 0.5)
SNOW = (0.85, 0.83, 0.8, 0.7, 0.08)


def _classify(*spectra: tuple[float, ...]) -> list[int]:
    bands = np.array(spectra, dtype=np.float32).T  # (5, n)
    return classify_clouds(*bands).tolist()


def _mix(surface: tuple[float, ...], layer: tuple[float, ...], opacity: float) -> tuple[float, ...]:
    return tuple((1 - opacity) * s + opacity * c for s, c in zip(surface, layer, strict=True))


def _shade(surface: tuple[float, ...], direct_share: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(s * (1 - d) for s, d in zip(surface, direct_share, strict=True))


def test_clear_surfaces_are_ground() -> None:
    assert _classify(GRASS, CONIFER, BARE_SOIL, LAKE) == [GROUND] * 4


def test_opaque_and_semi_transparent_clouds() -> None:
    thin_over = [_mix(s, CUMULUS, 0.25) for s in (GRASS, CONIFER, BARE_SOIL, LAKE)]
    assert _classify(CUMULUS, _mix(GRASS, CUMULUS, 0.8)) == [THICK_CLOUD, THICK_CLOUD]
    assert _classify(*thin_over) == [THIN_CLOUD] * 4


def test_snow_is_not_thick_cloud() -> None:
    assert _classify(SNOW)[0] != THICK_CLOUD


def test_shadows_on_land_and_water_but_not_dark_covers() -> None:
    # A cloud shadow removes most of the direct light, less so in the blue (skylight stays).
    shadow = (0.65, 0.72, 0.75, 0.8, 0.82)
    shaded = [_shade(s, shadow) for s in (GRASS, CONIFER, BARE_SOIL, LAKE)]
    assert _classify(*shaded) == [SHADOW] * 4
    # A conifer stand on a slope turned from the sun (half the light) is dark but not shadowed.
    assert _classify(tuple(0.55 * v for v in CONIFER)) == [GROUND]


def test_nodata_mask_and_non_finite_values() -> None:
    bands = np.array([GRASS, CUMULUS, GRASS, LAKE], dtype=np.float32).T
    bands[3, 2] = np.nan
    mask = np.array([True, False, False, False])
    assert classify_clouds(*bands, nodata_mask=mask).tolist() == [NODATA, THICK_CLOUD, NODATA, GROUND]


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        classify_clouds(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="nodata_mask"):
        classify_clouds(*np.zeros((5, 3)), nodata_mask=np.zeros(2, dtype=bool))


def test_blocks_classify_exactly_like_the_whole() -> None:
    rng = np.random.default_rng(3)
    bands = rng.uniform(0.0, 0.7, (5, 300, 410)).astype(np.float32)
    whole = classify_clouds(*bands)
    assert whole.shape == (300, 410) and whole.dtype == np.uint8
    assert set(np.unique(whole)) == {GROUND, SHADOW, THICK_CLOUD, THIN_CLOUD}
    parts = [classify_clouds(*bands[:, r : r + 77, c : c + 101]) for r in (0, 77) for c in (0, 101)]
    np.testing.assert_array_equal(np.block([[parts[0], parts[1]], [parts[2], parts[3]]]), whole[:154, :202])
    # Stored integers (reflectance x 10000) give the same classes once scaled.
    stored = np.rint(bands * 10000).astype(np.uint16)
    scaled = classify_clouds(*(stored.astype(np.float32) / 10000))
    assert (scaled == whole).mean() > 0.999


@pytest.fixture(scope="module")
def lake_district_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("uk") / "scene"
    item = uk_scenes.generate_uk_scene(folder, uk.LAKE_DISTRICT_DETAILED_EXAMPLE_ITEM_ID, resolution=60.0)
    uk_fields.region_land.cache_clear()
    uk_world.build_terrain.cache_clear()
    return item.parent


def test_reproduces_the_truth_of_a_generated_scene(lake_district_scene: Path) -> None:
    bands = []
    for key in uk.S2_BANDS:
        with rasterio.open(lake_district_scene / f"{key}.tif") as ds:
            bands.append(ds.read(1))
    with rasterio.open(lake_district_scene / f"{uk.CLOUD_TRUTH_ASSET}.tif") as ds:
        truth = ds.read(1)
    nodata = bands[0] == 0
    # Reflectance x 10000, as the items' raster:bands scale (0.0001) says.
    predicted = classify_clouds(*(b.astype(np.float32) * 0.0001 for b in bands), nodata_mask=nodata)
    assert np.array_equal(predicted == NODATA, truth == uk.TRUTH_NODATA)
    assert nodata.any()  # the swath edge: nodata is exercised too
    valid = truth != uk.TRUTH_NODATA
    accuracy = float((predicted[valid] == truth[valid]).mean())
    assert accuracy >= 0.9, accuracy
    for code in (GROUND, SHADOW, THICK_CLOUD, THIN_CLOUD):
        actual = valid & (truth == code)
        recall = float((predicted[actual] == code).mean())
        assert recall >= 0.7, (code, recall)
