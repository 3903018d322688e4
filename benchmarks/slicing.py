"""A Lake-District-sized cloud classification, sliced into a group, with 1 and with 2 Dask workers.

Starts a real ``terrafuse serve --demo`` for each worker count (same data folder, so the demo
imagery is generated once, at 20 m), uploads the Lake District region with the published Fusion
SDK, creates a "Demo: Sentinel-2 Cloud Classification" process for 2021-03-27 and runs it twice
(the first run warms the workers up), timing the second run from ``execute`` until every
execution of the group (the slices and the statistics aggregator) has ended. It does so at 20 m
(the service's default) and at 10 m pixels (four times the work per slice, same fixed costs).

Prints JSON: per resolution, how many executions the group had, wall seconds per worker count,
and ``speedup`` = 1 worker / 2 workers. Goal (issue #4): at least 1.7.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import fusion_platform
import psutil
from _server import ROOT, ServerProcess

from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD

OUT = ROOT / "benchmarks" / "out" / "slicing"
# The service's default pixel size, and Sentinel-2's native one for its visible and NIR bands.
RESOLUTIONS = (20, 10)


def _organisation(server: ServerProcess):  # type: ignore[no-untyped-def]
    user = fusion_platform.login(
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        api_url=f"{server.url}/api",
        session_options={"api_update_wait_period": 0.2},
    )
    return next(user.organisations)


def _process(organisation, resolution: int):  # type: ignore[no-untyped-def]
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
    process.update(option_name="resolution", value=resolution)
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


def _cpu_seconds(server: ServerProcess) -> float:
    """CPU time used so far by the server and its Dask workers (user + system)."""
    assert server.proc is not None
    root = psutil.Process(server.proc.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:  # a process that just ended
            continue
        total += times.user + times.system
    return total


def measure(workers: int) -> dict[int, dict]:
    """Per resolution: seconds of the timed (second) run and how many executions it had."""
    server = ServerProcess(OUT / "data", demo=True, env={"TERRAFUSE_DASK_WORKERS": str(workers)}).start(
        timeout=600
    )
    try:
        # Each run costs credits; the benchmark's organisation is topped up so reruns never run out.
        subprocess.run(
            [sys.executable, "-m", "terrafuse", "admin", "credits", "add", "--org", "acme",
             "--amount", "200", "--data-dir", str(OUT / "data"), "--note", "benchmark"],
            check=True, capture_output=True,
        )  # fmt: skip
        organisation = _organisation(server)
        figures = {}
        for resolution in RESOLUTIONS:
            process = _process(organisation, resolution)
            _run(process)  # warm-up: imports, GDAL caches, the first COG writes
            before = _cpu_seconds(server)
            seconds, executions = _run(process)
            cpu = _cpu_seconds(server) - before
            figures[resolution] = {
                "seconds": round(seconds, 2),
                "executions": executions,
                "cores_busy": round(cpu / seconds, 2),
            }
        return figures
    finally:
        server.stop()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TERRAFUSE_DEMO_RESOLUTION", "20")
    one = measure(1)
    two = measure(2)
    runs = [
        {
            "resolution_m": resolution,
            "executions": two[resolution]["executions"],
            "one_worker_seconds": one[resolution]["seconds"],
            "two_workers_seconds": two[resolution]["seconds"],
            "speedup": round(one[resolution]["seconds"] / two[resolution]["seconds"], 2),
            # Cores the server and its workers kept busy: the 1-worker run already uses more than
            # one (GDAL compresses COG blocks in threads), which bounds the speed-up on 2 cores.
            "one_worker_cores_busy": one[resolution]["cores_busy"],
            "two_workers_cores_busy": two[resolution]["cores_busy"],
        }
        for resolution in RESOLUTIONS
    ]
    print(
        json.dumps(
            {
                "benchmark": "slicing",
                "region": "Lake District (the SDK's example region), sliced at 600 km2",
                "service": "Demo: Sentinel-2 Cloud Classification over the 20 m demo scenes",
                "runs": runs,
                "goal_speedup": 1.7,
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
