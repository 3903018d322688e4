"""Reading a process's region from GeoJSON (incl. a legacy "crs"), Shapefile zips, KML and KMZ."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from terrafuse.analysis.region import read_region
from terrafuse.errors import InvalidInput
from tests.analysis.makers import feature_collection, lake_district_like, shapefile_zip, write_json


def to_wgs84(geometry: shapely.Geometry, epsg: int) -> shapely.Geometry:
    transformer = Transformer.from_crs(epsg, 4326, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def same_shape(first: shapely.Geometry, second: shapely.Geometry, tolerance: float = 1e-9) -> bool:
    return shapely.symmetric_difference(first, second).area <= tolerance * max(first.area, second.area)


def test_geojson_in_british_national_grid_is_reprojected(tmp_path: Path) -> None:
    british = lake_district_like()
    hole = shapely.Point(330_000, 510_000).buffer(2_000)
    british = shapely.Polygon(british.exterior.coords, [hole.exterior.coords])
    path = write_json(
        tmp_path / "lakes.geojson", feature_collection(british, crs="urn:ogc:def:crs:EPSG::27700")
    )

    region = read_region(path, "GeoJSON")

    assert region.is_valid and region.geom_type == "Polygon"
    assert len(region.interiors) == 1
    assert same_shape(region, to_wgs84(british, 27700))
    west, south, east, north = region.bounds
    assert -3.6 < west < east < -2.5 and 54.1 < south < north < 54.8


def test_the_sdk_lake_district_example(tmp_path: Path) -> None:
    fusion_platform = pytest.importorskip("fusion_platform")
    region = read_region(Path(fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE), "GeoJSON")
    assert region.is_valid and region.geom_type == "Polygon"
    assert len(region.exterior.coords) > 36_000
    # The SDK's documentation: lon -3.50 .. -2.58, lat 54.19 .. 54.77.
    assert region.bounds == pytest.approx((-3.50, 54.19, -2.58, 54.77), abs=0.01)


def test_shapefile_zip_polygons_are_unioned(tmp_path: Path) -> None:
    first = shapely.box(500_000, 6_000_000, 510_000, 6_010_000)
    overlapping = shapely.box(505_000, 6_005_000, 515_000, 6_015_000)
    apart = shapely.MultiPolygon([shapely.box(530_000, 6_000_000, 531_000, 6_001_000)])
    # A shapefile holds one geometry type, so lines and points are left to the KML test.
    archive = shapefile_zip(tmp_path, [first, overlapping, apart], crs="EPSG:32630")

    region = read_region(archive, "ESRI Shapefile")

    # Unioned in UTM, where the edges are straight (they are not quite in lon/lat).
    expected = to_wgs84(shapely.segmentize(shapely.union_all([first, overlapping, apart]), 100), 32630)
    assert region.geom_type == "MultiPolygon" and len(region.geoms) == 2
    assert same_shape(region, expected, tolerance=1e-5)  # unioned in lon/lat: 8e-5


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>summit</name><Point><coordinates>-3.2,54.45,978</coordinates></Point></Placemark>
<Placemark><name>area</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
-3.3,54.4,100 -3.1,54.4,120 -3.1,54.5,130 -3.3,54.5,110 -3.3,54.4,100
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>more</name><MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>
-3.0,54.4 -2.9,54.4 -2.9,54.5 -3.0,54.5 -3.0,54.4
</coordinates></LinearRing></outerBoundaryIs></Polygon>
<LineString><coordinates>-3.5,54.0 -3.4,54.1</coordinates></LineString></MultiGeometry></Placemark>
</Document></kml>
"""
KML_EXPECTED = shapely.union(shapely.box(-3.3, 54.4, -3.1, 54.5), shapely.box(-3.0, 54.4, -2.9, 54.5))


def test_kml_polygons_in_two_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "upload"  # stored without a suffix, as an object store would
    path.write_text(KML, encoding="utf-8")
    region = read_region(path, "KML")
    assert not region.has_z
    assert same_shape(region, KML_EXPECTED)


def test_kmz(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", KML)
    assert same_shape(read_region(path, "KMZ"), KML_EXPECTED)


def test_self_intersecting_polygons_are_repaired(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(-3.0, 54.0), (-2.0, 55.0), (-2.0, 54.0), (-3.0, 55.0), (-3.0, 54.0)])
    path = write_json(tmp_path / "bowtie.geojson", feature_collection(bowtie))
    region = read_region(path, "GeoJSON")
    assert region.is_valid
    assert region.area == pytest.approx(0.5)  # two triangles, each a quarter of the square
    assert same_shape(region, shapely.make_valid(bowtie))


def test_files_without_polygons_are_refused(tmp_path: Path) -> None:
    points = write_json(
        tmp_path / "points.geojson", feature_collection(shapely.Point(-3, 54), shapely.Point(-2, 55))
    )
    with pytest.raises(InvalidInput, match=r"points\.geojson contains no polygon"):
        read_region(points, "GeoJSON")


def test_unusable_files_are_refused_without_server_paths(tmp_path: Path) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_region(broken, "GeoJSON")
    assert "broken.geojson" in caught.value.detail and "terrafuse-analysis-" not in caught.value.detail
    with pytest.raises(InvalidInput) as caught:
        read_region(broken, "GeoJSON", display_name="my area.json")
    assert "my area.json" in caught.value.detail and str(tmp_path) not in caught.value.detail

    projected = write_json(
        tmp_path / "metres.geojson", feature_collection(shapely.box(500_000, 6e6, 501_000, 6.001e6))
    )
    with pytest.raises(InvalidInput, match="not longitude/latitude"):
        read_region(projected, "GeoJSON")

    no_prj = shapefile_zip(tmp_path / "noprj", [shapely.box(0, 0, 1, 1)], crs="EPSG:4326", skip=(".prj",))
    with pytest.raises(InvalidInput, match=r"\.prj"):
        read_region(no_prj, "ESRI Shapefile")

    with pytest.raises(InvalidInput, match="must be one of"):
        read_region(broken, "GeoTIFF")
