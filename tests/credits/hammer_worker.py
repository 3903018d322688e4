"""The body of the credit hammer, importable by spawned processes (module-level, picklable)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

from terrafuse.store.credits import Credits
from terrafuse.store.db import Database


def hammer(dbs: list[Database], org: str, amount: Decimal, threads: int, attempts: int, tag: str) -> int:
    """``threads`` threads each try ``attempts`` reservations (threads spread over ``dbs``)."""
    start = threading.Barrier(threads)
    wins = [0] * threads

    def run(index: int) -> None:
        repo = Credits(dbs[index % len(dbs)])
        start.wait()
        for attempt in range(attempts):
            if repo.reserve(org, amount, f"{tag}-{index}-{attempt}"):
                wins[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(wins)


def process_main(args: tuple[str, str, str, int, int, str], ready: Any, results: Any) -> None:
    """One "server" process: its own Database; waits at ``ready`` for the other, then hammers."""
    url, org, amount, threads, attempts, tag = args
    db = Database(url)
    try:
        db.engine.connect().close()  # connect before the start line, not in the race
        ready.wait()
        began = time.perf_counter()
        won = hammer([db], org, Decimal(amount), threads, attempts, tag)
        results.put((won, time.perf_counter() - began))
    finally:
        db.dispose()
