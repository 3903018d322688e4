"""E-mail over SMTP (stdlib ``smtplib``): plain text, UTF-8, one connection per message.

A connection per message keeps the sender stateless, so building one per process run or billing
run costs nothing; notifications are few (one per group of executions, one per schedule).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING

from terrafuse.notifications.base import DeliveryFailed
from terrafuse.notifications.messages import Message

if TYPE_CHECKING:
    from terrafuse.config import Settings


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send e-mail (from the ``smtp_*`` settings)."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "terrafuse <noreply@localhost>"
    timeout: float = 10.0


class EmailSender:
    """Sends a :class:`Message` as a plain-text UTF-8 e-mail through one SMTP server.

    ``tls_context`` verifies the server during STARTTLS; the default trusts the system's CAs.
    """

    def __init__(self, config: SmtpConfig, tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._tls_context = tls_context
        name, addr = parseaddr(config.sender)
        if "@" not in addr:
            raise ValueError(f"smtp_from {config.sender!r} has no e-mail address")
        self._from_name, self._from_addr = name, addr
        self._domain = addr.rpartition("@")[2] or "localhost"

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSender | None:
        """The sender configured by ``settings``; None when e-mail is off (no ``smtp_host``)."""
        if not settings.smtp_host:
            return None
        return cls(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
                sender=settings.smtp_from,
                timeout=settings.callback_timeout,
            )
        )

    def build(
        self, to: str, message: Message, display_name: str = "", now: datetime | None = None
    ) -> EmailMessage:
        """The e-mail for ``to`` (with Date and Message-ID headers), not sent."""
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self._address(self._from_name, self._from_addr)
        mail["To"] = self._address(display_name, to)
        mail["Date"] = format_datetime(now or datetime.now(UTC))
        # An explicit domain: make_msgid's default asks DNS for this host's name, which can hang.
        mail["Message-ID"] = make_msgid(domain=self._domain)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to notices
        mail.set_content(message.text, charset="utf-8")
        return mail

    def send(self, to: str, message: Message, display_name: str = "") -> str:
        """Send the message to ``to``; returns its Message-ID.

        Raises:
            DeliveryFailed: the server could not be reached, refused the login or the message,
                or did not answer within the timeout.
        """
        mail = self.build(to, message, display_name)
        cfg = self.config
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
                if cfg.starttls:
                    smtp.starttls(context=self._tls_context or ssl.create_default_context())
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                smtp.send_message(mail, from_addr=self._from_addr, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, unreachable, timeout, TLS
            raise DeliveryFailed(f"SMTP {cfg.host}:{cfg.port}: {exc}") from exc
        return str(mail["Message-ID"])

    @staticmethod
    def _address(display_name: str, addr: str) -> Address | str:
        try:
            return Address(display_name=" ".join(display_name.split()), addr_spec=addr)
        except (ValueError, IndexError):  # an address the header parser cannot split: send it bare
            return addr
