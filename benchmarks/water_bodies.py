"""Water-bodies job on the seed AOI at 10 m, against a real server, versus merely reading its input.

Prints JSON with:
- ``job_seconds``: POST (async) -> status successful, as the client sees it (polled every 0.1 s),
  and the server's own ``finished - started``.
- ``read_seconds``: the time to read the same input windows (green and nir of both items, over
  HTTP range requests from the same server, with the same GDAL settings) one after another in
  one process; ``read_seconds_parallel``: the two items read in two processes at once.
- ``ratio``: job_seconds / read_seconds. Goal (issue #2): at most 1.5.

The 10 m demo scenes are generated on the first run into ``benchmarks/out/`` (kept for reuse).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

import httpx
from _server import ROOT, ServerProcess
from tests.support.http import find_stac_items

from terrafuse.demo.catalog import SEED_AOI, SEED_ITEM_IDS
from terrafuse.ingest.raster import aoi_window, open_raster, parse_aoi, raster_env
from terrafuse.ingest.stac import fetch_item, find_band_asset

OUT = ROOT / "benchmarks" / "out"
WARMUP_AOI = "-121.0,40.0,-120.99,40.01"


def read_item_windows(item_url: str) -> tuple[int, float]:
    """Read the AOI window of green and nir of one item; returns (pixels, seconds)."""
    started = time.perf_counter()
    pixels = 0
    with raster_env():
        ref = fetch_item(item_url)
        for band in ("green", "nir"):
            asset = find_band_asset(ref, band)
            with open_raster(asset.href) as ds:
                window = aoi_window(ds, parse_aoi(SEED_AOI), "EPSG:4326")
                data = ds.read(asset.band, window=window)
                pixels += data.size
    return pixels, time.perf_counter() - started


def run_job(base: str, urls: list[str], aoi: str) -> tuple[str, dict]:
    """Submit a water-bodies job and poll it (every 0.1 s) until it ends."""
    body = {"inputs": {"stac_items": urls, "aoi": aoi, "epsg": "EPSG:4326", "bands": ["green", "nir"]}}
    headers = {"Prefer": "respond-async;return=representation"}
    r = httpx.post(f"{base}/acme/ogc-api/processes/water-bodies/execution", json=body, headers=headers)
    r.raise_for_status()
    job_url = r.headers["Location"]
    while (info := httpx.get(job_url, timeout=30).json())["status"] not in ("successful", "failed"):
        time.sleep(0.1)
    return job_url, info


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    env = {"TERRAFUSE_DEMO_RESOLUTION": "10"}
    t0 = time.perf_counter()
    server = ServerProcess(OUT / "data-10m", demo=True, env=env, log_level="warning").start(timeout=1800)
    startup = time.perf_counter() - t0
    try:
        items = find_stac_items(f"{server.url}/stac/catalog.json")
        urls = [items[i] for i in SEED_ITEM_IDS]

        # Warm the OS page cache the same way for both measurements: read once, untimed.
        for url in urls:
            read_item_windows(url)
        reads = [read_item_windows(url) for url in urls]
        read_seconds = sum(s for _, s in reads)
        pixels = sum(p for p, _ in reads)
        # spawn, not fork: a forked child would share the parent's GDAL/curl state.
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(read_item_windows, urls))  # start and warm the two processes
            t = time.perf_counter()
            list(pool.map(read_item_windows, urls))
            read_parallel = time.perf_counter() - t

        body = {
            "inputs": {"stac_items": urls, "aoi": SEED_AOI, "epsg": "EPSG:4326", "bands": ["green", "nir"]}
        }
        headers = {"Prefer": "respond-async;return=representation"}
        t = time.perf_counter()
        r = httpx.post(
            f"{server.url}/acme/ogc-api/processes/water-bodies/execution", json=body, headers=headers
        )
        r.raise_for_status()
        job_url = r.headers["Location"]
        while (info := httpx.get(job_url, timeout=30).json())["status"] not in ("successful", "failed"):
            time.sleep(0.1)
        job_seconds = time.perf_counter() - t
        if info["status"] != "successful":
            raise SystemExit(f"job failed: {info.get('message')}")
        results = httpx.get(f"{job_url}/results", timeout=30).json()
        shapes = [f["properties"]["proj:shape"] for f in results["stac_catalog"]["value"]["features"]]
    finally:
        server.stop()

    print(
        json.dumps(
            {
                "aoi": SEED_AOI,
                "resolution_m": 10,
                "items": len(urls),
                "mask_shapes": shapes,
                "input_pixels_read": pixels,
                "job_seconds": round(job_seconds, 2),
                "job_seconds_server": round(ts(info["finished"]) - ts(info["started"]), 2),
                "queued_seconds": round(ts(info["started"]) - ts(info["created"]), 3),
                "read_seconds": round(read_seconds, 2),
                "read_seconds_parallel": round(read_parallel, 2),
                "ratio": round(job_seconds / read_seconds, 2),
                "ratio_vs_parallel_read": round(job_seconds / read_parallel, 2),
                "goal_ratio": 1.5,
                "cpu_count": os.cpu_count(),
                "server_startup_seconds": round(startup, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
