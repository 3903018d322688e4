"""The synthetic Sentinel-2 scenes over Glasgow and the Lake District (catalog built at 20 m)."""

from __future__ import annotations

import json
from pathlib import Path

import fusion_platform
import numpy as np
import pystac
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import geometry_mask
from rasterio.windows import from_bounds
from shapely.geometry import box, shape

from terrafuse.algorithms import clouds
from terrafuse.demo import uk, uk_fields, uk_scenes, uk_world
from terrafuse.demo.catalog import DemoCatalog

S2_IDS = (*uk.GLASGOW_ITEM_IDS, *uk.LAKE_DISTRICT_ITEM_IDS)
CLASSES = (uk.TRUTH_GROUND, uk.TRUTH_SHADOW, uk.TRUTH_THICK_CLOUD, uk.TRUTH_THIN_CLOUD)


def _read(folder: Path, key: str, window: rasterio.windows.Window | None = None) -> np.ndarray:
    with rasterio.open(folder / f"{key}.tif") as ds:
        return ds.read(1, window=window)


def _region_window(folder: Path, region: str) -> tuple[rasterio.windows.Window, np.ndarray]:
    """The window of the scene's grid around the region's bbox, and the bbox's pixels in it.

    A lon/lat box is curved in UTM: the window's corners are outside the region.
    """
    aoi = uk_scenes.region_grid(uk.REGIONS[region])[1]
    with rasterio.open(folder / "green.tif") as ds:
        window = from_bounds(*aoi.bounds, transform=ds.transform).round_offsets().round_lengths()
        transform = ds.window_transform(window)
    inside = geometry_mask([aoi], out_shape=(window.height, window.width), transform=transform, invert=True)
    return window, inside


def test_constants_agree_with_the_algorithms_and_the_sdk_regions() -> None:
    assert (uk.TRUTH_GROUND, uk.TRUTH_SHADOW, uk.TRUTH_THICK_CLOUD, uk.TRUTH_THIN_CLOUD, uk.TRUTH_NODATA) == (
        clouds.GROUND, clouds.SHADOW, clouds.THICK_CLOUD, clouds.THIN_CLOUD, clouds.NODATA,
    )  # fmt: skip
    to_wgs84 = Transformer.from_crs(27700, 4326, always_xy=True)  # the SDK ships the park in BNG
    for path, bbox in (
        (fusion_platform.EXAMPLE_GLASGOW_FILE, uk.GLASGOW_BBOX),
        (fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE, uk.LAKE_DISTRICT_BBOX),
    ):
        data = json.loads(Path(path).read_text())
        geometry = shape(data["features"][0]["geometry"])
        if "27700" in json.dumps(data.get("crs", {})):
            geometry = shapely.transform(geometry, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))
        np.testing.assert_allclose(geometry.bounds, bbox, atol=0.01)
    assert uk.S2_ITEM_IDS[uk.LAKE_DISTRICT]["2021-03-28"] == uk.LAKE_DISTRICT_DETAILED_EXAMPLE_ITEM_ID
    assert uk.dem_item_id(55, -5) == "Copernicus_DSM_COG_30_N55_00_W005_00_DEM"
    assert len(set(uk.UK_ITEM_IDS)) == len(uk.UK_ITEM_IDS) == 10


@pytest.mark.parametrize("region", [uk.GLASGOW, uk.LAKE_DISTRICT])
def test_three_dates_around_the_detailed_example(demo_catalog: DemoCatalog, region: str) -> None:
    dates = []
    for item_id in uk.S2_ITEM_IDS[region].values():
        item = pystac.Item.from_file(str(demo_catalog.item_paths[item_id]))
        dates.append(item.datetime)
        assert item.collection_id == uk.S2_COLLECTION
        assert item.properties["terrafuse:region"] == region
    dates.sort()
    assert len(dates) == 3
    assert dates[0].date().isoformat() < "2021-03-27"
    assert dates[1].date().isoformat() == "2021-03-28"
    assert dates[2].year >= 2022  # the "latest" scene


@pytest.mark.parametrize("item_id", S2_IDS)
def test_item_metadata_and_grids(demo_catalog: DemoCatalog, item_id: str) -> None:
    path = demo_catalog.item_paths[item_id]
    raw = json.loads(path.read_text())
    item = pystac.Item.from_file(str(path))
    region = uk.REGIONS[uk.SCENES_BY_ID[item_id].region]
    assert path.relative_to(demo_catalog.root).parts[0] == uk.S2_COLLECTION
    assert raw["properties"]["proj:epsg"] == 32630 and item.properties["proj:code"] == "EPSG:32630"
    assert set(item.assets) == {*uk.S2_BANDS, uk.CLOUD_TRUTH_ASSET}
    # The scene covers its region with a margin of a few km.
    assert shape(item.geometry).covers(box(*region.bbox).buffer(0.02))
    for key in uk.S2_BANDS:
        asset = item.assets[key]
        assert asset.extra_fields["eo:bands"][0]["name"] == key
        assert asset.extra_fields["raster:bands"][0] == {
            "data_type": "uint16", "spatial_resolution": 20.0, "nodata": 0, "scale": 0.0001, "offset": 0.0,
        }  # fmt: skip
        assert "reflectance" in asset.roles
    truth = item.assets[uk.CLOUD_TRUTH_ASSET]
    assert truth.roles == ["truth"] and truth.extra_fields["raster:bands"][0]["nodata"] == 255
    folder = path.parent
    with rasterio.open(folder / "nir.tif") as nir, rasterio.open(folder / f"{uk.CLOUD_TRUTH_ASSET}.tif") as t:
        assert nir.crs.to_epsg() == t.crs.to_epsg() == 32630 and nir.res == (20.0, 20.0)
        assert (nir.transform, nir.shape) == (t.transform, t.shape)
        assert list(item.properties["proj:shape"]) == list(nir.shape)
        assert nir.dtypes[0] == "uint16" and t.dtypes[0] == "uint8"
    assert 10.0 < item.properties["eo:cloud_cover"] < 40.0


