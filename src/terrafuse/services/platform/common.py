"""What the platform's region services share: parsing their inputs, describing them, writing COGs.

Inputs arrive as ``{"region": <GeoJSON geometry in WGS84>, <option>: <JSON value>}`` (see
:class:`terrafuse.services.base.Service`); the parsers here turn them into typed values and raise
:class:`~terrafuse.errors.InvalidInput` with a message naming the input when they are wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
import shapely
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.windows import Window
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from terrafuse.core.catalogue import DataType, FileInputSpec, OptionSpec, PlatformFace
from terrafuse.core.options import check_option, ogc_inputs, option_from_json
from terrafuse.core.slicing import utm_epsg
from terrafuse.errors import InvalidInput
from terrafuse.ingest.mosaic import BLOCK_SIZE, TargetGrid
from terrafuse.services.base import ComponentContext, OutputDescription, RunContext, ServiceDescription

REGION = "region"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
CSV_MEDIA_TYPE = "text/csv"
COG_BLOCK = 512
MIN_RESOLUTION, MAX_RESOLUTION = 10.0, 1000.0
# Area below which a region is taken as degenerate (about 1 m² at the equator, in degrees²).
_MIN_AREA_DEG2 = 1e-10


REGION_INPUT = FileInputSpec(
    number=1,
    name=REGION,
    file_type="GeoJSON",
    title="Region of interest",
    description="The area to process: a GeoJSON file of polygons (WGS84).",
)
# How the services' documentation lists the region input.
REGION_DOCS = ("Region of interest (GeoJSON polygons).",)


def parse_region(inputs: Mapping[str, Any]) -> BaseGeometry:
    """The ``region`` input as a valid shapely (Multi)Polygon in WGS84 lon/lat.

    A GeoJSON Polygon or MultiPolygon, or a Feature or FeatureCollection of them (the polygons
    are merged); self-intersecting rings are repaired (``make_valid``), keeping the polygonal
    parts.

    Raises:
        InvalidInput: when the region is missing, not a polygon, out of lon/lat range or empty.
    """
    value = inputs.get(REGION)
    if value is None:
        raise InvalidInput("region is required: a GeoJSON Polygon or MultiPolygon in WGS84 (lon/lat)")
    geometry = shapely.union_all([_polygonal(g) for g in _geometries(value)])
    coords = shapely.get_coordinates(geometry)
    if coords.size == 0:
        raise InvalidInput("region is empty")
    if not (
        (coords[:, 0] >= -180).all()
        and (coords[:, 0] <= 180).all()
        and (coords[:, 1] >= -90).all()
        and (coords[:, 1] <= 90).all()
    ):
        raise InvalidInput(
            "region coordinates must be longitude, latitude in WGS84 (longitude in [-180, 180], "
            "latitude in [-90, 90])"
        )
    if geometry.is_empty or geometry.area < _MIN_AREA_DEG2:
        raise InvalidInput("region has no area")
    return geometry


def _geometries(value: Any) -> list[Any]:
    """The geometry objects of a GeoJSON geometry, Feature or FeatureCollection."""
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidInput("region is a FeatureCollection without features")
        return [g for f in features for g in _geometries(f)]
    if isinstance(value, dict) and value.get("type") == "Feature":
        return [value.get("geometry")]
    return [value]


def _polygonal(value: Any) -> BaseGeometry:
    """One GeoJSON (Multi)Polygon as a valid shapely geometry."""
    if not isinstance(value, dict):
        raise InvalidInput(f"region must be a GeoJSON geometry object, got {type(value).__name__}")
    kind = value.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"region must be a GeoJSON Polygon or MultiPolygon, got {kind!r}")
    try:
        geometry = shape(value)
        if geometry.is_valid:
            return geometry
        # Self-intersecting rings (common in hand-drawn regions): keep the polygonal parts.
        repaired = shapely.make_valid(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException):
        raise InvalidInput(f"region is not a valid GeoJSON {kind}: its coordinates cannot be read") from None
    parts = [g for g in getattr(repaired, "geoms", [repaired]) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def option_value(inputs: Mapping[str, Any], spec: OptionSpec) -> Any:
    """The Python value of an option (its default when absent or null), checked against its rules.

    JSON values and wire text are both accepted (:func:`terrafuse.core.options.option_from_json`):
    booleans as bool, numbers as float/Decimal, datetimes as aware UTC datetimes.

    Raises:
        InvalidInput: naming the option, for a value of the wrong type or out of its bounds.
    """
    given = inputs.get(spec.name)
    value = spec.default if given is None else option_from_json(spec, given)
    check_option(spec, value)
    return value


def numeric_option(name: str, title: str, description: str, default: float, minimum: float, maximum: float,
                   *, advanced: bool = False) -> OptionSpec:  # fmt: skip
    """A numeric option with ``min=``/``max=`` validation."""
    return OptionSpec(
        name=name,
        data_type=DataType.NUMERIC,
        title=title,
        description=description,
        default=Decimal(str(default)),
        required=True,
        validation=f"min={minimum:g};max={maximum:g}",
        advanced=advanced,
    )


def resolution_option(default: float, *, advanced: bool = False) -> OptionSpec:
    """The pixel size option of a region service (metres on the region's UTM grid)."""
    return numeric_option(
        "resolution",
        "Resolution",
        "Pixel size of the outputs in metres (on the region's UTM grid).",
        default,
        MIN_RESOLUTION,
        MAX_RESOLUTION,
        advanced=advanced,
    )


def describe(
    face: PlatformFace, description: str, outputs: Mapping[str, OutputDescription]
) -> ServiceDescription:
    """The OGC description of a platform service: id = key, inputs derived from the face."""
    return ServiceDescription(
        id=face.key,
        version=face.version,
        title=face.name,
        description=description,
        inputs=ogc_inputs(face),
        outputs=dict(outputs),
        keywords=face.keywords,
        job_control=("async-execute", "sync-execute", "dismiss"),
        platform=face,
    )


def cog_output(title: str, description: str) -> OutputDescription:
    """An output that is a Cloud-Optimized GeoTIFF (its value is a reference to the file)."""
    schema = {"type": "string", "format": "uri", "contentMediaType": COG_MEDIA_TYPE}
    return OutputDescription(title=title, schema=schema, description=description)


def csv_output(title: str, description: str) -> OutputDescription:
    """An output that is a CSV file (its value is a reference to the file)."""
    schema = {"type": "string", "format": "uri", "contentMediaType": CSV_MEDIA_TYPE}
    return OutputDescription(title=title, schema=schema, description=description)


def utm_crs(region: BaseGeometry) -> str:
    """``"EPSG:326zz"``/``"EPSG:327zz"``: the UTM zone of the region's centroid (as slicing uses)."""
    return f"EPSG:{utm_epsg(region)}"


GRID_EPSG = "grid_epsg"
"""Internal input of a slice: the EPSG code of its group's grid (set by the platform, not clients)."""


def grid_crs(inputs: Mapping[str, Any], region: BaseGeometry) -> str:
    """The CRS of the outputs: a slice's group grid, else the UTM zone of the region.

    Every slice of a group is written in the zone of the whole region, so their outputs merge
    without reprojection even where the region straddles two UTM zones.
    """
    epsg = inputs.get(GRID_EPSG)
    if epsg is None:
        return utm_crs(region)
    if isinstance(epsg, bool) or not isinstance(epsg, int):
        raise InvalidInput(f"{GRID_EPSG} must be an EPSG code, not {epsg!r}")
    return f"EPSG:{epsg}"


def component_dir(ctx: RunContext, name: str) -> Path:
    """A fresh scratch folder for one component (its outputs are named after their files)."""
    folder = ctx.scratch_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_cog(
    src: Path, dst: Path, resampling: Resampling | None = Resampling.nearest, level: int = 6
) -> None:
    """Turn a tiled scratch GeoTIFF into a Cloud-Optimized GeoTIFF (DEFLATE, 512 blocks); delete ``src``.

    Overviews (``resampling``: ``nearest`` keeps class values exact, ``average`` suits continuous
    values; ``None`` for none) are built in the uncompressed scratch file first, which the COG
    driver copies (see the water-bodies service for the timing). Large intermediate files skip
    them and use DEFLATE ``level`` 1: on a Lake District slice that is 4x faster than level 6
    with overviews. Integer data gets the horizontal-difference predictor (runs of one class
    compress to nothing); float data none, which on noisy reflectance is both faster and smaller.
    """
    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
        with rasterio.open(src, "r+") as ds:
            factors, f = [], 2
            while resampling is not None and max(ds.width, ds.height) / (f // 2) > COG_BLOCK:
                factors.append(f)
                f *= 2
            if factors:
                ds.build_overviews(factors, resampling)
            floating = ds.dtypes[0].startswith("float")
        rasterio.shutil.copy(
            src,
            dst,
            driver="COG",
            COMPRESS="DEFLATE",
            LEVEL=str(level),
            PREDICTOR="NO" if floating else "STANDARD",
            OVERVIEWS="AUTO" if factors else "NONE",
            BLOCKSIZE=COG_BLOCK,
            NUM_THREADS="ALL_CPUS",
            BIGTIFF="IF_SAFER",
        )
    src.unlink()


BlockFn = Callable[[Window, list[NDArray[np.float32]]], NDArray[Any]]


def transform_blocks(
    src: Path,
    dst: Path,
    dtype: str,
    nodata: float,
    fn: BlockFn,
    *,
    progress: Callable[[float], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
    block_size: int = BLOCK_SIZE,
) -> None:
    """Write ``fn(window, bands)`` for every block of ``src`` into a tiled single-band scratch file.

    ``bands`` are the bands of ``src`` as float32 (its nodata as NaN); ``fn`` returns the block of
    the output (``dtype``, ``nodata`` where there is no value). Memory is a few blocks.
    """
    with rasterio.open(src) as ds:
        grid = TargetGrid(str(ds.crs), ds.transform, ds.width, ds.height)
        total, done = ds.width * ds.height, 0
        with rasterio.open(dst, "w", **grid.profile(1, dtype, nodata)) as out:
            for window in grid.blocks(block_size):
                if check_cancelled is not None:
                    check_cancelled()
                bands = [
                    _as_float(ds.read(i, window=window), ds.nodatavals[i - 1]) for i in range(1, ds.count + 1)
                ]
                out.write(np.asarray(fn(window, bands), dtype=dtype), 1, window=window)
                done += int(window.width * window.height)
                if progress is not None:
                    progress(done / total)


def _as_float(data: NDArray[Any], nodata: float | None) -> NDArray[np.float32]:
    out = data.astype(np.float32, copy=False)
    if nodata is not None and not math.isnan(nodata):
        out = np.where(data == nodata, np.float32(np.nan), out)
    return out


def blocks_to_cog(
    ctx: RunContext,
    c: ComponentContext,
    src: Path,
    dst: Path,
    fn: BlockFn,
    dtype: str,
    nodata: float,
    resampling: Resampling,
    *,
    progress: tuple[float, float] = (0.0, 0.9),
) -> None:
    """Write ``fn`` of every block of ``src`` (see :func:`transform_blocks`) as the COG ``dst``.

    The blocks go to a scratch file beside ``dst`` first. ``progress`` is ``(start, span)``: the
    component's progress goes from ``start`` to ``start + span`` as the blocks are written.
    """
    start, span = progress
    scratch = dst.with_name(f"{dst.stem}_scratch.tif")
    transform_blocks(
        src,
        scratch,
        dtype,
        nodata,
        fn,
        progress=lambda f: c.progress(start + span * f),
        check_cancelled=ctx.check_cancelled,
    )
    write_cog(scratch, dst, resampling)
