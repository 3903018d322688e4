"""Slicing regions on a UTM grid: zones, geodesic areas, tiling, slivers, big polygons."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from terrafuse.core.slicing import SLIVER_FRACTION, Slice, region_area_km2, slice_region, utm_epsg
from terrafuse.errors import InvalidInput


def reproject(geometry: shapely.Geometry, source: int | str, target: int | str) -> shapely.Geometry:
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def equal_area_km2(geometry_wgs84: shapely.Geometry) -> float:
    """Independent check: planar area in a Lambert azimuthal equal-area projection centred on the shape."""
    centre = geometry_wgs84.centroid
    laea = CRS.from_proj4(f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +ellps=WGS84 +units=m")
    dense = shapely.segmentize(geometry_wgs84, 0.001)
    return reproject(dense, "EPSG:4326", laea).area / 1e6


def noisy_ring(vertices: int = 30_000, seed: int = 3) -> shapely.Polygon:
    """A ragged ring about 60 x 60 km around 54.5 N, 3 W (like a national park boundary)."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    radius = 30_000 * (
        1 + 0.15 * np.sin(5 * angles) + 0.1 * np.sin(13 * angles + 1) + rng.uniform(0, 0.02, vertices)
    )
    utm = shapely.Polygon(
        np.column_stack([500_000 + radius * np.cos(angles), 6_040_000 + radius * np.sin(angles)])
    )
    return reproject(utm, 32630, 4326)


def assert_tiles(slices: list[Slice], region: shapely.Geometry) -> None:
    """Slices cover the region exactly once, are numbered in order and carry true areas."""
    assert [piece.index for piece in slices] == list(range(len(slices)))
    union = shapely.union_all([piece.geometry for piece in slices])
    assert shapely.symmetric_difference(union, region).area < 1e-6 * region.area
    # No overlaps: the pieces' areas add up to the area of their union.
    assert sum(piece.geometry.area for piece in slices) == pytest.approx(union.area, rel=1e-9)
    total = sum(piece.area_km2 for piece in slices)
    assert total == pytest.approx(region_area_km2(region), rel=1e-4)
    for piece in slices:
        assert piece.area_km2 == pytest.approx(equal_area_km2(piece.geometry), rel=2e-3)
        utm = reproject(piece.geometry, 4326, piece.epsg)
        assert np.allclose(utm.bounds, piece.bounds_utm, atol=1.0)


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (-4.25, 55.86, 32630),
        (-3.0, 54.5, 32630),
        (151.2, -33.9, 32756),
        (-179.9, 10.0, 32601),
        (179.9, -0.1, 32760),
    ],
)
def test_utm_zone_of_the_centroid(lon: float, lat: float, epsg: int) -> None:
    assert utm_epsg(shapely.Point(lon, lat).buffer(0.05)) == epsg


def test_geodesic_area_ignores_orientation_and_subtracts_holes() -> None:
    box = shapely.box(-3.5, 54.2, -2.6, 54.8)
    area = region_area_km2(box)
    assert area == pytest.approx(equal_area_km2(box), rel=1e-4)
    assert region_area_km2(shapely.Polygon(box.exterior.coords[::-1])) == pytest.approx(area)
    hole = shapely.box(-3.2, 54.4, -3.0, 54.5)
    holed = shapely.Polygon(box.exterior.coords, [hole.exterior.coords])
    assert region_area_km2(holed) == pytest.approx(area - region_area_km2(hole), rel=1e-9)


def test_a_small_region_is_one_slice() -> None:
    region = shapely.box(-4.48, 55.79, -4.08, 55.95)  # about Glasgow's box, ~700 km²
    [single] = slice_region(region, max_km2=1000)
    assert single.index == 0 and single.geometry.equals(region) and single.epsg == 32630
    assert single.area_km2 == pytest.approx(region_area_km2(region))


