"""A Lake-District-sized cloud classification, sliced into a group, with 1 and with 2 Dask workers.

Starts a real ``terrafuse serve --demo`` for each worker count (same data folder, so the demo
imagery is generated once, at 20 m), uploads the Lake District region with the published Fusion
SDK, creates a "Demo: Sentinel-2 Cloud Classification" process for 2021-03-27 and runs it twice
(the first run warms the workers up), timing the second run from ``execute`` until every
execution of the group (the slices and the statistics aggregator) has ended.

Prints JSON: how many executions the group had, wall seconds per worker count, and
``speedup`` = 1 worker / 2 workers. Goal (issue #4): at least 1.7.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import fusion_platform
from _server import ROOT, ServerProcess

from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD

OUT = ROOT / "benchmarks" / "out" / "slicing"


def _organisation(server: ServerProcess):  # type: ignore[no-untyped-def]
    user = fusion_platform.login(
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        api_url=f"{server.url}/api",
        session_options={"api_update_wait_period": 0.2},
    )
    return next(user.organisations)


def _process(organisation):  # type: ignore[no-untyped-def]
    region, _ = organisation.find_data(name="Lake District benchmark")
    if region is None:
        region = organisation.create_data(
            name="Lake District benchmark",
            file_type=fusion_platform.FILE_TYPE_GEOJSON,
            files=[fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE],
            wait=True,
        )
    service, _ = organisation.find_services(name="Demo: Sentinel-2 Cloud Classification")
    process = organisation.new_process(name=f"benchmark {time.time_ns()}", service=service)
    process.update(input_number=1, data=region)
    process.update(option_name="latest_date", value=False)
    process.update(option_name="start_date", value=datetime(2021, 3, 27, tzinfo=UTC))
    process.create()
    return process


def _run(process) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds from execute until every execution of the new firing ended; how many there were."""
    started = time.perf_counter()
    process.execute()
    while True:
        process.get(organisation_id=process.organisation_id)
        if process.process_status == "stop":  # back to stop once every execution has ended
            executions = list(process.executions)
            newest = max(e.started_at for e in executions)
            firing = [e for e in executions if e.started_at == newest]
            assert all(e.success for e in firing), [getattr(e, "abort_reason", None) for e in firing]
            return time.perf_counter() - started, len(firing)
        time.sleep(0.1)


def measure(workers: int) -> dict:
    server = ServerProcess(OUT / "data", demo=True, env={"TERRAFUSE_DASK_WORKERS": str(workers)}).start(
        timeout=600
    )
    try:
        organisation = _organisation(server)
        process = _process(organisation)
        _run(process)  # warm-up: imports, GDAL caches, the first COG writes
        seconds, executions = _run(process)
        return {"workers": workers, "seconds": round(seconds, 2), "executions": executions}
    finally:
        server.stop()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TERRAFUSE_DEMO_RESOLUTION", "20")
    one = measure(1)
    two = measure(2)
    print(
        json.dumps(
            {
                "benchmark": "slicing",
                "region": "Lake District (36,094-vertex polygon, EPSG:27700)",
                "service": "Demo: Sentinel-2 Cloud Classification, 20 m",
                "executions": two["executions"],
                "one_worker_seconds": one["seconds"],
                "two_workers_seconds": two["seconds"],
                "speedup": round(one["seconds"] / two["seconds"], 2),
                "goal_speedup": 1.7,
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
