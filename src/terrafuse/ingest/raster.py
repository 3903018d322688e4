"""Reading rasters wherever they are: local files, HTTP(S) range requests, S3.

The same code path opens ``http(s)://`` (GDAL ``/vsicurl/``), ``s3://`` (``/vsis3/``,
credentials and endpoint from the standard ``AWS_*`` environment variables) and local files.
Reads must happen inside :func:`raster_env`, which sets the GDAL options that make remote
Cloud-Optimized GeoTIFFs cheap to read (no directory listings, merged range requests).

Also here: parsing the region inputs (``aoi`` text and its CRS) and turning them into a pixel
window of a raster, and cutting a window into blocks for bounded-memory processing.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import NamedTuple
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pyproj
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from terrafuse.errors import DataUnavailable, InvalidInput

# Window edges within this many pixels of a whole number are snapped to it (float noise from
# the CRS transform must not add a row or column).
_SNAP = 1e-6


class Bounds(NamedTuple):
    """An axis-aligned box ``(minx, miny, maxx, maxy)`` in some CRS (x = easting/longitude)."""

    minx: float
    miny: float
    maxx: float
    maxy: float


def gdal_options(timeout: float = 30, max_retry: int = 3) -> dict[str, str]:
    """GDAL configuration for reading (remote) Cloud-Optimized GeoTIFFs."""
    return {
        # Opening a remote file must not list its "directory" (one useless request, or many).
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        # Only probe URLs that look like rasters (sidecar .aux.xml/.ovr probes cost requests).
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF,.jp2,.JP2",
        # Several tiles of one block read come back in one request.
        "GDAL_HTTP_MULTIRANGE": "YES",
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        "VSI_CACHE": "TRUE",
        "GDAL_HTTP_TIMEOUT": str(max(1, math.ceil(timeout))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, math.ceil(timeout))),
        "GDAL_HTTP_MAX_RETRY": str(max_retry),
        "GDAL_HTTP_RETRY_DELAY": "1",
    }


@contextmanager
def raster_env(timeout: float = 30, max_retry: int = 3) -> Iterator[rasterio.Env]:
    """A GDAL environment for reading rasters from files, HTTP(S) or S3.

    S3 credentials are not passed here: GDAL reads ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_S3_ENDPOINT``, ``AWS_NO_SIGN_REQUEST`` etc. from the
    process environment (``rasterio.Env`` refuses credentials as options).

    Yields the ``rasterio.Env``; pass it to :func:`read_blocks` so its reader threads use the
    same options (rasterio sets options thread-locally outside the main thread).
    """
    with rasterio.Env(**gdal_options(timeout, max_retry)) as env:
        yield env


def gdal_path(href: str) -> str:
    """The string to give ``rasterio.open`` for an href (``file://`` URLs become paths)."""
    parsed = urlparse(href)
    if parsed.scheme.lower() == "file":
        return url2pathname(parsed.path)
    return href


def open_raster(href: str) -> DatasetReader:
    """Open a raster for reading (call inside :func:`raster_env`).

    Raises:
        DataUnavailable: when it cannot be opened; the message names the href.
    """
    try:
        return rasterio.open(gdal_path(href))
    except RasterioError as exc:
        # GDAL's message says why (HTTP status, not a raster...); keep it short.
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise DataUnavailable(f"cannot open the raster {href}: {reason}") from None


def parse_aoi(text: str) -> Bounds:
    """Parse ``"minx,miny,maxx,maxy"`` (the water-bodies ``aoi`` input).

    Raises:
        InvalidInput: unless it is four finite numbers with min < max on both axes.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"aoi must be a string 'minx,miny,maxx,maxy', got {type(text).__name__}")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise InvalidInput(f"aoi must be 'minx,miny,maxx,maxy' (4 comma-separated numbers), got {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(f"aoi must be 4 comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidInput(f"aoi numbers must be finite, got {text!r}")
    box = Bounds(*values)
    if not (box.minx < box.maxx and box.miny < box.maxy):
        raise InvalidInput(f"aoi must have minx < maxx and miny < maxy, got {text!r}")
    return box


def parse_crs(text: str) -> str:
    """Validate a CRS given as text (``"EPSG:4326"``, an OGC URI, WKT) and normalise it.

    Returns:
        ``"EPSG:<code>"`` when the CRS has an EPSG code, else its WKT.

    Raises:
        InvalidInput: if pyproj does not know the CRS.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("epsg must be a CRS such as 'EPSG:4326'")
    try:
        crs = pyproj.CRS.from_user_input(text.strip())
    except pyproj.exceptions.CRSError:
        raise InvalidInput(
            f"epsg {text!r} is not a known coordinate reference system (e.g. 'EPSG:4326')"
        ) from None
    code = crs.to_epsg(min_confidence=100)
    return f"EPSG:{code}" if code is not None else crs.to_wkt()


def check_bounds_in_crs(bounds: Bounds, crs: str) -> None:
    """Reject geographic boxes outside [-180, 180] x [-90, 90] (swapped lat/lon, typos).

    Raises:
        InvalidInput: with the offending numbers.
    """
    if pyproj.CRS.from_user_input(crs).is_geographic and (
        min(bounds.minx, bounds.maxx) < -180
        or max(bounds.minx, bounds.maxx) > 180
        or min(bounds.miny, bounds.maxy) < -90
        or max(bounds.miny, bounds.maxy) > 90
    ):
        raise InvalidInput(
            f"aoi {tuple(bounds)} is outside longitude [-180, 180] / latitude [-90, 90] "
            f"for {crs} (the order is minx=lon, miny=lat, maxx=lon, maxy=lat)"
        )


def aoi_window(dataset: DatasetReader | WarpedVRT, bounds: Bounds, bounds_crs: str, what: str = "") -> Window:
    """The pixel window of ``dataset`` covering ``bounds`` (given in ``bounds_crs``).

    The box is transformed with densified edges (a box in degrees is curved in UTM), the window
    grown to whole pixels (every pixel touching the box is in) and clipped to the dataset.

    Args:
        dataset: an open raster.
        bounds: the region.
        bounds_crs: CRS of ``bounds`` (anything rasterio accepts, e.g. ``"EPSG:4326"``).
        what: how to name the raster in errors (e.g. ``"item S2B_..."``).

    Raises:
        DataUnavailable: if the raster has no CRS or the region does not overlap it.
    """
    label = what or (dataset.name if hasattr(dataset, "name") else "the raster")
    if dataset.crs is None:
        raise DataUnavailable(f"{label} has no coordinate reference system")
    try:
        left, bottom, right, top = transform_bounds(
            CRS.from_user_input(bounds_crs), dataset.crs, *bounds, densify_pts=21
        )
    except RasterioError:
        raise DataUnavailable(f"the AOI {tuple(bounds)} cannot be expressed in the CRS of {label}") from None
    if not all(math.isfinite(v) for v in (left, bottom, right, top)):
        raise DataUnavailable(f"the AOI {tuple(bounds)} cannot be expressed in the CRS of {label}")
    win = from_bounds(left, bottom, right, top, transform=dataset.transform)
    col0 = math.floor(win.col_off + _SNAP)
    row0 = math.floor(win.row_off + _SNAP)
    col1 = math.ceil(win.col_off + win.width - _SNAP)
    row1 = math.ceil(win.row_off + win.height - _SNAP)
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, dataset.width), min(row1, dataset.height)
    if col1 <= col0 or row1 <= row0:
        raise DataUnavailable(f"the AOI {tuple(bounds)} ({bounds_crs}) does not intersect {label}")
    return Window(col0, row0, col1 - col0, row1 - row0)


