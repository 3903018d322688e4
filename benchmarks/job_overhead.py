"""Job overhead of the platform, measured against a real server process on loopback.

Prints JSON with:
- ``async``: 200 asynchronous ``echo`` jobs submitted by 8 concurrent clients; jobs/s from the
  first submit until the last job is seen successful; per-job submit->successful latency from
  the server's own timestamps (``finished - created``).
- ``async_paced``: 200 jobs offered at a steady 50 jobs/s; server-side latency.
- ``async_sequential``: 50 jobs one at a time, each polled every 2 ms by the client; latency as
  the client sees it (POST sent -> status ``successful`` read).
- ``sync``: 200 sequential synchronous ``echo`` calls (client-side latency).
Goals (issue #2): async p50 < 30 ms, >= 100 jobs/s; sync p50 < 10 ms.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
from _server import ServerProcess

N_ASYNC = 200
N_SEQUENTIAL = 50
N_SYNC = 200
PACED_RATE = 50.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)]


def ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(pct(values, 0.5) * 1000, 2),
        "p95_ms": round(pct(values, 0.95) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", demo=False, log_level="warning").start()
        try:
            base = f"{server.url}/ogc-api"
            body = {"inputs": {"string_input": "teststring"}}
            with httpx.Client(timeout=30) as warm:  # warm up workers (imports, connections)
                for _ in range(20):
                    warm.post(
                        f"{base}/processes/echo/execution", json=body, headers={"Prefer": "respond-async"}
                    )
                time.sleep(1.0)

            # -- throughput and server-side latency under load
            clients = [httpx.Client(timeout=30) for _ in range(8)]

            def submit(i: int) -> str:
                r = clients[i % 8].post(
                    f"{base}/processes/echo/execution", json=body, headers={"Prefer": "respond-async"}
                )
                assert r.status_code == 201, r.text
                return r.headers["Location"]

            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                urls = list(pool.map(submit, range(N_ASYNC)))
            submitted = time.perf_counter() - started
            # Wait without hammering the server: one cheap job-list query every 20 ms.
            with httpx.Client(timeout=30) as c:
                while c.get(f"{base}/jobs", params={"status": "accepted,running", "limit": 1}).json()["jobs"]:
                    time.sleep(0.02)
                elapsed = time.perf_counter() - started
                infos = {url: c.get(url).json() for url in urls}
            # Server view: the first 'created' to the last 'finished' stamp.
            first_created = min(ts(i["created"]) for i in infos.values())
            last_finished = max(ts(i["finished"]) for i in infos.values())
            server_latency = [ts(i["finished"]) - ts(i["created"]) for i in infos.values()]
            failed = sum(1 for i in infos.values() if i["status"] != "successful")
            for c in clients:
                c.close()

            # -- paced: 200 jobs offered at 50 jobs/s (steady load, no burst queue)
            paced_urls = []
            with httpx.Client(timeout=30) as c:
                t_next = time.perf_counter()
                for _ in range(N_ASYNC):
                    t_next += 1 / PACED_RATE
                    paced_urls.append(
                        c.post(
                            f"{base}/processes/echo/execution", json=body, headers={"Prefer": "respond-async"}
                        ).headers["Location"]
                    )
                    time.sleep(max(t_next - time.perf_counter(), 0))
                while c.get(f"{base}/jobs", params={"status": "accepted,running", "limit": 1}).json()["jobs"]:
                    time.sleep(0.02)
                paced = [c.get(u).json() for u in paced_urls]
            paced_latency = [ts(i["finished"]) - ts(i["created"]) for i in paced]

            # -- client-observed latency, one job at a time
            seq: list[float] = []
            with httpx.Client(timeout=30) as c:
                for _ in range(N_SEQUENTIAL):
                    t0 = time.perf_counter()
                    url = c.post(
                        f"{base}/processes/echo/execution", json=body, headers={"Prefer": "respond-async"}
                    ).headers["Location"]
                    while c.get(url).json()["status"] != "successful":
                        time.sleep(0.002)
                    seq.append(time.perf_counter() - t0)

            # -- synchronous calls
            sync: list[float] = []
            with httpx.Client(timeout=30) as c:
                for _ in range(N_SYNC):
                    t0 = time.perf_counter()
                    r = c.post(f"{base}/processes/echo/execution", json=body)
                    sync.append(time.perf_counter() - t0)
                    assert r.status_code == 200 and r.text == "teststring"
        finally:
            server.stop()

    print(
        json.dumps(
            {
                "async": {
                    "jobs": N_ASYNC,
                    "failed": failed,
                    "concurrent_clients": 8,
                    "submit_seconds": round(submitted, 3),
                    "jobs_per_second": round(N_ASYNC / (last_finished - first_created), 1),
                    "jobs_per_second_client_observed": round(N_ASYNC / elapsed, 1),
                    "submit_to_successful_server": ms(server_latency),
                },
                "async_paced": {
                    "jobs": N_ASYNC,
                    "offered_jobs_per_second": PACED_RATE,
                    "submit_to_successful_server": ms(paced_latency),
                },
                "async_sequential": {"jobs": N_SEQUENTIAL, "submit_to_successful_client": ms(seq)},
                "sync": {"calls": N_SYNC, "latency_client": ms(sync)},
                "goals": {"async_p50_ms": 30, "jobs_per_second": 100, "sync_p50_ms": 10},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
