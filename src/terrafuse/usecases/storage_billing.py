"""Storage billing: the daily storage charge and what happens when an organisation runs out.

:func:`run_storage_billing` is run by every server's dispatcher sweep (at most once an hour) and
by ``terrafuse admin storage bill``. Every step is idempotent, so any number of runs, on any
number of servers, have the effect of one:

1. every organisation storing bytes is charged one day of storage for the current UTC day
   (:func:`~terrafuse.usecases.credits.charge_storage_daily`: one charge per day);
2. an organisation whose balance is zero or less and that stores bytes gets a deletion schedule
   (``delete_after`` = now + ``storage_grace_days``) and is notified once (a log line, and a
   notice to its managers by e-mail/SMS per their ``account`` notification preferences);
3. a schedule whose organisation has credits again (or stores nothing any more) is cancelled;
4. once ``delete_after`` has passed, the organisation's data items, their files and their bytes
   are deleted (items a process uses are kept and retried later), and the schedule is closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from terrafuse.core.accounts import Privilege
from terrafuse.core.credits import DeletionSchedule
from terrafuse.notifications import Notifications
from terrafuse.notifications.messages import out_of_credits
from terrafuse.store.storage_billing import DeletionSchedules
from terrafuse.usecases.credits import charge_storage_daily, organisations_out_of_credits
from terrafuse.usecases.data import delete_organisation_data, stored_bytes

if TYPE_CHECKING:
    from terrafuse.usecases.executions import Platform

log = logging.getLogger(__name__)

BILLING_INTERVAL_SECONDS = 3600.0
"""How often a server's dispatcher sweep runs the storage billing."""
BILLING_FIRST_AFTER_SECONDS = 60.0
"""When a server's sweep first runs it after the server started."""


@dataclass(frozen=True)
class StorageBillingRun:
    """What one run of the storage billing did (organisation ids)."""

    day: str
    charged: tuple[str, ...]
    scheduled: tuple[str, ...]  # out of credits with stored bytes (newly or still)
    notified: tuple[str, ...]  # told this run (each schedule is told once)
    cancelled: tuple[str, ...]
    deleted: tuple[str, ...]  # data deleted this run (schedule closed)


def notify_deletion_scheduled(
    platform: Platform,
    organisation_id: str,
    schedule: DeletionSchedule,
    nbytes: int,
    notifications: Notifications | None = None,
) -> dict[str, list[str]]:
    """Tell the organisation its stored files will be deleted unless it buys credits.

    Operators see a warning log line; every member holding the ``manage`` privilege is told on
    the channels of their ``account`` notification preference, with times in their time zone.
    Returns user id -> channels that succeeded. Never raises: the schedule's ``notified_at``
    is already set, and a broken mail server must not stop the billing run.
    """
    log.warning(
        "organisation %s is out of credits: its %d stored bytes will be deleted after %s "
        "unless credits are bought",
        organisation_id,
        nbytes,
        schedule.delete_after.isoformat(),
    )
    told: dict[str, list[str]] = {}
    try:
        if notifications is None:
            notifications = Notifications.from_settings(platform.rt.settings)
        if not notifications.enabled:
            return told
        org = platform.rt.organisations.by_id(organisation_id)
        name = org.name if org is not None else organisation_id
        users = platform.accounts.users
        for membership, _email in platform.accounts.memberships.for_organisation(organisation_id):
            if Privilege.MANAGE not in membership.privileges:
                continue
            user = users.get(membership.user_id)
            if user is None:
                continue
            message = out_of_credits(name, nbytes, schedule.delete_after, time_zone=user.time_zone)
            told[user.id] = notifications.deliver(user, "account", message)
    except Exception:  # the notice is best effort; the log line above already went out
        log.exception("out-of-credits notice for organisation %s failed", organisation_id)
    return told


def run_storage_billing(
    platform: Platform, now: datetime, notifications: Notifications | None = None
) -> StorageBillingRun:
    """Charge today's storage, schedule, notify, cancel and carry out deletions (see module).

    ``notifications`` defaults to the channels configured in the platform's settings.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime given to the storage billing")
    settings = platform.rt.settings
    credits = platform.rt.credits
    ctx = platform.data
    schedules = DeletionSchedules(platform.rt.db)
    grace = timedelta(days=settings.storage_grace_days)

    run = charge_storage_daily(
        credits, lambda org: stored_bytes(ctx, org), settings.storage_credits_per_gb_day, now
    )
    broke = set(organisations_out_of_credits(credits))
    active = {s.organisation_id: s for s in schedules.active()}

    scheduled: list[str] = []
    notified: list[str] = []
    for org in sorted(broke):
        nbytes = stored_bytes(ctx, org)
        if nbytes <= 0:
            continue
        schedule = active.get(org) or schedules.schedule(org, now, now + grace)
        active[org] = schedule
        scheduled.append(org)
        if schedule.notified_at is None and schedules.mark_notified(org, now):
            notify_deletion_scheduled(platform, org, schedule, nbytes, notifications)
            notified.append(org)

    cancelled: list[str] = []
    deleted: list[str] = []
    for org, schedule in sorted(active.items()):
        if org not in scheduled:  # credits are back, or nothing is stored any more
            if schedules.cancel(org, now):
                log.info("storage deletion of organisation %s cancelled", org)
                cancelled.append(org)
            continue
        if now < schedule.delete_after:
            continue
        # Check once more right before deleting: credits may have been bought meanwhile.
        if credits.balance(org, months=1, now=now).any_credits > 0:
            continue
        gone, kept = delete_organisation_data(ctx, org)
        log.warning(
            "organisation %s out of credits since %s: deleted %d data item(s) after the grace period",
            org,
            schedule.scheduled_at.isoformat(),
            len(gone),
        )
        if kept:
            log.warning("organisation %s: %d data item(s) in use were kept", org, len(kept))
        elif schedules.mark_deleted(org, now):
            deleted.append(org)

    return StorageBillingRun(
        day=run.day,
        charged=tuple(e.organisation_id for e in run.charged),
        scheduled=tuple(scheduled),
        notified=tuple(notified),
        cancelled=tuple(cancelled),
        deleted=tuple(deleted),
    )