def same_grid(a: DatasetReader, b: DatasetReader) -> bool:
    """Whether two rasters share CRS, pixel grid and size (pixel (r, c) is the same place)."""
    return (
        a.crs == b.crs
        and (a.width, a.height) == (b.width, b.height)
        and a.transform.almost_equals(b.transform, precision=1e-6 * abs(a.transform.a))
    )


def on_grid_of(source: DatasetReader, grid: DatasetReader, nodata: float) -> DatasetReader | WarpedVRT:
    """``source`` as seen on the pixel grid of ``grid``: itself if aligned, else a warped view.

    Misaligned bands (a 20 m band with a 10 m one, another UTM zone) are resampled onto
    ``grid``: bilinear when ``source`` is as coarse or coarser, averaged when it is finer (no
    aliasing); pixels ``source`` does not cover read as ``nodata``. The caller closes a
    returned VRT (it is a context manager).
    """
    if same_grid(source, grid):
        return source
    finer = source.crs == grid.crs and abs(source.res[0] * source.res[1]) < abs(grid.res[0] * grid.res[1])
    return WarpedVRT(
        source,
        crs=grid.crs,
        transform=grid.transform,
        width=grid.width,
        height=grid.height,
        src_nodata=nodata,
        nodata=nodata,
        resampling=Resampling.average if finer else Resampling.bilinear,
    )


