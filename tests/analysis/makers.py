"""Builders of the small files the analysis tests feed in; everything lands in a test's tmp_path."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import rasterio
import shapely
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin

# Centre and half-axes of an ellipse spanning the Lake District's box in British National Grid.
LAKE_EAST = (303283.0, 362257.0)
LAKE_NORTH = (477648.0, 541490.0)


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def feature_collection(*geometries: shapely.Geometry, crs: str | None = None, **properties: list) -> dict:
    features = []
    for index, geometry in enumerate(geometries):
        features.append(
            {
                "type": "Feature",
                "properties": {name: values[index] for name, values in properties.items()},
                "geometry": None if geometry is None else json.loads(shapely.to_geojson(geometry)),
            }
        )
    document: dict = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return document


def lake_district_like(vertices: int = 36_000, seed: int = 7) -> shapely.Polygon:
    """A noisy ellipse with ``vertices`` vertices inside the Lake District's BNG box."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    # Inward-only noise keeps the ellipse's extreme points (and so the box) where they are.
    wobble = 1.0 - 0.03 * np.abs(np.sin(7 * angles)) - rng.uniform(0.0, 0.004, vertices)
    wobble[[0, vertices // 4, vertices // 2, 3 * vertices // 4]] = 1.0
    centre_e, half_e = sum(LAKE_EAST) / 2, (LAKE_EAST[1] - LAKE_EAST[0]) / 2
    centre_n, half_n = sum(LAKE_NORTH) / 2, (LAKE_NORTH[1] - LAKE_NORTH[0]) / 2
    xs = centre_e + half_e * wobble * np.cos(angles)
    ys = centre_n + half_n * wobble * np.sin(angles)
    return shapely.Polygon(np.column_stack([xs, ys]))


def write_vector(
    path: Path,
    geometries: list[shapely.Geometry],
    *,
    driver: str,
    crs: str | None = "EPSG:4326",
    fields: dict[str, np.ndarray] | None = None,
    geometry_type: str = "Unknown",
) -> Path:
    fields = fields or {"id": np.arange(len(geometries), dtype=np.int32)}
    pyogrio.raw.write(
        str(path),
        np.array([shapely.to_wkb(geometry) for geometry in geometries], dtype=object),
        list(fields.values()),
        list(fields.keys()),
        driver=driver,
        crs=crs,
        geometry_type=geometry_type,
    )
    return path


def shapefile_zip(
    folder: Path, geometries: list[shapely.Geometry], *, crs: str | None, skip: tuple[str, ...] = (), **fields
) -> Path:
    """A flat zip of a shapefile (``skip`` leaves out members by suffix, e.g. ".prj")."""
    source = folder / "shp"
    source.mkdir(parents=True)
    write_vector(source / "roi.shp", geometries, driver="ESRI Shapefile", crs=crs, fields=fields or None)
    archive = folder / "roi.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for member in sorted(source.iterdir()):
            if member.suffix not in skip:
                zipped.write(member, member.name)
    return archive


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = "EPSG:32630",
    transform: rasterio.Affine | None = None,
    nodata: float | None = None,
    driver: str = "GTiff",
    **options: object,
) -> Path:
    """A raster of ``data`` (bands, rows, cols), 10 m pixels in UTM 30N unless told otherwise."""
    if data.ndim == 2:
        data = data[np.newaxis]
    profile = {
        "driver": driver,
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": data.dtype,
        "nodata": nodata,
        **options,
    }
    if crs is not None:
        profile["crs"] = crs
        profile["transform"] = transform or from_origin(500_000, 6_000_000, 10, 10)
    with warnings.catch_warnings():
        # PNG and JPEG fixtures are deliberately ungeoreferenced.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dataset:
            dataset.write(data)
    return path
