"""Storage billing (issue #3): the daily charge, deletion schedules, notices, cancellation and
deletion after the grace period, on SQLite and PostgreSQL, at explicit instants (no sleeps)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terrafuse.bootstrap import build_offline_platform, close_platform
from terrafuse.cli import app
from terrafuse.config import Settings
from terrafuse.core.accounts import Privilege
from terrafuse.core.clock import new_id
from terrafuse.core.credits import EntryKind
from terrafuse.core.data import Data, DataFile, FileState, file_key
from terrafuse.notifications.messages import format_bytes, format_time
from terrafuse.store.storage_billing import DeletionSchedules
from terrafuse.usecases.accounts import create_user
from terrafuse.usecases.credits import purchase
from terrafuse.usecases.executions import Platform
from terrafuse.usecases.storage_billing import run_storage_billing
from tests.support.postgres import free_port
from tests.support.smtp import SmtpServer

RATE = Decimal("0.5")
GRACE_DAYS = 7
T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def billing_settings(tmp_path: Path, database_url: str, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        storage_credits_per_gb_day=RATE,
        storage_grace_days=GRACE_DAYS,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def platform(tmp_path: Path, database_url: str) -> Iterator[Platform]:
    p = build_offline_platform(billing_settings(tmp_path, database_url))
    yield p
    close_platform(p)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailing_platform(tmp_path: Path, database_url: str, smtp: SmtpServer) -> Iterator[Platform]:
    """A platform that e-mails through the real SMTP server ``smtp``."""
    settings = billing_settings(tmp_path, database_url, smtp_host=smtp.host, smtp_port=smtp.port)
    p = build_offline_platform(settings)
    yield p
    close_platform(p)


@dataclass
class Stored:
    data_id: str
    key: str


def new_org(platform: Platform, namespace: str, credits: int = 0) -> str:
    org = platform.rt.organisations.create(namespace.title(), namespace).id
    if credits:
        purchase(platform.rt.credits, org, credits)
    return org


def store(platform: Platform, org: str, nbytes: int, at: datetime = T0) -> Stored:
    """A data item with one uploaded file billed as ``nbytes`` (the object itself is small)."""
    ctx = platform.data
    data_id, file_id = new_id(), new_id()
    ctx.store.add(Data(id=data_id, organisation_id=org, name="Region", created_at=at, updated_at=at))
    key = file_key(org, data_id, file_id, "region.tif")
    ctx.store.add_file(
        DataFile(
            id=file_id,
            data_id=data_id,
            organisation_id=org,
            file_name="region.tif",
            file_type="raster",
            object_key=key,
            state=FileState.AWAITING_UPLOAD,
            created_at=at,
            updated_at=at,
        )
    )
    ctx.storage.put_bytes(key, b"pixels")
    assert ctx.store.start_analysis(file_id, nbytes, at) is not None
    return Stored(data_id, key)


def storage_charges(platform: Platform, org: str) -> list[Decimal]:
    return [e.amount for e in platform.rt.credits.entries(org, kinds=[EntryKind.STORAGE_CHARGE])]


def test_charges_each_organisation_once_per_day(platform: Platform) -> None:
    nbytes = 1_234_567_891
    acme = new_org(platform, "acme", credits=100)
    idle = new_org(platform, "idle", credits=100)
    store(platform, acme, nbytes)

    first = run_storage_billing(platform, T0)
    again = run_storage_billing(platform, T0 + timedelta(hours=14))  # same UTC day
    assert first.charged == (acme,) and again.charged == ()
    expected = (Decimal(nbytes) / Decimal(10**9) * RATE).quantize(Decimal("0.000001"))
    assert expected == Decimal("0.617284")
    assert storage_charges(platform, acme) == [-expected]

    next_day = run_storage_billing(platform, T0 + timedelta(days=1))
    assert next_day.charged == (acme,) and next_day.day == "2026-03-11"
    assert storage_charges(platform, acme) == [-expected, -expected]
    assert platform.rt.credits.balance(acme).any_credits == Decimal(100) - 2 * expected
    assert storage_charges(platform, idle) == []  # stores nothing
    assert first.scheduled == next_day.scheduled == ()  # nobody ran out


def test_out_of_credits_schedules_deletion_and_notifies_once(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    broke = new_org(platform, "broke")
    new_org(platform, "empty")  # out of credits too, but stores nothing: no schedule
    store(platform, broke, 2_000_000_000)
    schedules = DeletionSchedules(platform.rt.db)

    with caplog.at_level(logging.WARNING, logger="terrafuse.usecases.storage_billing"):
        run = run_storage_billing(platform, T0)
    assert run.scheduled == run.notified == (broke,)
    assert [r for r in caplog.records if "out of credits" in r.getMessage() and broke in r.getMessage()]
    schedule = schedules.get(broke)
    assert schedule is not None and schedule.active
    assert schedule.scheduled_at == schedule.notified_at == T0
    assert schedule.delete_after == T0 + timedelta(days=GRACE_DAYS)
    assert [s.organisation_id for s in schedules.active()] == [broke]

    caplog.clear()
    later = run_storage_billing(platform, T0 + timedelta(days=1))
    assert later.scheduled == (broke,) and later.notified == ()
    assert not [r for r in caplog.records if "will be deleted" in r.getMessage()]
    assert schedules.get(broke) == schedule  # unchanged: same deadline, notified once


def test_buying_credits_cancels_the_deletion(platform: Platform) -> None:
    broke = new_org(platform, "broke")
    stored = store(platform, broke, 2_000_000_000)
    schedules = DeletionSchedules(platform.rt.db)
    run_storage_billing(platform, T0)

    purchase(platform.rt.credits, broke, 50)
    run = run_storage_billing(platform, T0 + timedelta(hours=2))
    assert run.cancelled == (broke,) and run.scheduled == ()
    schedule = schedules.get(broke)
    assert schedule is not None and not schedule.active
    assert schedule.cancelled_at == T0 + timedelta(hours=2)

    # Long after the old deadline nothing is deleted (credits last: 1 credit a day).
    late = run_storage_billing(platform, T0 + timedelta(days=GRACE_DAYS + 1))
    assert late.deleted == () and late.cancelled == ()
    assert platform.data.store.get(broke, stored.data_id) is not None
    assert platform.data.storage.exists(stored.key)

    # Running out again opens a new schedule, with a new notice.
    left = platform.rt.credits.balance(broke).any_credits
    assert left > 0
    when = T0 + timedelta(days=60)
    for day in range(GRACE_DAYS + 2, 61):  # bill daily until the credits are gone
        run = run_storage_billing(platform, T0 + timedelta(days=day))
        if run.scheduled:
            when = T0 + timedelta(days=day)
            break
    assert run.notified == (broke,)
    reopened = schedules.get(broke)
    assert reopened is not None and reopened.active and reopened.notified_at == when
    assert reopened.delete_after == when + timedelta(days=GRACE_DAYS)


def test_data_deleted_after_the_grace_period_only(platform: Platform) -> None:
    broke = new_org(platform, "broke")
    other = new_org(platform, "other", credits=100)
    doomed = [store(platform, broke, 1_000_000_000), store(platform, broke, 500)]
    kept = store(platform, other, 3_000_000_000)
    schedules = DeletionSchedules(platform.rt.db)
    run_storage_billing(platform, T0)

    for at in (T0 + timedelta(days=1), T0 + timedelta(days=GRACE_DAYS) - timedelta(seconds=1)):
        assert run_storage_billing(platform, at).deleted == ()
        for item in doomed:
            assert platform.data.store.get(broke, item.data_id) is not None
            assert platform.data.storage.exists(item.key)

    deadline = T0 + timedelta(days=GRACE_DAYS)
    run = run_storage_billing(platform, deadline)
    assert run.deleted == (broke,)
    for item in doomed:
        assert platform.data.store.get(broke, item.data_id) is None
        assert not platform.data.storage.exists(item.key)
    assert platform.data.stored_bytes(broke) == 0
    schedule = schedules.get(broke)
    assert schedule is not None and not schedule.active and schedule.deleted_at == deadline
    # The other organisation keeps everything.
    assert platform.data.store.get(other, kept.data_id) is not None
    assert platform.data.storage.exists(kept.key)
    assert platform.data.stored_bytes(other) == 3_000_000_000

    after = run_storage_billing(platform, deadline + timedelta(days=1))
    assert after == type(after)(
        day="2026-03-18", charged=(other,), scheduled=(), notified=(), cancelled=(), deleted=()
    )


def test_dispatcher_runs_periodic_jobs_at_most_once_per_interval(platform: Platform) -> None:
    dispatcher = platform.dispatcher
    calls: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    dispatcher.every(3600, "failing", fail, first_after=-1)
    dispatcher.every(3600, "billing", lambda: calls.append("billed"), first_after=-1)
    assert dispatcher.run_periodic(monotonic=10**9) == ["failing", "billing"]  # a failure stops nothing
    assert dispatcher.run_periodic(monotonic=10**9 + 3599) == []
    assert dispatcher.run_periodic(monotonic=10**9 + 3600) == ["failing", "billing"]
    assert calls == ["billed", "billed"]


def test_cli_storage_bill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()

    def bill(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["admin", "storage", "bill", *args, "--data-dir", str(data)])

    settings = Settings(data_dir=data)
    p = build_offline_platform(settings)
    try:
        broke = new_org(p, "broke")
        store(p, broke, 4_000_000_000)
    finally:
        close_platform(p)

    result = bill("--now", "2026-03-10T09:30:00")
    assert result.exit_code == 0, result.output
    assert "storage billing for 2026-03-10" in result.output
    assert f"out of credits (deletion scheduled): {broke}" in result.output
    assert f"notified: {broke}" in result.output
    result = bill("--now", "2026-03-17T09:30:00+00:00")
    assert result.exit_code == 0, result.output
    assert f"data deleted: {broke}" in result.output
    assert bill("--now", "yesterday").exit_code == 1


def member(platform: Platform, org: str, email: str, *privileges: Privilege, **prefs: object) -> str:
    user = create_user(platform.accounts, email, "Sup3r-secret!", given_name=email.split("@")[0].title())
    platform.accounts.memberships.set(user.id, org, set(privileges), T0)
    if prefs:
        platform.accounts.users.update(user.id, prefs, T0)
    return user.id


def test_out_of_credits_notice_is_e_mailed_to_managers_once(
    mailing_platform: Platform, smtp: SmtpServer
) -> None:
    p = mailing_platform
    nbytes = 2_345_000_000
    broke = new_org(p, "broke")
    rich = new_org(p, "rich", credits=100)
    store(p, broke, nbytes)
    store(p, rich, nbytes)
    member(p, broke, "mia@example.org", Privilege.VIEW, Privilege.MANAGE, time_zone="Asia/Tokyo")
    member(p, broke, "vic@example.org", Privilege.VIEW, Privilege.EXECUTE)  # no manage: not told
    member(p, broke, "quinn@example.org", Privilege.MANAGE, notification_account=[])  # opted out
    member(p, rich, "rita@example.org", Privilege.MANAGE)  # has credits: not told

    first = run_storage_billing(p, T0)
    second = run_storage_billing(p, T0 + timedelta(days=1))
    assert first.notified == (broke,) and second.notified == ()

    assert [m.rcpt_tos for m in smtp.messages] == [("mia@example.org",)]
    mail = smtp.messages[0].message
    assert mail["Subject"].startswith('"Broke" is out of credits')
    body = mail.get_content()
    deadline = T0 + timedelta(days=GRACE_DAYS)
    assert format_time(deadline, "Asia/Tokyo") in body  # in the manager's time zone
    assert "+09:00" in format_time(deadline, "Asia/Tokyo")
    assert format_bytes(nbytes) in body and format_bytes(nbytes) == "2.3 GB"


def test_a_broken_mail_server_does_not_stop_the_billing(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = billing_settings(tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=free_port())
    p = build_offline_platform(settings)
    try:
        broke = new_org(p, "broke")
        store(p, broke, 2_000_000_000)
        member(p, broke, "mia@example.org", Privilege.MANAGE)
        with caplog.at_level(logging.WARNING):
            run = run_storage_billing(p, T0)
        assert run.notified == (broke,)  # recorded as told: the log line went out
        schedule = DeletionSchedules(p.rt.db).get(broke)
        assert schedule is not None and schedule.notified_at == T0
        messages = [r.getMessage() for r in caplog.records]
        assert any("will be deleted" in m and broke in m for m in messages)
        assert any(m.startswith("email notification to user") for m in messages)
    finally:
        close_platform(p)
