"""The composition root: the one place that picks concrete backends from settings."""

from __future__ import annotations

import functools
import logging

from terrafuse.config import Settings
from terrafuse.core.clock import utcnow
from terrafuse.engine.runner import Runtime
from terrafuse.services.registry import builtin_registry
from terrafuse.storage.local import LocalObjectStore
from terrafuse.store.credits import Credits
from terrafuse.store.db import Database
from terrafuse.store.executions import Executions
from terrafuse.store.organisations import Organisations
from terrafuse.usecases.accounts import Accounts, ensure_demo_account
from terrafuse.usecases.credits import purchase
from terrafuse.usecases.executions import Platform
from terrafuse.usecases.firings import (
    execution_ended,
    expire_executions,
    scheduler_tick,
)
from terrafuse.usecases.storage_billing import (
    BILLING_FIRST_AFTER_SECONDS,
    BILLING_INTERVAL_SECONDS,
    run_storage_billing,
)

log = logging.getLogger(__name__)

DEMO_CREDITS = 1000


def public_url(settings: Settings) -> str:
    """Where clients reach the server (for URLs sent outside a request, such as callbacks)."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def build_runtime(settings: Settings, migrate: bool = True) -> Runtime:
    """Database, object store, service registry and notifier, from settings."""
    db = Database(settings.resolved_database_url)
    if migrate:
        db.migrate()
    rt = Runtime(
        settings=settings,
        db=db,
        executions=Executions(db),
        organisations=Organisations(db),
        storage=LocalObjectStore(settings.resolved_storage_dir, settings.secret_bytes()),
        registry=builtin_registry(),
        credits=Credits(db),
    )
    from terrafuse.api.ogc.callbacks import OgcCallbacks

    rt.notifier = OgcCallbacks(rt, public_url(settings))
    rt.after_end = functools.partial(execution_ended, rt)
    return rt


def build_accounts(rt: Runtime) -> Accounts:
    """The account use cases' context (sign-in keys its id tokens with the settings secret)."""
    return Accounts(rt.db, rt.settings.secret_bytes(), rt.organisations)


def build_platform(settings: Settings) -> Platform:
    """Everything the API server needs: runtime, Dask executor, dispatcher (recovery done)."""
    from terrafuse.engine.dask import DaskExecutor
    from terrafuse.engine.dispatcher import Dispatcher

    rt = build_runtime(settings)
    accounts = build_accounts(rt)
    public = rt.organisations.ensure("Public", settings.default_namespace, allow_anonymous=True)
    if settings.demo:
        acme = rt.organisations.ensure("Acme", "acme", allow_anonymous=True)
        ensure_demo_account(accounts, acme)
        # Demo credits, granted once (the reference makes a second start add nothing). The
        # public namespace gets some too: anonymous OGC jobs of catalogue services are paid for.
        purchase(rt.credits, acme.id, DEMO_CREDITS, reference="demo-grant", note="demo credits")
        purchase(rt.credits, public.id, DEMO_CREDITS, reference="demo-grant-public", note="demo credits")
    executor = DaskExecutor(settings)
    dispatcher = Dispatcher(rt, executor)
    # A cluster we just started cannot be running anything from before: settle those at once.
    counts = dispatcher.recover(all_running_lost=executor.owns_cluster)
    if any(counts.values()):
        log.warning("recovered executions from a previous run: %s", counts)
    platform = Platform(rt=rt, dispatcher=dispatcher, accounts=accounts)
    # Every server bills storage hourly (idempotent: one charge per organisation and day), the
    # first time a minute after starting.
    dispatcher.every(
        BILLING_INTERVAL_SECONDS,
        "storage-billing",
        lambda: run_storage_billing(platform, utcnow()),
        first_after=BILLING_FIRST_AFTER_SECONDS,
    )
    # Scheduled processes fire from every server's sweep; a compare-and-set makes each firing once.
    dispatcher.every(settings.scheduler_tick_seconds, "scheduler", lambda: scheduler_tick(platform))
    dispatcher.every(settings.expiry_sweep_seconds, "execution-expiry", lambda: expire_executions(platform))
    dispatcher.start()
    return platform


class _OfflineExecutor:
    """The executor of a platform that runs no executions (operator commands): submitted
    executions stay accepted for a server's dispatcher to pick up."""

    def submit(self, execution_id: str) -> None:
        """Leave the execution queued."""

    def wait(self, execution_id: str, timeout: float) -> bool:
        """Nothing runs here."""
        return False

    def cancel(self, execution_id: str) -> None:
        """Nothing runs here."""

    def close(self) -> None:
        """Nothing to release."""


def build_offline_platform(settings: Settings) -> Platform:
    """A platform for operator commands: database and object store, no cluster, no sweep.

    Close it with :func:`close_platform`.
    """
    from terrafuse.engine.dispatcher import Dispatcher

    rt = build_runtime(settings)
    return Platform(rt=rt, dispatcher=Dispatcher(rt, _OfflineExecutor()), accounts=build_accounts(rt))


def close_platform(platform: Platform) -> None:
    """Stop the dispatcher and the executor, close the database."""
    platform.dispatcher.stop()
    platform.dispatcher.executor.close()
    platform.rt.db.dispose()
