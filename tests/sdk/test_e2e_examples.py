"""The guide's Quick and Detailed Examples, run through terrafuse's SDK against a real server.

The very texts the published SDKs run in ``tests/guide`` (the 1.1 guide's, and the 2.x guide's
as the 2.2.5 wheel ships them) are run as scripts with one change: ``import fusion_platform``
becomes ``import terrafuse as fusion_platform`` (and ``api_url`` is added to the 2.x files'
``login``, as ``tests/guide`` does). The test then checks what they downloaded and that they
tidied up after themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fusion_platform as published
import numpy as np
import pandas
import pytest
import rasterio
from rasterio.warp import transform_bounds

import terrafuse
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).parents[1] / "guide"
PUBLISHED = Path(published.__file__).parent
IMPORT = "import fusion_platform\n"
OURS = "import terrafuse as fusion_platform\n"
LOGIN = "fusion_platform.login(email='me@org.com', password='MyPassword123!')"
CLASSES = {0, 1, 2, 3}


def _ours(text: str) -> str:
    assert text.count(IMPORT) == 1, "the example no longer imports fusion_platform as expected"
    return text.replace(IMPORT, OURS)


def _v1_script(name: str, folder: Path) -> Path:
    script = folder / name
    script.write_text(_ours((GUIDE / name).read_text(encoding="utf-8")), encoding="utf-8")
    return script


def _v2_script(name: str, server: ServerProcess, folder: Path) -> Path:
    text = _ours((PUBLISHED / name).read_text(encoding="utf-8"))
    assert text.count(LOGIN) == 1
    script = folder / name
    script.write_text(text.replace(LOGIN, f"{LOGIN[:-1]}, api_url='{server.url}/api')"), encoding="utf-8")
    return script


def _run(script: Path, *args: str) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def _tidied(server: ServerProcess, data_name: str) -> None:
    user = terrafuse.login(email="me@org.com", password="MyPassword123!", api_url=f"{server.url}/api")
    organisation = next(user.organisations)
    assert organisation.find_processes(name="Example")[0] is None
    assert organisation.find_data(name=data_name)[0] is None


def _check_glasgow(tifs: list[Path]) -> None:
    assert {p.name for p in tifs} == {"dem.tif", "elevation.tif", "slope.tif"}, tifs
    glasgow = (-4.482, 55.7906, -4.0835, 55.953)  # the bounds of our example region
    for path in tifs:
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 32630
            values = ds.read(1, masked=True)
            assert values.count() > 1000
            west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
            assert west <= glasgow[0] + 0.01 and east >= glasgow[2] - 0.01
            assert south <= glasgow[1] + 0.01 and north >= glasgow[3] - 0.01
            if path.name == "slope.tif":
                assert float(values.min()) >= 0 and float(values.max()) <= 90
            else:
                assert -20 < float(values.min()) < float(values.max()) < 1500


def _check_classification(rasters: list[Path], mosaic: Path) -> dict[int, int]:
    assert len(rasters) >= 2, "the Lake District must be processed as a group of slices"
    counts = dict.fromkeys(sorted(CLASSES), 0)
    for path in rasters:
        with rasterio.open(path) as ds:
            assert ds.count == 1 and ds.dtypes[0] == "uint8" and ds.crs.to_epsg() == 32630
            values, n = np.unique(ds.read(1, masked=True).compressed(), return_counts=True)
            assert set(values.tolist()) <= CLASSES
            for value, count in zip(values.tolist(), n.tolist(), strict=True):
                counts[value] += count
    assert all(count > 0 for count in counts.values()), counts
    with rasterio.open(mosaic) as ds:
        assert set(np.unique(ds.read(1, masked=True).compressed()).tolist()) <= CLASSES
    return counts


@pytest.mark.timeout(900)
def test_quick_example_of_the_1_1_guide(terrafuse_server: ServerProcess, tmp_path: Path) -> None:
    out = _run(_v1_script("v1_quick_example.py", tmp_path), f"{terrafuse_server.url}/api")
    assert "Price: " in out and "Downloading DEM Ingestion" in out and "Downloading Elevation" in out
    # The example never waits for its downloads: they finish before Python exits, and whole.
    tifs = sorted(tmp_path.rglob("*.tif"))
    _check_glasgow(tifs)
    assert not list(tmp_path.rglob("*.part"))
    assert {p.parent.parent.name for p in tifs} == {"DEM Ingestion", "Elevation"}
    _tidied(terrafuse_server, "Glasgow")


@pytest.mark.timeout(900)
def test_quick_example_of_the_2_x_guide(terrafuse_server: ServerProcess, tmp_path: Path) -> None:
    out = _run(_v2_script("quick_example.py", terrafuse_server, tmp_path))
    assert "Price: " in out
    components = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert components == ["component_0", "component_1"], out
    _check_glasgow(sorted(tmp_path.rglob("*.tif")))
    _tidied(terrafuse_server, "Glasgow")


@pytest.mark.timeout(1200)
def test_detailed_example_of_the_1_1_guide(terrafuse_server: ServerProcess, tmp_path: Path) -> None:
    out = _run(_v1_script("v1_detailed_example.py", tmp_path), f"{terrafuse_server.url}/api")
    rasters = sorted(tmp_path.glob("* cloud_classification.tif"))
    _check_classification(rasters, tmp_path / "mosaic.tif")
    assert out.count("Downloading ") == len(rasters)
    _tidied(terrafuse_server, "Lake District National Park")


@pytest.mark.timeout(1200)
def test_detailed_example_of_the_2_x_guide(terrafuse_server: ServerProcess, tmp_path: Path) -> None:
    out = _run(_v2_script("detailed_example.py", terrafuse_server, tmp_path))
    rasters = sorted(tmp_path.glob("*_cloud_classification.tif"))
    counts = _check_classification(rasters, tmp_path / "mosaic.tif")
    statistics = pandas.read_csv(tmp_path / "statistics.csv")
    assert len(statistics) == len(rasters), out
    assert set(statistics["status"]) == {"successful"}
    # The aggregator's histograms are the slices': 4 classes in bins 0, 3, 6 and 9 of 10.
    histogram = [int(statistics[f"hist_{b}"].sum()) for b in range(10)]
    assert [histogram[b] for b in (1, 2, 4, 5, 7, 8)] == [0] * 6
    assert [histogram[0], histogram[3], histogram[6], histogram[9]] == [counts[c] for c in sorted(CLASSES)]
    _tidied(terrafuse_server, "Lake District National Park")
