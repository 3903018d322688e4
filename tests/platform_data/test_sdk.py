"""The published Fusion SDK (2.2.5), unchanged, against a real ``terrafuse serve --demo`` process:
upload every supported format, wait for the analysis, find, rename, download, copy, delete."""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import fusion_platform
import numpy as np
import pytest
import shapely
from fusion_platform.models.organisation import Organisation

from tests.analysis.makers import shapefile_zip, write_raster
from tests.support.server import ServerProcess

GLASGOW_KM2 = 229
LAKE_DISTRICT_KM2 = 2362
GLASGOW_BOUNDS = (-4.4827, 55.7904, -4.0830, 55.9534)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("sdk") / "data", demo=True).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def organisation(server: ServerProcess) -> Organisation:
    user = fusion_platform.login(
        email="me@org.com",
        password="MyPassword123!",
        api_url=f"{server.url}/api",
        session_options={"api_update_wait_period": 0.2},
    )
    return next(org for org in user.organisations if org.name == "Acme")


def _glasgow() -> shapely.Polygon:
    document = json.loads(Path(fusion_platform.EXAMPLE_GLASGOW_FILE).read_text())
    return shapely.from_geojson(json.dumps(document["features"][0]["geometry"]))


def _kml(polygon: shapely.Polygon) -> str:
    ring = " ".join(f"{x},{y}" for x, y in polygon.exterior.coords)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>Glasgow</name><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        "</Document></kml>\n"
    )


def _formats(folder: Path) -> list[tuple[str, Path, dict[str, Any]]]:
    """(file type, file, expected attributes) for every supported format, made in ``folder``."""
    glasgow = _glasgow()
    shp = shapefile_zip(folder / "shp", [glasgow], crs="EPSG:4326")
    kml = folder / "glasgow.kml"
    kml.write_text(_kml(glasgow), encoding="utf-8")
    kmz = folder / "glasgow.kmz"
    with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", _kml(glasgow))
    classes = np.repeat(np.arange(4, dtype=np.uint8), 16).reshape(8, 8)  # a 4-class raster
    tif = write_raster(folder / "classes.tif", classes)
    csv = folder / "stations.csv"
    csv.write_text("name,lon,lat,height\nA,-4.25,55.86,12.5\nB,-3.19,55.95,47\n", encoding="utf-8")
    polygon = {"polygons": 1, "crs": "EPSG:4326", "km2": GLASGOW_KM2}
    return [
        (fusion_platform.FILE_TYPE_GEOJSON, Path(fusion_platform.EXAMPLE_GLASGOW_FILE), polygon),
        (
            fusion_platform.FILE_TYPE_GEOJSON,
            Path(fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE),
            {"polygons": 1, "crs": "EPSG:27700", "km2": LAKE_DISTRICT_KM2},
        ),
        (fusion_platform.FILE_TYPE_ESRI_SHAPEFILE, shp, polygon),
        (fusion_platform.FILE_TYPE_KML, kml, polygon),
        (fusion_platform.FILE_TYPE_KMZ, kmz, polygon),
        (fusion_platform.FILE_TYPE_GEOTIFF, tif, {"crs": "EPSG:32630", "resolution": 10}),
        (fusion_platform.FILE_TYPE_CSV, csv, {}),
    ]


def test_every_format_through_the_sdk(organisation: Organisation, tmp_path: Path) -> None:
    for file_type, path, expected in _formats(tmp_path):
        name = f"SDK {file_type} {path.stem}"
        data = organisation.create_data(name=name, file_type=file_type, files=[str(path)], wait=True)

        (file,) = list(data.files)
        assert (file.file_name, file.file_type) == (path.name, file_type)
        assert file.size == path.stat().st_size
        assert (file.publishable, file.error) == (True, False), getattr(file, "description", None)
        assert isinstance(file.selectors, tuple)
        if "crs" in expected:
            assert file.crs == expected["crs"]
            assert len(file.bounds) == 4 and all(isinstance(b, Decimal) for b in file.bounds)
        if "km2" in expected:
            assert file.polygons == expected["polygons"]
            assert float(file.area) / 1e6 == pytest.approx(expected["km2"], rel=0.01)
        if expected.get("km2") == GLASGOW_KM2:
            assert [float(b) for b in file.bounds] == pytest.approx(GLASGOW_BOUNDS, abs=1e-3)
        if file_type == fusion_platform.FILE_TYPE_GEOTIFF:
            assert file.resolution == expected["resolution"]
            assert [float(h) for h in file.selectors[0]["histogram"]] == [16, 0, 0, 16, 0, 0, 16, 0, 0, 16]
        if file_type == fusion_platform.FILE_TYPE_CSV:
            assert file.bounds is None

        target = tmp_path / "downloads" / f"{uuid.uuid4()}-{path.name}"
        file.download(path=str(target), wait=True)
        assert target.read_bytes() == path.read_bytes()
        data.delete()

    found, _ = organisation.find_data(name="SDK ")
    assert found is None


def test_find_rename_copy_and_delete(organisation: Organisation, tmp_path: Path) -> None:
    chosen = str(uuid.uuid4())
    data = organisation.create_data(
        name="Glasgow region",
        file_type=fusion_platform.FILE_TYPE_GEOJSON,
        files=[fusion_platform.EXAMPLE_GLASGOW_FILE],
        wait=True,
        id=chosen,
    )
    assert str(data.id) == chosen
    assert data.check_analysis_complete(extended_analysis=True)

    by_id, _ = organisation.find_data(id=chosen)
    by_name, _ = organisation.find_data(name="Glasgow reg")
    by_search, matches = organisation.find_data(search="GLASGOW REGION")
    assert by_id is not None and by_name is not None and by_search is not None
    assert str(by_id.id) == str(by_name.id) == str(by_search.id) == chosen
    assert [str(d.id) for d in matches] == [chosen]
    assert [float(b) for b in by_id.bounds] == pytest.approx(GLASGOW_BOUNDS, abs=1e-3)
    assert chosen in {str(d.id) for d in organisation.data}

    data.update(name="Greater Glasgow")
    assert data.name == "Greater Glasgow"
    assert organisation.find_data(name="Glasgow reg")[0] is None
    assert str(organisation.find_data(name="Greater")[0].id) == chosen

    copy = data.copy("Glasgow copy")
    assert str(copy.id) != chosen and copy.name == "Glasgow copy"
    (copied,) = list(copy.files)
    target = tmp_path / "copy.geojson"
    copied.download(path=str(target), wait=True)
    assert target.read_bytes() == Path(fusion_platform.EXAMPLE_GLASGOW_FILE).read_bytes()

    data.delete()
    copy.delete()
    assert organisation.find_data(id=chosen)[0] is None


def test_a_file_that_cannot_be_used(organisation: Organisation, tmp_path: Path) -> None:
    lie = tmp_path / "region.geojson"
    lie.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    data = organisation.create_data(
        name="Not a region", file_type=fusion_platform.FILE_TYPE_GEOJSON, files=[str(lie)], wait=True
    )
    (file,) = list(data.files)
    assert (file.publishable, file.error, file.size) == (False, True, lie.stat().st_size)
    assert file.description == "declared GeoJSON but the content is PDF"
    data.delete()