@pytest.mark.parametrize("item_id", S2_IDS)
def test_every_part_of_the_region_has_all_four_classes(demo_catalog: DemoCatalog, item_id: str) -> None:
    folder = demo_catalog.item_paths[item_id].parent
    region = uk.SCENES_BY_ID[item_id].region
    window, inside = _region_window(folder, region)
    truth = _read(folder, uk.CLOUD_TRUTH_ASSET, window)
    assert (truth[inside] != uk.TRUTH_NODATA).all()  # the swath edge stays outside the region
    shares = [float((truth[inside] == c).mean()) for c in CLASSES]
    assert shares[0] >= 0.4 and min(shares[1:]) >= 0.03, shares
    # Slices: 3 x 3 parts of the Lake District (~260 km2 each), 2 x 2 of Glasgow.
    n = 3 if region == uk.LAKE_DISTRICT else 2
    for rows in np.array_split(np.arange(truth.shape[0]), n):
        for cols in np.array_split(np.arange(truth.shape[1]), n):
            part = truth[np.ix_(rows, cols)][inside[np.ix_(rows, cols)]]
            assert all((part == c).mean() >= 0.005 for c in CLASSES), [(part == c).mean() for c in CLASSES]


@pytest.mark.parametrize("region", [uk.GLASGOW, uk.LAKE_DISTRICT])
def test_each_date_has_its_own_clouds(demo_catalog: DemoCatalog, region: str) -> None:
    ids = list(uk.S2_ITEM_IDS[region].values())
    cloudy = [
        _read(demo_catalog.item_paths[i].parent, uk.CLOUD_TRUTH_ASSET) == uk.TRUTH_THICK_CLOUD for i in ids
    ]
    for i in range(3):
        for j in range(i + 1, 3):
            overlap = (cloudy[i] & cloudy[j]).sum() / min(cloudy[i].sum(), cloudy[j].sum())
            assert overlap < 0.35, (ids[i], ids[j], overlap)


@pytest.mark.parametrize("item_id", [uk.GLASGOW_ITEM_IDS[1], uk.LAKE_DISTRICT_ITEM_IDS[1]])
def test_clear_ground_has_vegetation_and_water(demo_catalog: DemoCatalog, item_id: str) -> None:
    folder = demo_catalog.item_paths[item_id].parent
    region = uk.SCENES_BY_ID[item_id].region
    window, inside = _region_window(folder, region)
    ground = inside & (_read(folder, uk.CLOUD_TRUTH_ASSET, window) == uk.TRUTH_GROUND)
    green, red, nir = (_read(folder, k, window)[ground].astype(np.float32) for k in ("green", "red", "nir"))
    ndvi = (nir - red) / (nir + red)
    ndwi = (green - nir) / (green + nir)
    assert (ndvi > 0.5).mean() > 0.3  # pasture, woods
    assert (ndvi < 0.4).mean() > 0.05  # moorland, rock, towns, water
    water = (ndwi > 0.3).mean()
    assert (0.002 if region == uk.GLASGOW else 0.01) < water < 0.2, water  # lochs, lakes, sea


def test_generation_is_deterministic(tmp_path: Path) -> None:
    item_id = uk.GLASGOW_ITEM_IDS[0]
    first = uk_scenes.generate_uk_scene(tmp_path / "a", item_id, resolution=60.0)
    uk_fields.region_land.cache_clear()
    uk_world.build_terrain.cache_clear()  # regenerate everything, not just the date's fields
    second = uk_scenes.generate_uk_scene(tmp_path / "b", item_id, resolution=60.0)
    for key in (*uk.S2_BANDS, uk.CLOUD_TRUTH_ASSET):
        assert np.array_equal(_read(first.parent, key), _read(second.parent, key)), key
    assert json.loads(first.read_text()) == json.loads(second.read_text())
    assert sorted(p.name for p in first.parent.iterdir()) == sorted(
        [f"{k}.tif" for k in (*uk.S2_BANDS, uk.CLOUD_TRUTH_ASSET)] + [first.name]
    )
    with pytest.raises(KeyError):
        uk_scenes.generate_uk_scene(tmp_path / "c", "S2B_30UVF_19990101_0_L2A", resolution=60.0)
