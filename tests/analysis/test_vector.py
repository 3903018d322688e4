"""Vector uploads: GeoJSON (incl. the legacy "crs" member), Shapefile zips, KML and KMZ."""

from __future__ import annotations

import math
import time
import zipfile
from pathlib import Path

import numpy as np
import shapely

from terrafuse.analysis import AnalysisLimits, analyse_file
from tests.analysis.makers import (
    feature_collection,
    lake_district_like,
    shapefile_zip,
    write_json,
    write_vector,
)

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563


def quadrangle_area(west: float, south: float, east: float, north: float) -> float:
    """Exact area (m²) of a lon/lat box on the WGS84 ellipsoid, edges along meridians and parallels."""
    e2 = WGS84_F * (2 - WGS84_F)
    e = math.sqrt(e2)
    b = WGS84_A * (1 - WGS84_F)

    def g(latitude: float) -> float:
        s = math.sin(math.radians(latitude))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return math.radians(east - west) * b * b / 2 * (g(north) - g(south))


def test_geojson_without_crs_is_wgs84_with_a_note_and_edges_following_parallels(tmp_path: Path) -> None:
    box = shapely.box(0.0, 60.0, 10.0, 61.0)
    path = write_json(tmp_path / "box.geojson", feature_collection(box, name=["a"]))

    analysis = analyse_file(path, "GeoJSON", "box.geojson")

    assert analysis.publishable and analysis.error is None
    assert analysis.file_type == "GeoJSON"
    assert analysis.crs == "EPSG:4326"
    assert any("RFC 7946" in note for note in analysis.notes)
    assert analysis.bounds == (0.0, 60.0, 10.0, 61.0)
    assert (analysis.points, analysis.lines, analysis.polygons) == (0, 0, 1)
    assert analysis.length is None
    # Without densification Geod's geodesic edges cut across the parallels: 0.3 % too small.
    assert analysis.area is not None
    assert math.isclose(analysis.area, quadrangle_area(0, 60, 10, 61), rel_tol=1e-5)
    assert analysis.valid is True
    assert analysis.geojson is not None
    assert analysis.geojson["features"][0]["properties"] == {"name": "a"}
    assert analysis.geojson["features"][0]["geometry"]["type"] == "Polygon"
    assert [selector.selector for selector in analysis.selectors] == ["name"]
    assert analysis.selectors[0].initial_values == ["a"]


def test_lake_district_like_polygon_in_british_national_grid(tmp_path: Path) -> None:
    polygon = lake_district_like()
    assert shapely.get_num_coordinates(polygon) == 36_001
    document = feature_collection(
        polygon, crs="urn:ogc:def:crs:EPSG::27700", id=["LAKE DISTRICT NATIONAL PARK"], FP_ID=[1]
    )
    path = write_json(tmp_path / "lake_district.geojson", document)

    started = time.perf_counter()
    analysis = analyse_file(path, "GeoJSON", "lake_district.geojson")
    elapsed = time.perf_counter() - started

    assert analysis.area is not None
    print(f"\nLake-District-like analysis: {elapsed:.3f} s, area {analysis.area / 1e6:.1f} km²")
    assert elapsed < 2.0
    assert analysis.publishable, analysis.error
    assert analysis.crs == "EPSG:27700"
    assert analysis.notes == ()  # it has a CRS: nothing was assumed
    assert analysis.bounds is not None
    west, south, east, north = analysis.bounds
    assert abs(west - -3.50) < 0.01 and abs(east - -2.58) < 0.01
    assert abs(south - 54.19) < 0.01 and abs(north - 54.77) < 0.01
    # BNG's scale factor here is ~0.99966, so true areas are ~0.07 % larger than grid areas.
    ratio = analysis.area / polygon.area
    assert 1.0005 < ratio < 1.0008, ratio
    assert 2_500e6 < analysis.area < 3_000e6
    assert (analysis.points, analysis.lines, analysis.polygons) == (0, 0, 1)
    assert analysis.valid is True
    assert analysis.geojson is None  # ~36 000 vertices are far beyond the 100 kB preview
    assert {selector.selector for selector in analysis.selectors} == {"id", "FP_ID"}


