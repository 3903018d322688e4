"""Concurrent reservations never overdraw: threads on two "servers", and two processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from decimal import Decimal

from terrafuse.core.credits import EntryKind
from terrafuse.store.credits import Credits
from terrafuse.store.db import Database
from tests.credits.hammer_worker import hammer, process_main

THREADS = 16
ATTEMPTS = 25


def _check_ledger(credits: Credits, org: str, funded: Decimal, amount: Decimal, won: int) -> None:
    balance = credits.balance(org)
    assert balance.any_credits == Decimal("0.000000")
    assert balance.reserved == funded
    assert credits.ledger_sum(org) == balance.any_credits
    holds = credits.entries(org, kinds=[EntryKind.RESERVATION])
    assert len(holds) == won
    assert sum(e.amount for e in holds) == -funded
    assert all(e.amount == -amount for e in holds)


def test_threads_on_two_servers_never_overdraw(db: Database, credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 100)
    second = Database(db.url)  # another server on the same database
    lowest: list[Decimal] = []
    done = threading.Event()

    def watch() -> None:  # the balance must never be seen below zero
        while not done.is_set():
            lowest.append(credits.balance(org).any_credits)

    watcher = threading.Thread(target=watch)
    watcher.start()
    began = time.perf_counter()
    try:
        won = hammer([db, second], org, Decimal(1), THREADS, ATTEMPTS, "t")
    finally:
        done.set()
        watcher.join()
        second.dispose()
    elapsed = time.perf_counter() - began
    print(f"\n[{db.engine.dialect.name}] threads: {THREADS * ATTEMPTS} attempts, {won} won, {elapsed:.2f} s")
    assert won == 100
    assert lowest and min(lowest) >= 0
    _check_ledger(credits, org, Decimal(100), Decimal(1), won)


def test_two_processes_never_overdraw_in_fractions(db: Database, credits: Credits, org: str) -> None:
    # 10 credits held 0.1 at a time: exactly 100 holds, if the arithmetic is exact everywhere.
    credits.add(org, EntryKind.PURCHASE, Decimal("10"))
    threads, attempts = THREADS // 2, ATTEMPTS
    ctx = multiprocessing.get_context("spawn")
    ready, queue = ctx.Barrier(2), ctx.Queue()
    servers = [
        ctx.Process(
            target=process_main, args=((db.url, org, "0.1", threads, attempts, f"p{i}"), ready, queue)
        )
        for i in range(2)
    ]
    for server in servers:
        server.start()
    results = [queue.get(timeout=120) for _ in servers]
    for server in servers:
        server.join(timeout=30)
        assert server.exitcode == 0
    won = sum(r[0] for r in results)
    print(
        f"\n[{db.engine.dialect.name}] processes: {2 * threads * attempts} attempts, {won} won, "
        f"{max(r[1] for r in results):.2f} s"
    )
    assert won == 100
    _check_ledger(credits, org, Decimal(10), Decimal("0.1"), won)


def test_concurrent_settles_charge_once(db: Database, credits: Credits, org: str) -> None:
    credits.add(org, EntryKind.PURCHASE, 50)
    refs = [f"exec-{i}" for i in range(10)]
    for ref in refs:
        assert credits.reserve(org, 5, ref)
    second = Credits(Database(db.url))
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def settle(repo: Credits) -> None:
        start.wait()
        for ref in refs:
            outcomes.append(repo.settle(ref, Decimal("3.5")))
            outcomes.append(repo.release(ref))

    workers = [threading.Thread(target=settle, args=(credits if i % 2 else second,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    second.db.dispose()
    closed = [o for o in outcomes if o is not None]
    assert len(closed) == len(refs)  # each hold closed exactly once, by a settle or a release
    balance = credits.balance(org)
    charges = credits.entries(org, kinds=[EntryKind.EXECUTION_CHARGE])
    assert balance.reserved == 0
    assert balance.any_credits == Decimal(50) + sum(e.amount for e in charges)
    assert credits.ledger_sum(org) == balance.any_credits
    assert len(credits.entries(org, kinds=[EntryKind.RELEASE])) == len(refs)
