"""Completion e-mails through a real SMTP server (aiosmtpd on loopback): one per group of slices,
to the user who executed the process, and none to a user who turned them off."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from terrafuse.usecases.accounts import DEMO_EMAIL
from tests.support.server import ServerProcess
from tests.support.smtp import ReceivedMail, SmtpServer

from .conftest import (
    CHEAP,
    CLOUDS,
    ELEVATION,
    GLASGOW,
    LAKE_DISTRICT,
    Api,
    new_tenant,
    ok,
    run_process,
    services_by_name,
    upload_region,
    wait_for,
)

pytestmark = pytest.mark.e2e
# After the last e-mail we expect, how long a duplicate would have had to arrive: every member of
# the group has ended by then, and each sends (if it sends) as it ends.
QUIET_PERIOD = 2.0


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def server_env(smtp: SmtpServer) -> dict[str, str]:
    return {
        "TERRAFUSE_SMTP_HOST": smtp.host,
        "TERRAFUSE_SMTP_PORT": str(smtp.port),
        "TERRAFUSE_DASK_WORKERS": "2",
        "TERRAFUSE_EXPIRY_SWEEP_SECONDS": "1",
    }


def _to(smtp: SmtpServer, email: str) -> list[ReceivedMail]:
    return [m for m in smtp.messages if email in m.rcpt_tos]


def test_one_email_per_group_and_none_for_a_user_who_opted_out(
    server: ServerProcess, smtp: SmtpServer, me: Api
) -> None:
    services = services_by_name(me)
    # A user who turned completion e-mails off runs a process first.
    quiet = new_tenant(server, "quiet", credits="20")
    user = ok(quiet.raw.get(f"/users/{quiet.user_id}"))["model"]
    assert "email" in user["notification_processing_chain"]  # on by default
    changed = ok(
        quiet.raw.patch(f"/users/{quiet.user_id}", json={"User[notification_processing_chain]": "[]"})
    )["model"]
    assert changed["notification_processing_chain"] == []
    assert ok(quiet.raw.get(f"/users/{quiet.user_id}"))["model"]["notification_processing_chain"] == []
    region = upload_region(quiet, "Glasgow", GLASGOW)
    _, executions = run_process(quiet, "Quiet elevation", services[ELEVATION]["id"], region, CHEAP)
    assert [e["success"] for e in executions] == [True]

    # Then the demo user runs a sliced process: one e-mail for the whole group.
    lake = upload_region(me, "Lake District", LAKE_DISTRICT)
    process, executions = run_process(me, "Notified clouds", services[CLOUDS]["id"], lake, CHEAP)
    count = executions[0]["group_count"]
    assert count >= 3 and len(executions) == count and all(e["success"] for e in executions)
    (mail,) = wait_for(lambda: _to(smtp, DEMO_EMAIL), 30, "the completion e-mail")
    time.sleep(QUIET_PERIOD)
    assert len(_to(smtp, DEMO_EMAIL)) == 1, [m.message["Subject"] for m in _to(smtp, DEMO_EMAIL)]
    assert _to(smtp, quiet.email) == []
    assert len(smtp.messages) == 1, [(m.rcpt_tos, m.message["Subject"]) for m in smtp.messages]

    subject = mail.message["Subject"]
    assert "Notified clouds" in subject and f"all {count - 1} slices succeeded" in subject, subject
    text = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert executions[0]["group_id"] in text
    for execution in executions:
        assert execution["id"] in text
    assert process["name"] == "Notified clouds"


def test_an_expiring_execution_is_warned_about_once_then_deleted(
    server: ServerProcess, smtp: SmtpServer, me: Api
) -> None:
    """Moving an execution's deletion time close: one warning e-mail, then the execution and its
    outputs are deleted by the server's sweep (the process and its region stay)."""
    services = services_by_name(me)
    region = upload_region(me, "Glasgow to expire", GLASGOW)
    process, (execution,) = run_process(me, "Short-lived", services[ELEVATION]["id"], region, CHEAP)
    components = me.items(f"/process_executions/{execution['id']}/process_service_executions")
    outputs = [o for c in components for o in c["outputs"] or []]
    assert outputs and all(ok(me.get(f"/data/{d}"))["model"]["id"] == d for d in outputs)
    expiry = datetime.now(UTC) + timedelta(seconds=6)
    body = {"ProcessExecution": {"delete_expiry": expiry.isoformat()}}
    ok(me.post(f"/process_executions/{execution['id']}/change_delete_expiry", json=body))

    def warnings() -> list[ReceivedMail]:
        return [m for m in _to(smtp, DEMO_EMAIL) if "Short-lived" in m.message.get_body().get_content()
                and "will be deleted" in m.message.get_body().get_content()]  # fmt: skip

    (mail,) = wait_for(warnings, 10, "the expiry warning")
    assert execution["id"] in mail.message.get_body(preferencelist=("plain",)).get_content()
    wait_for(lambda: me.get(f"/process_executions/{execution['id']}").status_code == 404, 30, "the deletion")
    assert time.time() >= expiry.timestamp()
    for data_id in outputs:
        assert me.get(f"/data/{data_id}").status_code == 404
    assert me.process(process["id"])["executions"] == []
    assert ok(me.get(f"/data/{region}"))["model"]["id"] == region
    time.sleep(QUIET_PERIOD)
    assert len(warnings()) == 1