def block_windows(
    window: Window, block_shape: tuple[int, int], max_pixels: int = 1 << 22
) -> Iterator[Window]:
    """Cut ``window`` into blocks aligned to the file's internal blocks, row-major.

    Blocks span whole internal tiles (so no tile is decoded twice) and hold at most about
    ``max_pixels`` pixels, so memory does not grow with the window. Wide rows of tiles are read
    in one call so GDAL can merge the range requests of neighbouring tiles.

    Args:
        window: integer window in the file's pixel grid.
        block_shape: the file's internal ``(rows, cols)`` block shape.
        max_pixels: target upper bound of pixels per block.
    """
    bh, bw = max(1, int(block_shape[0])), max(1, int(block_shape[1]))
    # Striped files report one-row (or few-row) blocks: read many strips at once.
    if bh < 256:
        bh *= math.ceil(256 / bh)
    cols_per_block = max(bw, (max_pixels // bh) // bw * bw)
    rows_per_block = max(bh, (max_pixels // min(cols_per_block, int(window.width))) // bh * bh)
    row0, col0 = int(window.row_off), int(window.col_off)
    row_end, col_end = row0 + int(window.height), col0 + int(window.width)
    r = row0
    while r < row_end:
        # Break on multiples of the internal block size, counted from the file's origin.
        r_next = min(row_end, (r // rows_per_block + 1) * rows_per_block)
        c = col0
        while c < col_end:
            c_next = min(col_end, (c // cols_per_block + 1) * cols_per_block)
            yield Window(c, r, c_next - c, r_next - r)
            c = c_next
        r = r_next


def read_blocks(
    sources: Sequence[tuple[DatasetReader | WarpedVRT, int]],
    blocks: Iterable[Window],
    env: rasterio.Env,
    read_ahead: int = 1,
) -> Iterator[tuple[Window, list[np.ndarray]]]:
    """Read every block from every ``(dataset, band)``, in order, reading ahead in threads.

    Each source gets its own reader thread, so the bands decode (or download) in parallel and
    the next block is fetched while the caller computes on the current one. A dataset handle
    is only ever used by its one thread (GDAL handles are not thread-safe). At most
    ``read_ahead + 1`` blocks per source are in memory (the one yielded and those ahead).

    Args:
        sources: datasets and 1-based band indexes, all on the same pixel grid.
        blocks: windows to read.
        env: the environment from :func:`raster_env` (re-entered in the reader threads).
        read_ahead: how many blocks to fetch ahead of the one being consumed (at least 1).

    Yields:
        ``(window, [array per source])``.
    """
    pools = [ThreadPoolExecutor(max_workers=1, thread_name_prefix="terrafuse-read") for _ in sources]
    pending: deque[tuple[Window, list[Future[np.ndarray]]]] = deque()
    todo = iter(blocks)

    def submit(block: Window) -> None:
        futures = [
            pool.submit(_read_in_env, env, ds, band, block)
            for pool, (ds, band) in zip(pools, sources, strict=True)
        ]
        pending.append((block, futures))

    try:
        for block in islice(todo, max(1, read_ahead)):
            submit(block)
        while pending:
            block, futures = pending.popleft()
            arrays = [f.result() for f in futures]
            following = next(todo, None)
            if following is not None:
                submit(following)
            yield block, arrays
    finally:
        # On early exit (error, cancellation) drop queued reads; running ones finish first.
        for _, futures in pending:
            for f in futures:
                f.cancel()
        for pool in pools:
            pool.shutdown(wait=True)


def _read_in_env(env: rasterio.Env, ds: DatasetReader | WarpedVRT, band: int, window: Window) -> np.ndarray:
    # Once an s3:// file was opened, the env's options hold the AWS credentials its session
    # resolved; rasterio refuses those as options (the session passes them on instead).
    options = {k: v for k, v in env.options.items() if not k.startswith("AWS_")}
    with rasterio.Env(session=env.session, **options):
        return ds.read(band, window=window)
