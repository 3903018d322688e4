"""The guide's Quick Example and Detailed Example, end to end, with both published SDKs.

SDK 2.2.5 runs the example files its wheel ships (``fusion_platform/quick_example.py`` and
``detailed_example.py``), changed only by adding ``api_url`` to their ``login`` call. SDK 1.1.4
runs the 1.1 guide's versions (``v1_*_example.py`` beside this file). Each runs in a fresh folder
against a real server process; the test then checks what the example downloaded: real GeoTIFFs
with the values the services promise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fusion_platform
import numpy as np
import pandas
import pytest
import rasterio
from rasterio.warp import transform_bounds

from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent
PACKAGE = Path(fusion_platform.__file__).parent
LOGIN = "fusion_platform.login(email='me@org.com', password='MyPassword123!')"
GLASGOW_BBOX = (-4.4827, 55.7904, -4.0830, 55.9534)
CLASSES = {0, 1, 2, 3}


def _packaged(name: str, server: ServerProcess, folder: Path) -> Path:
    """The SDK 2.2.5 example file with ``api_url`` added to its login (the only change)."""
    text = (PACKAGE / name).read_text(encoding="utf-8")
    assert text.count(LOGIN) == 1, f"{name} no longer logs in as the guide does"
    patched = folder / name
    patched.write_text(text.replace(LOGIN, f"{LOGIN[:-1]}, api_url='{server.url}/api')"), encoding="utf-8")
    return patched


def _run(python: Path | str, script: Path, folder: Path, *args: str) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(python), str(script), *args], cwd=folder, capture_output=True, text=True, timeout=900, env=env
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def _assert_tidied(server: ServerProcess, data_name: str) -> None:
    """The example deleted its process and its region (checked with the SDK 2.2.5, in process)."""
    user = fusion_platform.login(email=DEMO_EMAIL, password=DEMO_PASSWORD, api_url=f"{server.url}/api")
    organisation = next(user.organisations)
    process, _ = organisation.find_processes(name="Example")
    data, _ = organisation.find_data(name=data_name)
    assert process is None and data is None


def _check_glasgow_outputs(folder: Path, dirs: list[Path]) -> None:
    tifs = sorted(p for d in dirs for p in d.rglob("*.tif"))
    names = {p.name for p in tifs}
    assert {"dem.tif", "elevation.tif", "slope.tif"} <= names, names
    for path in tifs:
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 32630
            data = ds.read(1, masked=True)
            assert data.count() > 1000, path
            west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
            assert west <= GLASGOW_BBOX[0] + 0.01 and east >= GLASGOW_BBOX[2] - 0.01
            assert south <= GLASGOW_BBOX[1] + 0.01 and north >= GLASGOW_BBOX[3] - 0.01
            if path.name == "slope.tif":
                assert float(data.min()) >= 0 and float(data.max()) <= 90
            else:  # elevations in metres: the Clyde valley to the hills around it
                assert -20 < float(data.min()) < float(data.max()) < 1500


@pytest.mark.timeout(900)
def test_quick_example_sdk_2_2_5(guide_server: ServerProcess, tmp_path: Path) -> None:
    out = _run(sys.executable, _packaged("quick_example.py", guide_server, tmp_path), tmp_path)
    assert "Price: " in out
    components = sorted(p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("component_"))
    assert [p.name for p in components] == ["component_0", "component_1"], out
    _check_glasgow_outputs(tmp_path, components)
    _assert_tidied(guide_server, "Glasgow")


@pytest.mark.timeout(900)
def test_quick_example_sdk_1_1_4(
    guide_server: ServerProcess, sdk_v1_guide_python: Path, tmp_path: Path
) -> None:
    out = _run(sdk_v1_guide_python, HERE / "v1_quick_example.py", tmp_path, f"{guide_server.url}/api")
    assert "Downloading DEM Ingestion" in out and "Downloading Elevation" in out, out
    _check_glasgow_outputs(tmp_path, [tmp_path / "DEM Ingestion", tmp_path / "Elevation"])
    _assert_tidied(guide_server, "Glasgow")


def _check_classification(rasters: list[Path], mosaic: Path) -> dict[int, int]:
    """Every slice is a 4-class raster; returns the class counts over all slices."""
    assert len(rasters) >= 2, "the Lake District must be sliced into a group"
    counts: dict[int, int] = dict.fromkeys(sorted(CLASSES), 0)
    for path in rasters:
        with rasterio.open(path) as ds:
            assert ds.count == 1 and ds.dtypes[0] == "uint8" and ds.crs.to_epsg() == 32630
            data = ds.read(1, masked=True)
            values, n = np.unique(data.compressed(), return_counts=True)
            assert set(values.tolist()) <= CLASSES
            for v, k in zip(values.tolist(), n.tolist(), strict=True):
                counts[v] += k
    assert all(k > 0 for k in counts.values()), counts
    with rasterio.open(mosaic) as ds:
        assert set(np.unique(ds.read(1, masked=True).compressed()).tolist()) <= CLASSES
    return counts


@pytest.mark.timeout(1200)
def test_detailed_example_sdk_2_2_5(guide_server: ServerProcess, tmp_path: Path) -> None:
    out = _run(sys.executable, _packaged("detailed_example.py", guide_server, tmp_path), tmp_path)
    rasters = sorted(tmp_path.glob("*_cloud_classification.tif"))
    counts = _check_classification(rasters, tmp_path / "mosaic.tif")
    statistics = pandas.read_csv(tmp_path / "statistics.csv")
    assert len(statistics) == len(rasters), out
    assert set(statistics["status"]) == {"successful"}
    # The aggregator's histograms are the slices' histograms: classes in bins 0, 3, 6 and 9.
    hist = [int(statistics[f"hist_{b}"].sum()) for b in range(10)]
    assert [hist[b] for b in (1, 2, 4, 5, 7, 8)] == [0] * 6
    assert [hist[0], hist[3], hist[6], hist[9]] == [counts[0], counts[1], counts[2], counts[3]]
    _assert_tidied(guide_server, "Lake District National Park")


@pytest.mark.timeout(1200)
def test_detailed_example_sdk_1_1_4(
    guide_server: ServerProcess, sdk_v1_guide_python: Path, tmp_path: Path
) -> None:
    _run(sdk_v1_guide_python, HERE / "v1_detailed_example.py", tmp_path, f"{guide_server.url}/api")
    rasters = sorted(tmp_path.glob("* cloud_classification.tif"))
    _check_classification(rasters, tmp_path / "mosaic.tif")
    _assert_tidied(guide_server, "Lake District National Park")
