"""Cloud classification over a region: classes, chain names of both catalogue entries, demo truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window
from shapely.geometry import box, mapping, shape

from terrafuse.algorithms.clouds import NODATA, classify_clouds
from terrafuse.core.refs import object_ref
from terrafuse.demo import uk
from terrafuse.demo.uk_scenes import generate_uk_scene
from terrafuse.ingest.mosaic import Layer, TargetGrid, project_region, read_mosaic, region_mask
from terrafuse.ingest.search import SceneQuery, clear_cache, search_scenes
from terrafuse.services.platform.cloud_classification import CLOUD_CLASSIFICATION, CLOUD_CLASSIFICATION_V1
from tests.services.platform.catalog_maker import ORIGIN
from tests.services.platform.context import TestRunContext
from tests.services.platform.scenes import RES, SCALE, S2Scene, band_values, s2_catalog, scene_region

SCENE = S2Scene("S2_20210328", datetime(2021, 3, 28, 11, 20, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _cloudy_bands() -> dict[str, np.ndarray]:
    """The test scene with a thick cloud, a thin cloud sheet and a shadow painted on (stored values)."""
    values = {k: v.astype(np.float64) for k, v in band_values(SCENE).items()}
    thick = {"blue": 5000, "green": 5100, "red": 5200, "nir": 5600, "swir16": 3000}
    thin = {"blue": 1100, "green": 1000, "red": 900, "nir": 3200, "swir16": 1900}
    shadow = {"blue": 150, "green": 200, "red": 180, "nir": 600, "swir16": 400}
    patches = [
        ((slice(30, 80), slice(150, 210)), thick),
        ((slice(150, 200), slice(150, 210)), thin),
        ((slice(100, 140), slice(170, 230)), shadow),
    ]
    for (rows, cols), spectrum in patches:
        for band, value in spectrum.items():
            values[band][rows, cols] = value
    return {k: v.astype(np.uint16) for k, v in values.items()}


def _catalog(root: Path) -> Path:
    catalog = s2_catalog(root, [SCENE])
    # Overwrite the scene's COGs with the cloudy bands (same grid, same metadata).
    from tests.services.platform.catalog_maker import utm_transform, write_cog

    for band, data in _cloudy_bands().items():
        write_cog(
            root / "sentinel-2-l2a" / SCENE.id / f"{band}.tif", data, "EPSG:32630", utm_transform(RES), 0
        )
    return catalog


@pytest.mark.parametrize(
    ("service", "algorithm"),
    [
        (CLOUD_CLASSIFICATION, "Sentinel-2 Cloud Classification"),
        (CLOUD_CLASSIFICATION_V1, "Demo: Cloud Classification"),
    ],
)
def test_classes_are_those_of_the_algorithm_on_the_region(tmp_path: Path, service, algorithm: str) -> None:
    region = scene_region(inset_px=10)
    ctx = TestRunContext(tmp_path / "run", str(_catalog(tmp_path / "stac")))
    result = service.run(ctx, {"region": region, "resolution": 20, "latest_date": True})
    assert ctx.component_names() == ["Sentinel-2 Ingestion", algorithm]
    ingestion, classification = ctx.components
    assert ingestion.inputs == ["region-data"]
    assert classification.inputs == [ingestion.outputs[0].data_id]
    (out,) = classification.outputs
    assert result == {"cloud_classification": object_ref(out.key)}
    assert (out.file_name, out.file_type) == ("cloud_classification.tif", "GeoTIFF")
    assert classification.histogram_ranges == [{1: (0.0, 3.0)}]
    with rasterio.open(ctx.output_path(ingestion.outputs[0])) as ds:
        assert ds.count == 5 and ds.descriptions == ("blue", "green", "red", "nir", "swir16")
    with rasterio.open(ctx.output_path(out)) as ds:
        assert ds.count == 1 and ds.dtypes[0] == "uint8" and ds.nodata == NODATA
        assert ds.crs.to_epsg() == 32630 and ds.res == (RES, RES)
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        classes = ds.read(1)
        grid = TargetGrid("EPSG:32630", ds.transform, ds.width, ds.height)
    inside = region_mask(
        grid, project_region(shape(region), "EPSG:32630"), Window(0, 0, grid.width, grid.height)
    )
    col0 = round((grid.transform.c - ORIGIN[0]) / RES)
    row0 = round((ORIGIN[1] - grid.transform.f) / RES)
    bands = [
        _cloudy_bands()[b][row0 : row0 + grid.height, col0 : col0 + grid.width] * np.float32(SCALE)
        for b in ("blue", "green", "red", "nir", "swir16")
    ]
    expected = classify_clouds(*bands)
    assert (classes[~inside] == NODATA).all()
    np.testing.assert_array_equal(classes[inside], expected[inside])
    assert set(np.unique(classes[inside])) == {0, 1, 2, 3}  # every class is present
    # The selector's histogram: classes land in bins 0, 3, 6, 9.
    histogram = out.selectors[0]["histogram"]
    counts = np.bincount(classes[inside], minlength=4)
    assert [histogram[0], histogram[3], histogram[6], histogram[9]] == counts[:4].tolist()
    assert sum(histogram) == inside.sum()
    assert any("thick cloud" in line for line in classification.logs)


def test_start_after_end_is_refused() -> None:
    from terrafuse.errors import InvalidInput

    with pytest.raises(InvalidInput, match="after end_date"):
        CLOUD_CLASSIFICATION_V1.check_inputs(
            {
                "region": scene_region(),
                "latest_date": False,
                "start_date": "2021-03-29T00:00:00.000000Z",
                "end_date": "2021-03-27T00:00:00Z",
            }
        )


@pytest.fixture(scope="module")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's Glasgow scene of 2021-03-28 at 60 m in a one-item catalog."""
    root = tmp_path_factory.mktemp("demo-stac")
    item_id = uk.S2_ITEM_IDS[uk.GLASGOW]["2021-03-28"]
    item_path = generate_uk_scene(root / uk.S2_COLLECTION / item_id, item_id, resolution=60.0)
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": uk.S2_COLLECTION, "description": "demo",
        "license": "proprietary",
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
        "links": [{"rel": "item", "href": f"./{item_path.relative_to(root / uk.S2_COLLECTION).as_posix()}"}],
    }  # fmt: skip
    (root / uk.S2_COLLECTION / "collection.json").write_text(json.dumps(collection))
    catalog = {
        "type": "Catalog", "stac_version": "1.0.0", "id": "demo", "description": "demo",
        "links": [{"rel": "child", "href": f"./{uk.S2_COLLECTION}/collection.json"}],
    }  # fmt: skip
    (root / "catalog.json").write_text(json.dumps(catalog))
    return root / "catalog.json"