def test_multi_part_geometries_count_their_parts(tmp_path: Path) -> None:
    geometries = [
        shapely.MultiPolygon(
            [shapely.box(0, 0, 0.1, 0.1), shapely.box(1, 1, 1.1, 1.1), shapely.box(2, 2, 2.1, 2.1)]
        ),
        shapely.MultiLineString([[(0, 0), (0, 1)], [(5, 0), (5, 1)]]),
        shapely.MultiPoint([(0, 0), (1, 1), (2, 2), (3, 3)]),
        shapely.GeometryCollection([shapely.Point(9, 9), shapely.LineString([(10, 0), (10, 1)])]),
        None,
    ]
    path = write_json(tmp_path / "multi.geojson", feature_collection(*geometries))

    analysis = analyse_file(path, "GeoJSON", "multi.geojson")

    assert analysis.publishable, analysis.error
    assert (analysis.points, analysis.lines, analysis.polygons) == (5, 3, 3)
    # Three one-degree meridian arcs from the equator: 110 574.4 m each on WGS84.
    assert analysis.length is not None
    assert math.isclose(analysis.length, 3 * 110_574.4, rel_tol=1e-5)
    assert analysis.area is not None
    expected = sum(quadrangle_area(x, x, x + 0.1, x + 0.1) for x in (0, 1, 2))
    assert math.isclose(analysis.area, expected, rel_tol=1e-5)
    assert analysis.bounds == (0.0, 0.0, 10.0, 9.0)
    assert analysis.geojson is not None and len(analysis.geojson["features"]) == 4  # the null one is left out