def test_a_square_is_cut_into_grid_cells_in_row_major_order() -> None:
    # 18 x 18 km in UTM 30N with a 100 km² limit: four 9 km cells.
    square = shapely.segmentize(shapely.box(500_000, 6_000_000, 518_000, 6_018_000), 100)
    region = reproject(square, 32630, 4326)
    slices = slice_region(region, max_km2=100)
    assert len(slices) == 4
    assert_tiles(slices, region)
    centres = [reproject(piece.geometry, 4326, 32630).centroid for piece in slices]
    assert centres[0].y > centres[2].y and centres[1].y > centres[3].y  # north row first
    assert centres[0].x < centres[1].x and centres[2].x < centres[3].x  # west to east
    assert all(piece.area_km2 <= 100 for piece in slices)


def test_slivers_are_merged_into_a_neighbour() -> None:
    # The same square with a 200 m wide spur 9 km east: the grid gains a third column holding only
    # two scraps of the spur (0.9 km² each, 1 % of a cell), which must not become slices.
    square = shapely.box(500_000, 6_000_000, 518_000, 6_018_000)
    spur = shapely.box(518_000, 6_008_900, 527_000, 6_009_100)
    region = reproject(shapely.segmentize(shapely.union(square, spur), 100), 32630, 4326)
    slices = slice_region(region, max_km2=100)
    assert len(slices) == 4
    assert_tiles(slices, region)
    smallest = min(piece.area_km2 for piece in slices)
    assert smallest > SLIVER_FRACTION * 81
    spurred = [piece for piece in slices if piece.bounds_utm[2] > 526_000]
    assert len(spurred) == 1 and spurred[0].area_km2 == pytest.approx(81 + 1.8, rel=0.01)


def test_a_ragged_30k_vertex_region_is_sliced_quickly() -> None:
    region = noisy_ring()
    started = time.perf_counter()
    slices = slice_region(region, max_km2=150)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert len(slices) >= region_area_km2(region) / 150
    assert_tiles(slices, region)
    # A slice may exceed the limit only by the slivers it absorbed.
    assert all(piece.area_km2 <= 150 * (1 + 4 * SLIVER_FRACTION) for piece in slices)
    assert sum(piece.area_km2 > 150 for piece in slices) <= len(slices) // 4


def test_invalid_regions_are_repaired_and_lines_ignored() -> None:
    bowtie = shapely.Polygon([(-3.5, 54.2), (-2.6, 54.8), (-2.6, 54.2), (-3.5, 54.8), (-3.5, 54.2)])
    assert not bowtie.is_valid
    mixed = shapely.GeometryCollection(
        [bowtie, shapely.LineString([(-3, 54), (-2, 55)]), shapely.Point(0, 0)]
    )
    repaired = shapely.make_valid(bowtie)
    slices = slice_region(mixed, max_km2=400)
    assert len(slices) > 1
    assert_tiles(slices, repaired)


def test_the_lake_district_example_file() -> None:
    fusion_platform = pytest.importorskip("fusion_platform")
    document = json.loads(Path(fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE).read_text())
    british = shapely.geometry.shape(document["features"][0]["geometry"])
    region = reproject(british, 27700, 4326)
    assert len(shapely.get_coordinates(region)) > 36_000
    started = time.perf_counter()
    slices = slice_region(region, max_km2=500)
    assert time.perf_counter() - started < 1.0
    assert_tiles(slices, region)
    assert region_area_km2(region) == pytest.approx(british.area / 1e6, rel=0.01)  # BNG is near true scale
    assert {piece.epsg for piece in slices} == {32630}


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        (shapely.LineString([(-3, 54), (-2, 55)]), "no polygon"),
        (shapely.Polygon(), "no polygon"),
        (shapely.box(300_000, 500_000, 310_000, 510_000), "longitude/latitude"),
        ("POLYGON((0 0, 1 0, 1 1, 0 0))", "not a geometry"),
    ],
)
def test_regions_without_area_are_refused(geometry: object, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        slice_region(geometry, max_km2=100)  # type: ignore[arg-type]


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_km2"):
        slice_region(shapely.box(0, 0, 1, 1), max_km2=0)
