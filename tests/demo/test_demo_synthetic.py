"""The synthetic seed scenes: determinism, grids, and NDWI + Otsu against the water truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import geometry_mask
from shapely.geometry import box

from terrafuse.demo import synthetic, world
from terrafuse.demo.catalog import SEED_AOI, SEED_ITEM_IDS

ASSETS = ("blue", "green", "red", "nir", "swir16", "scl", "water-truth")


def otsu_threshold(values: np.ndarray, bins: int = 1024) -> float:
    """Otsu (1979): the split of a histogram on [-1, 1] maximising the between-class variance."""
    counts, edges = np.histogram(values, bins=bins, range=(-1.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts).astype(np.float64)
    w1 = w0[-1] - w0
    m0 = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m0[-1] * w0 / w0[-1] - m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0.0
    return float(edges[int(np.argmax(between)) + 1])


def _read(folder: Path, key: str) -> np.ndarray:
    with rasterio.open(folder / f"{key}.tif") as ds:
        return ds.read(1)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    item_id = SEED_ITEM_IDS[1]
    first = synthetic.generate_scene(tmp_path / "a", item_id, resolution=60.0)
    world.build_landscape.cache_clear()  # regenerate everything, not just the date's fields
    second = synthetic.generate_scene(tmp_path / "b", item_id, resolution=60.0)
    for key in ASSETS:
        assert np.array_equal(_read(first.parent, key), _read(second.parent, key)), key
    assert json.loads(first.read_text()) == json.loads(second.read_text())
    assert sorted(p.name for p in first.parent.iterdir()) == sorted(
        [f"{k}.tif" for k in ASSETS] + [first.name]
    )


def test_resolutions_share_the_extent() -> None:
    grids = [synthetic.scene_grid(res)[0] for res in (10.0, 20.0, 60.0)]
    assert len({g.bounds for g in grids}) == 1
    assert [g.width for g in grids] == [grids[2].width * 6, grids[2].width * 3, grids[2].width]
    assert all(v % 60 == 0 for v in grids[0].bounds)
    with pytest.raises(ValueError, match="divide"):
        synthetic.scene_grid(25.0)


def _aoi_mask(folder: Path) -> np.ndarray:
    lonlat = shapely.segmentize(box(*map(float, SEED_AOI.split(","))), 0.01)
    to_utm = Transformer.from_crs(4326, 32610, always_xy=True)
    aoi = shapely.transform(lonlat, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
    with rasterio.open(folder / "green.tif") as ds:
        return ~geometry_mask([aoi], out_shape=ds.shape, transform=ds.transform)


@pytest.mark.parametrize("item_id", SEED_ITEM_IDS)
def test_ndwi_otsu_reproduces_the_truth(seed_dirs: dict[str, Path], item_id: str) -> None:
    folder = seed_dirs[item_id]
    green = _read(folder, "green").astype(np.float32)
    nir = _read(folder, "nir").astype(np.float32)
    truth = _read(folder, "water-truth")
    valid = _aoi_mask(folder) & (green > 0) & (nir > 0) & (truth != 255)
    ndwi = (green[valid] - nir[valid]) / (green[valid] + nir[valid])
    threshold = otsu_threshold(ndwi)
    predicted = ndwi > threshold
    actual = truth[valid] == 1
    iou = float((predicted & actual).sum() / (predicted | actual).sum())
    print(
        f"\n{item_id}: water {actual.mean():.1%} of the AOI, Otsu threshold {threshold:+.3f}, IoU {iou:.4f}"
    )
    assert 0.03 < actual.mean() < 0.3
    assert iou >= 0.95


def test_scenes_differ_between_dates(seed_dirs: dict[str, Path]) -> None:
    first, second = (_read(seed_dirs[i], "water-truth") for i in SEED_ITEM_IDS)
    assert first.shape == second.shape
    changed = np.mean((first == 1) != (second == 1))
    assert 0.001 < changed < 0.2  # other clouds and water levels, same lakes
    assert (_read(seed_dirs[SEED_ITEM_IDS[0]], "water-truth") == 255).any()  # the swath edge


def test_public_constants_match_the_generator() -> None:
    assert set(SEED_ITEM_IDS) == set(world.SCENES)
    assert tuple(map(float, SEED_AOI.split(","))) == synthetic.SEED_AOI_BOUNDS