def test_demo_scene_classification_matches_its_cloud_truth(tmp_path: Path, demo_catalog: Path) -> None:
    """The Detailed Example's options on the demo scene: accuracy against the truth >= 0.9."""
    west, south, east, north = uk.GLASGOW_BBOX
    region = box(west, south, east, north)
    ctx = TestRunContext(tmp_path / "run", str(demo_catalog))
    options = {"latest_date": False, "start_date": "2021-03-27T00:00:00.000000Z", "end_date": None}
    CLOUD_CLASSIFICATION_V1.run(ctx, {"region": mapping(region), "resolution": 60, **options})
    assert any("2021-03-28" in line for line in ctx.components[0].logs)
    with rasterio.open(ctx.output_path(ctx.components[1].outputs[0])) as ds:
        classes = ds.read(1)
        grid = TargetGrid("EPSG:32630", ds.transform, ds.width, ds.height)
    (scene,) = search_scenes(str(demo_catalog), SceneQuery(uk.S2_COLLECTION, region))
    truth_layer = Layer("truth", (scene.band(uk.CLOUD_TRUTH_ASSET),), categorical=True)
    truth = np.concatenate([b.arrays[0] for b in read_mosaic([truth_layer], grid, block_size=1 << 14)])
    both = (classes != NODATA) & np.isfinite(truth) & (truth != uk.TRUTH_NODATA)
    assert both.sum() > 0.8 * grid.width * grid.height
    accuracy = float(np.mean(classes[both] == truth[both]))
    assert accuracy >= 0.9, accuracy
    # The scene has clouds and shadows, and they are found.
    for cls in (1, 2, 3):
        assert np.count_nonzero(classes[both] == cls) > 0.01 * both.sum()
