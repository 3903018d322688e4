"""Delivery by a real SMTP server (aiosmtpd) and a real HTTP webhook, both on loopback."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest

from terrafuse.config import Settings
from terrafuse.errors import InvalidParameter
from terrafuse.notifications import DeliveryFailed, EmailSender, Notifications, SmtpConfig
from terrafuse.notifications.messages import Message, execution_finished
from tests.notifications.helpers import WebhookReceiver, make_user
from tests.support.postgres import free_port
from tests.support.smtp import SmtpServer, make_certificate

LOGGER = "terrafuse.notifications.service"
PHONE = "+44 141 555 0100"
MESSAGE = execution_finished(
    "Lake District clouds",
    "Cloud classification",
    "Acme",
    [("ex-1", 0, True, None), ("ex-2", 1, False, "x")],
    "g",
)


def settings(
    tmp_path: Path, smtp: SmtpServer | None = None, webhook: WebhookReceiver | None = None, **extra
) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        data_dir=tmp_path / "data",
        smtp_host=smtp.host if smtp else None,
        smtp_port=smtp.port if smtp else 25,
        sms_webhook_url=webhook.url if webhook else None,
        smtp_from="terrafuse <noreply@terrafuse.test>",
        **extra,
    )


@pytest.mark.parametrize(
    ("channels", "expected"),
    [(("email",), ["email"]), (("sms",), ["sms"]), (("email", "sms"), ["email", "sms"]), ((), [])],
)
def test_each_chosen_channel_and_only_those(
    tmp_path: Path,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
    channels: tuple[str, ...],
    expected: list[str],
) -> None:
    user = make_user(telephone=PHONE, notification_processing_chain=channels)
    notifications = Notifications.from_settings(settings(tmp_path, smtp_server, webhook))

    assert notifications.deliver(user, "processing_chain", MESSAGE) == expected
    assert len(smtp_server.messages) == (1 if "email" in channels else 0)
    assert len(webhook.posts) == (1 if "sms" in channels else 0)


def test_preferences_are_per_kind(tmp_path: Path, smtp_server: SmtpServer, webhook: WebhookReceiver) -> None:
    user = make_user(telephone=PHONE, notification_account=("email", "sms"), notification_processing_chain=())
    notifications = Notifications.from_settings(settings(tmp_path, smtp_server, webhook))

    assert notifications.deliver(user, "processing_chain", MESSAGE) == []
    assert smtp_server.messages == [] and webhook.posts == []
    assert notifications.deliver(user, "account", MESSAGE) == ["email", "sms"]
    with pytest.raises(InvalidParameter, match="processing_chain"):
        notifications.deliver(user, "notification_account", MESSAGE)


def test_the_e_mail(tmp_path: Path, smtp_server: SmtpServer) -> None:
    user = make_user(
        email="zoe@example.org",
        given_name="Zoë",
        family_name="Brontë-Łukasiewicz",
        notification_processing_chain=("email",),
    )
    message = execution_finished(
        "Überprüfung ☁", "Cloud classification", "Société Ærø", [("ex-9", None, True, None)]
    )
    before = datetime.now(UTC).replace(microsecond=0)
    assert Notifications.from_settings(settings(tmp_path, smtp_server)).deliver(
        user, "processing_chain", message
    ) == ["email"]

    (got,) = smtp_server.messages
    mail = got.message
    assert got.rcpt_tos == ("zoe@example.org",)
    assert got.mail_from == "noreply@terrafuse.test"
    assert mail["Subject"] == message.subject == 'Process "Überprüfung ☁" finished'
    assert mail["To"].addresses[0].display_name == "Zoë Brontë-Łukasiewicz"
    assert mail["To"].addresses[0].addr_spec == "zoe@example.org"
    assert parseaddr(str(mail["From"])) == ("terrafuse", "noreply@terrafuse.test")
    sent_at = parsedate_to_datetime(str(mail["Date"]))
    assert before <= sent_at <= datetime.now(UTC)
    assert str(mail["Message-ID"]).endswith("@terrafuse.test>")
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    body = mail.get_content().replace("\r\n", "\n")  # SMTP lines end in CRLF
    assert body.startswith(message.text)  # the text as given, UTF-8 intact
    assert "Société Ærø" in body and '"processing chain"' in body
    assert got.raw.isascii()  # headers and body were encoded for any mail server


def test_two_e_mails_have_distinct_message_ids(tmp_path: Path, smtp_server: SmtpServer) -> None:
    user = make_user(notification_account=("email",))
    notifications = Notifications.from_settings(settings(tmp_path, smtp_server))
    notifications.deliver(user, "account", MESSAGE)
    notifications.deliver(user, "account", MESSAGE)
    ids = {str(m.message["Message-ID"]) for m in smtp_server.messages}
    assert len(smtp_server.messages) == 2 and len(ids) == 2


def test_the_webhook_payload(tmp_path: Path, webhook: WebhookReceiver) -> None:
    user = make_user(telephone=PHONE, notification_processing_chain=("sms",))
    assert Notifications.from_settings(settings(tmp_path, webhook=webhook)).deliver(
        user, "processing_chain", MESSAGE
    ) == ["sms"]
    ((path, headers, body),) = webhook.posts
    assert path == "/sms"
    assert headers["Content-Type"] == "application/json"
    assert body == {"to": PHONE, "message": MESSAGE.sms_text}


def test_unconfigured_channels_are_skipped(
    tmp_path: Path, smtp_server: SmtpServer, webhook: WebhookReceiver
) -> None:
    both = make_user(telephone=PHONE, notification_account=("email", "sms"))
    nothing = Notifications.from_settings(settings(tmp_path))
    assert not nothing.enabled
    assert nothing.deliver(both, "account", MESSAGE) == []

    mail_only = Notifications.from_settings(settings(tmp_path, smtp=smtp_server))
    assert mail_only.deliver(both, "account", MESSAGE) == ["email"]
    sms_only = Notifications.from_settings(settings(tmp_path, webhook=webhook))
    assert sms_only.deliver(both, "account", MESSAGE) == ["sms"]

    no_phone = make_user(telephone=None, notification_account=("email", "sms"))
    full = Notifications.from_settings(settings(tmp_path, smtp_server, webhook))
    assert full.channels(no_phone, "account") == ["email"]
    assert full.deliver(no_phone, "account", MESSAGE) == ["email"]
    assert len(smtp_server.messages) == 2 and len(webhook.posts) == 1


def test_smtp_down_is_logged_not_raised(
    tmp_path: Path, webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    down = Settings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(), sms_webhook_url=webhook.url
    )
    user = make_user(telephone=PHONE, notification_account=("email", "sms"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert Notifications.from_settings(down).deliver(user, "account", MESSAGE) == ["sms"]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert "email" in record.getMessage() and user.id in record.getMessage()
    assert len(webhook.posts) == 1  # the other channel still went out


def test_a_silent_smtp_server_times_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        host, port = silent.getsockname()
        cfg = Settings(data_dir=tmp_path, smtp_host=host, smtp_port=port, callback_timeout=0.5)
        user = make_user(notification_account=("email",))
        start = time.monotonic()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert Notifications.from_settings(cfg).deliver(user, "account", MESSAGE) == []
        assert time.monotonic() - start < 5
    assert any("timed out" in r.getMessage() for r in caplog.records if r.name == LOGGER)


@pytest.mark.parametrize("status", [500, 404, 302])
def test_webhook_refusal_is_a_failure(
    tmp_path: Path, webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    webhook.status = status
    user = make_user(telephone=PHONE, notification_account=("sms",))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert (
            Notifications.from_settings(settings(tmp_path, webhook=webhook)).deliver(user, "account", MESSAGE)
            == []
        )
    assert len(webhook.posts) == 1
    assert any(f"HTTP {status}" in r.getMessage() for r in caplog.records if r.name == LOGGER)


def test_starttls_and_login(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path / "tls")
    with SmtpServer(certificate=cert, credentials=("mailer", "s3cret")) as server:

        def sender(password: str, starttls: bool = True) -> EmailSender:
            config = SmtpConfig(
                host=server.host,
                port=server.port,
                username="mailer",
                password=password,
                starttls=starttls,
                timeout=5,
            )
            return EmailSender(config, tls_context=cert.client_context())

        sender("s3cret").send("ann@example.org", MESSAGE)
        (got,) = server.messages
        assert got.tls and got.login == "mailer"

        with pytest.raises(DeliveryFailed, match=r"535|uthentication"):
            sender("wrong").send("ann@example.org", MESSAGE)
        with pytest.raises(DeliveryFailed):  # the server refuses AUTH before STARTTLS
            sender("s3cret", starttls=False).send("ann@example.org", MESSAGE)
        # The default context does not trust the self-signed certificate.
        untrusted = EmailSender(SmtpConfig(host=server.host, port=server.port, starttls=True, timeout=5))
        with pytest.raises(DeliveryFailed, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            untrusted.send("ann@example.org", MESSAGE)
        assert len(server.messages) == 1


def test_deliver_to_users_once_each(tmp_path: Path, smtp_server: SmtpServer) -> None:
    ann = make_user(email="ann@example.org", notification_account=("email",))
    bob = make_user(email="bob@example.org", notification_account=())
    done = Notifications.from_settings(settings(tmp_path, smtp_server)).deliver_to_users(
        [ann, bob, ann], "account", MESSAGE
    )
    assert done == {ann.id: ["email"], bob.id: []}
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ann@example.org",)]


def test_a_bad_sender_address_turns_e_mail_off(
    tmp_path: Path, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = settings(tmp_path, smtp_server).model_copy(update={"smtp_from": "no address here"})
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        notifications = Notifications.from_settings(cfg)
    assert notifications.email is None
    assert any("smtp_from" in r.getMessage() for r in caplog.records)
    user = make_user(notification_account=("email",))
    assert notifications.deliver(user, "account", Message("s", "t", "x")) == []
    assert smtp_server.messages == []