def test_self_intersecting_polygon_is_invalid_but_measured(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    path = write_json(tmp_path / "bowtie.geojson", feature_collection(bowtie))

    analysis = analyse_file(path, "GeoJSON", "bowtie.geojson")

    assert analysis.valid is False
    assert any("Self-intersection" in note for note in analysis.notes)
    # Geod's signed areas of the two lobes would cancel; the repaired shape is two triangles.
    assert analysis.area is not None
    assert math.isclose(analysis.area, quadrangle_area(0, 0, 1, 1) / 2, rel_tol=2e-3)


def test_vector_without_geometries_is_not_publishable(tmp_path: Path) -> None:
    empty = write_json(tmp_path / "empty.geojson", {"type": "FeatureCollection", "features": []})
    nulls = write_json(tmp_path / "nulls.geojson", feature_collection(None, None, name=["a", "b"]))

    for path in (empty, nulls):
        analysis = analyse_file(path, "GeoJSON", path.name)
        assert not analysis.publishable
        assert analysis.error == "the GeoJSON file contains no geometries"


def test_projected_coordinates_without_crs_are_refused(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "bng.geojson", feature_collection(shapely.box(330000, 500000, 331000, 501000))
    )

    analysis = analyse_file(path, "GeoJSON", "bng.geojson")

    assert not analysis.publishable
    assert analysis.error is not None and "not longitude/latitude" in analysis.error


def test_huge_projected_coordinates_do_not_blow_up_densification(tmp_path: Path) -> None:
    huge = shapely.box(0, 0, 1e10, 1e10)  # 4e7 km of edges: 4e7 vertices at a 1 km spacing
    path = write_json(tmp_path / "huge.geojson", feature_collection(huge, crs="urn:ogc:def:crs:EPSG::3857"))

    started = time.perf_counter()
    analysis = analyse_file(path, "GeoJSON", "huge.geojson")

    assert time.perf_counter() - started < 2.0
    assert not analysis.publishable
    assert analysis.error == (
        "the GeoJSON file's coordinates fall outside the area of its coordinate reference system"
    )


def test_broken_geojson_is_not_publishable_and_hides_server_paths(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geom', encoding="utf-8")

    analysis = analyse_file(path, "GeoJSON", "mine.geojson")

    assert not analysis.publishable
    assert analysis.error is not None and analysis.error.startswith("the GeoJSON file could not be read")
    assert str(tmp_path) not in analysis.error and "terrafuse-analysis" not in analysis.error


def test_too_many_features(tmp_path: Path) -> None:
    points = [shapely.Point(i, i) for i in range(10)]
    path = write_json(tmp_path / "points.geojson", feature_collection(*points))

    assert analyse_file(path, "GeoJSON", "p.geojson", AnalysisLimits(max_vector_features=10)).publishable
    analysis = analyse_file(path, "GeoJSON", "p.geojson", AnalysisLimits(max_vector_features=9))
    assert not analysis.publishable
    assert analysis.error == "the file has more than 9 features"


def test_geojson_preview_only_for_small_files(tmp_path: Path) -> None:
    circle = shapely.Point(0, 0).buffer(1.0, quad_segs=2_000)  # 8 000 vertices: ~300 kB of GeoJSON
    path = write_json(tmp_path / "circle.geojson", feature_collection(circle))

    assert analyse_file(path, "GeoJSON", "c.geojson").geojson is None
    limits = AnalysisLimits(max_geojson_bytes=1_000_000)
    preview = analyse_file(path, "GeoJSON", "c.geojson", limits).geojson
    assert preview is not None and len(preview["features"][0]["geometry"]["coordinates"][0]) == 8_001


def test_shapefile_zip_with_prj(tmp_path: Path) -> None:
    squares = [shapely.box(330000, 500000, 331000, 501000), shapely.box(340000, 500000, 341000, 501000)]
    path = shapefile_zip(
        tmp_path,
        squares,
        crs="EPSG:27700",
        code=np.array([3, 7], dtype=np.int32),
        kind=np.array(["lake", "fell"], dtype=object),
    )

    analysis = analyse_file(path, "ESRI Shapefile", "roi.zip")

    assert analysis.publishable, analysis.error
    assert analysis.file_type == "ESRI Shapefile"
    assert analysis.crs == "EPSG:27700"
    assert analysis.polygons == 2
    assert analysis.area is not None
    assert 1.0005 < analysis.area / 2e6 < 1.0008  # 2 km² of grid, scale factor ~0.99968
    code, kind = analysis.selectors
    assert (code.selector, code.minimum, code.maximum, code.mean, code.sd) == ("code", 3.0, 7.0, 5.0, 2.0)
    assert code.histogram == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert (kind.selector, kind.data_type, kind.initial_values) == ("kind", "string", ["fell", "lake"])


def test_shapefile_zip_without_prj_or_shx_is_refused(tmp_path: Path) -> None:
    square = [shapely.box(330000, 500000, 331000, 501000)]
    without_prj = shapefile_zip(tmp_path / "a", square, crs="EPSG:27700", skip=(".prj",))
    without_shx = shapefile_zip(tmp_path / "b", square, crs="EPSG:27700", skip=(".shx",))

    analysis = analyse_file(without_prj, "ESRI Shapefile", "roi.zip")
    assert not analysis.publishable
    assert analysis.error is not None and "no .prj file" in analysis.error
    analysis = analyse_file(without_shx, "ESRI Shapefile", "roi.zip")
    assert not analysis.publishable
    assert analysis.error == "the shapefile roi.shp is incomplete: the zip has no .shx file"


def test_shapefile_zip_with_two_shapefiles_is_refused(tmp_path: Path) -> None:
    first = shapefile_zip(tmp_path / "a", [shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    with zipfile.ZipFile(first) as source, zipfile.ZipFile(tmp_path / "two.zip", "w") as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
            target.writestr("other" + name[3:], source.read(name))

    analysis = analyse_file(tmp_path / "two.zip", "ESRI Shapefile", "two.zip")

    assert not analysis.publishable
    assert analysis.error is not None and "several shapefiles" in analysis.error


KML_3D = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>summit</name><Point><coordinates>-3.2,54.45,978</coordinates></Point></Placemark>
<Placemark><name>area</name><Polygon><outerBoundaryIs><LinearRing>
<coordinates>-3.3,54.4,100 -3.1,54.4,120 -3.1,54.5,140 -3.3,54.5,110 -3.3,54.4,100</coordinates>
</LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>
"""


def test_kml_is_read_in_two_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "upload"  # stored without a suffix, as an object store would
    path.write_text(KML_3D, encoding="utf-8")

    analysis = analyse_file(path, "KML", "regions.kml")

    assert analysis.publishable, analysis.error
    assert analysis.crs == "EPSG:4326"
    assert (analysis.points, analysis.polygons) == (1, 1)
    assert analysis.bounds == (-3.3, 54.4, -3.1, 54.5)
    assert analysis.geojson is not None
    point = analysis.geojson["features"][0]["geometry"]
    assert point == {"type": "Point", "coordinates": [-3.2, 54.45]}
    ring = analysis.geojson["features"][1]["geometry"]["coordinates"][0]
    assert all(len(position) == 2 for position in ring)
    assert [selector.selector for selector in analysis.selectors] == [
        "Name"
    ]  # LIBKML styling fields left out
    assert analysis.selectors[0].initial_values == ["area", "summit"]


def test_hand_made_kmz(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", KML_3D)

    analysis = analyse_file(path, "KMZ", "regions.kmz")

    assert analysis.publishable, analysis.error
    assert analysis.file_type == "KMZ"
    assert (analysis.points, analysis.polygons) == (1, 1)
    assert analysis.bounds == (-3.3, 54.4, -3.1, 54.5)


def test_libkml_written_kmz_read_from_a_path_without_suffix(tmp_path: Path) -> None:
    written = write_vector(
        tmp_path / "written.kmz",
        [shapely.LineString([(-3.0, 54.0, 5.0), (-3.0, 55.0, 9.0)])],
        driver="LIBKML",
        geometry_type="LineString",
    )
    assert "layers/" in zipfile.ZipFile(written).namelist()  # the nested layout that fails from bytes
    path = tmp_path / "blob"
    path.write_bytes(written.read_bytes())

    analysis = analyse_file(path, "KMZ", "written.kmz")

    assert analysis.publishable, analysis.error
    assert (analysis.points, analysis.lines, analysis.polygons) == (0, 1, 0)
    assert analysis.length is not None and math.isclose(analysis.length, 111_257.0, rel_tol=1e-3)
    assert analysis.geojson is not None
    assert analysis.geojson["features"][0]["geometry"]["coordinates"] == [[-3.0, 54.0], [-3.0, 55.0]]
