"""Sentinel-2 ingestion shared by the optical region services (clouds, NDVI, water).

The options pick one acquisition: ``latest_date`` true takes the newest one covering the slice;
false takes the first one on or after ``start_date`` (and not after ``end_date`` when given).
Tiles of the chosen day are mosaicked onto the slice's UTM grid, band by band, as physical
reflectance (``raster:bands`` scale and offset applied), NaN outside the region.

:class:`OpticalService` is the shape the optical services share: their face (:func:`optical_face`),
the ingestion component, then one algorithm component publishing one COG (:class:`Product`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from terrafuse.core.catalogue import DataType, Documentation, OptionSpec, PlatformFace, Price
from terrafuse.core.refs import object_ref
from terrafuse.errors import DataUnavailable, InvalidInput
from terrafuse.ingest.mosaic import Layer, TargetGrid, project_region, write_mosaic
from terrafuse.ingest.search import SceneQuery, SceneRef, search_scenes
from terrafuse.services.base import ComponentContext, OutputFile, RunContext, ServiceDescription
from terrafuse.services.platform.common import (
    REGION_INPUT,
    cog_output,
    component_dir,
    describe,
    grid_crs,
    option_value,
    parse_region,
    resolution_option,
    write_cog,
)

COLLECTION = "sentinel-2-l2a"
INGESTION = "Sentinel-2 Ingestion"
DATETIME_FORMAT = "format=%Y-%m-%dT%H:%M:%SZ"
# A day's tiles whose union leaves less than this share of the slice uncovered "cover" it.
_COVERED = 1e-3

LATEST_DATE = OptionSpec(
    name="latest_date",
    data_type=DataType.BOOLEAN,
    title="Latest date",
    description="Use the most recent Sentinel-2 acquisition covering the region; when false, use "
    "the first acquisition on or after the start date.",
    default=True,
    required=True,
)


def _date_option(name: str, title: str, description: str) -> OptionSpec:
    """An optional date and time (UTC) option."""
    return OptionSpec(
        name=name,
        data_type=DataType.DATETIME,
        title=title,
        description=description,
        default=None,
        validation=DATETIME_FORMAT,
    )


START_DATE = _date_option(
    "start_date",
    "Start date",
    "When latest date is false: the first acquisition on or after this date and time (UTC) is used.",
)
END_DATE = _date_option(
    "end_date",
    "End date",
    "When latest date is false: acquisitions after this date and time (UTC) are not used. "
    "Empty for no limit.",
)
# How the services' documentation lists the options optical_face adds.
OPTION_DOCS = ("latest_date, start_date, end_date: which acquisition.", "resolution: pixel size in metres.")


@dataclass(frozen=True)
class OpticalInputs:
    """The parsed inputs of an optical service."""

    region: BaseGeometry
    latest: bool
    start: datetime | None
    end: datetime | None
    resolution: float
    crs: str  # of the output grid (see ``grid_crs``)


def parse_optical(inputs: Mapping[str, Any], resolution: OptionSpec) -> OpticalInputs:
    """Region, date options and resolution.

    Without a start date (and latest date false) the oldest acquisition is used.

    Raises:
        InvalidInput: for a bad region or option, or a start date after the end date.
    """
    region = parse_region(inputs)
    latest = bool(option_value(inputs, LATEST_DATE))
    start = option_value(inputs, START_DATE)
    end = option_value(inputs, END_DATE)
    if start is not None and end is not None and start > end:
        raise InvalidInput(
            f"start_date ({start:%Y-%m-%dT%H:%M:%SZ}) is after end_date ({end:%Y-%m-%dT%H:%M:%SZ})"
        )
    resolution_m = float(option_value(inputs, resolution))
    return OpticalInputs(region, latest, start, end, resolution_m, grid_crs(inputs, region))


@dataclass(frozen=True)
class Acquisition:
    """The scenes chosen for a slice: tiles of one day, best covering first."""

    day: date
    scenes: tuple[SceneRef, ...]
    coverage: float  # share of the slice the tiles' footprints cover


def select_acquisition(catalog_url: str, parsed: OpticalInputs, collection: str = COLLECTION) -> Acquisition:
    """The acquisition a slice uses (see the module notes).

    Among days in search order, the first whose tiles cover the slice wins; when none covers it
    fully, the one covering most of it.

    Raises:
        DataUnavailable: no scene in the catalog matches; the message says what was searched.
    """
    if parsed.latest:
        query = SceneQuery(collection, parsed.region, order="newest")
    else:
        query = SceneQuery(collection, parsed.region, start=parsed.start, end=parsed.end, order="oldest")
    scenes = search_scenes(catalog_url, query)
    if not scenes:
        raise DataUnavailable(f"no Sentinel-2 scene was found in {query.describe()}")
    best: Acquisition | None = None
    for day, group in itertools.groupby(scenes, key=lambda s: s.datetime.date()):
        tiles = sorted(group, key=lambda s: -s.footprint.intersection(parsed.region).area)
        covered = (
            unary_union([s.footprint for s in tiles]).intersection(parsed.region).area / parsed.region.area
        )
        candidate = Acquisition(day, tuple(tiles), min(covered, 1.0))
        if candidate.coverage >= 1 - _COVERED:
            return candidate
        if best is None or candidate.coverage > best.coverage:
            best = candidate
    assert best is not None  # scenes is not empty
    return best


@dataclass(frozen=True)
class Ingested:
    """The ingestion component's product.

    Attributes:
        output: the published reflectance file.
        path: its local copy (float32 COG, one band per name in ``bands``, nodata NaN).
        grid: its grid.
        valid_pixels: pixels in the region where every band has data.
        acquisition: the scenes it was made from.
        bands: band names, in file order.
    """

    output: OutputFile
    path: Path
    grid: TargetGrid
    valid_pixels: int
    acquisition: Acquisition
    bands: tuple[str, ...]


def ingest(ctx: RunContext, parsed: OpticalInputs, bands: Sequence[str], share: float) -> Ingested:
    """Run the "Sentinel-2 Ingestion" component: reflectance of ``bands`` over the slice.

    Publishes ``reflectance.tif`` (GeoTIFF, float32, one band per name, nodata NaN).

    Raises:
        DataUnavailable: no scene, a missing band, or no valid pixel in the region.
    """
    with ctx.component(INGESTION, share=share) as c:
        for data_id in ctx.input_data_ids:
            c.add_input(data_id)
        acquisition = select_acquisition(ctx.catalog_url, parsed)
        ids = ", ".join(s.id for s in acquisition.scenes)
        c.log(f"using the acquisition of {acquisition.day.isoformat()}: {ids}")
        if acquisition.coverage < 1 - _COVERED:
            c.log(f"the scenes cover {acquisition.coverage:.1%} of the region; the rest is no data")
        layers = [Layer(band, tuple(scene.band(band) for scene in acquisition.scenes)) for band in bands]
        crs = parsed.crs
        grid = TargetGrid.covering(parsed.region, crs, parsed.resolution)
        size = f"{grid.width} x {grid.height}"
        c.log(f"reading {', '.join(bands)} onto a {size} grid of {grid.resolution:g} m in {crs}")
        folder = component_dir(ctx, "ingestion")
        scratch = folder / "mosaic.tif"
        result = write_mosaic(
            scratch,
            layers,
            grid,
            project_region(parsed.region, crs),
            progress=lambda f: c.progress(0.9 * f),
            check_cancelled=ctx.check_cancelled,
        )
        if result.valid_pixels == 0:
            raise DataUnavailable(
                f"the Sentinel-2 scene(s) {ids} of {acquisition.day.isoformat()} have no data over the region"
            )
        c.log(f"{result.valid_pixels} of {result.region_pixels} pixels in the region have data")
        ctx.check_cancelled()
        path = folder / "reflectance.tif"
        # An intermediate product, read once by the next component: speed over overviews.
        write_cog(scratch, path, None, level=1)
        output = c.add_output(
            path,
            "GeoTIFF",
            title="Sentinel-2 surface reflectance",
            description=f"Bands {', '.join(bands)} of {ids} on the region's grid (reflectance, NaN no data).",
        )
        c.progress(1.0)
    return Ingested(output, path, grid, result.valid_pixels, acquisition, tuple(bands))


def optical_face(
    key: str,
    name: str,
    algorithm: str,
    *,
    categories: tuple[str, ...],
    keywords: tuple[str, ...],
    documentation: Documentation,
    resolution: float,
    price: Price,
    aliases: tuple[str, ...] = (),
    featured: bool = False,
) -> PlatformFace:
    """The face of a sliced optical service: region, date options and ``resolution`` (its default, m).

    Its chain is "Sentinel-2 Ingestion" then ``algorithm``; a statistics aggregator ends a group.
    """
    return PlatformFace(
        key=key,
        name=name,
        version="1.0.0",
        categories=categories,
        keywords=keywords,
        documentation=documentation,
        inputs=(REGION_INPUT,),
        options=(LATEST_DATE, START_DATE, END_DATE, resolution_option(resolution, advanced=True)),
        price=price,
        chain=(INGESTION, algorithm),
        sliced=True,
        aggregator=True,
        aliases=aliases,
        featured=featured,
    )


@dataclass(frozen=True)
class Product:
    """The one COG an optical service's algorithm publishes.

    Attributes:
        name: the output id and the file's stem.
        title: the output's and the file's title.
        summary: the OGC output's description.
        description: the published file's description.
        histogram_range: fixed, so the histograms of a group's slices add up.
    """

    name: str
    title: str
    summary: str
    description: str
    histogram_range: tuple[float, float]


# (ctx, the algorithm component, the ingested reflectance, where to write the product's COG)
Algorithm = Callable[[RunContext, ComponentContext, Ingested, Path], None]


class OpticalService:
    """A Sentinel-2 region service: ingestion of ``bands`` → ``algorithm`` writing the product's COG.

    The algorithm runs in the face's second component, which publishes the COG as a GeoTIFF with
    the product's fixed histogram range.
    """

    def __init__(
        self,
        face: PlatformFace,
        bands: Sequence[str],
        product: Product,
        algorithm: Algorithm,
        *,
        ingestion_share: float,
    ) -> None:
        resolution = face.option("resolution")
        assert resolution is not None  # optical_face adds it
        self.face = face
        self.bands = tuple(bands)
        self.product = product
        self.description: ServiceDescription = describe(
            face, face.documentation.description, {product.name: cog_output(product.title, product.summary)}
        )
        self._resolution = resolution
        self._algorithm = algorithm
        self._ingestion_share = ingestion_share

    def check_inputs(self, inputs: dict[str, Any]) -> None:
        """Refuse a bad region, bad options or a start date after the end date."""
        parse_optical(inputs, self._resolution)

    def run(self, ctx: RunContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Ingest, run the algorithm; returns ``{<product name>: <ref of the COG>}``."""
        parsed = parse_optical(inputs, self._resolution)
        ingested = ingest(ctx, parsed, self.bands, share=self._ingestion_share)
        product = self.product
        with ctx.component(self.face.chain[1], share=1 - self._ingestion_share) as c:
            c.add_input(ingested.output.data_id)
            path = component_dir(ctx, product.name) / f"{product.name}.tif"
            self._algorithm(ctx, c, ingested, path)
            out = c.add_output(
                path,
                "GeoTIFF",
                histogram_ranges={1: product.histogram_range},
                title=product.title,
                description=product.description,
            )
            c.progress(1.0)
        return {product.name: object_ref(out.key)}
