"""A real SMTP server (aiosmtpd) on loopback for tests, collecting the messages it receives.

Optional STARTTLS (with a self-signed certificate for 127.0.0.1 made by :func:`make_certificate`)
and AUTH LOGIN/PLAIN with one user name and password.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.postgres import free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it: envelope, parsed message, raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    tls: bool  # whether the session had been upgraded with STARTTLS
    login: str | None  # the user name the client logged in with


class _Collector:
    def __init__(self, sink: list[ReceivedMail]) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.sink.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=parsed,
                raw=raw,
                tls=session.ssl is not None,
                login=login,
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost (PEM files)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """What the server presents."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """Write a fresh self-signed certificate (and key) for 127.0.0.1 into ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = Certificate(folder / "smtp-cert.pem", folder / "smtp-key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>; ``messages`` lists what it received, in order.

    With ``certificate`` it offers STARTTLS; with ``credentials`` (user, password) it accepts
    AUTH, only after STARTTLS when a certificate is given (aiosmtpd's default rule).
    """

    def __init__(
        self, certificate: Certificate | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.credentials = credentials
        kwargs: dict[str, Any] = {}
        if certificate is not None:
            kwargs["tls_context"] = certificate.server_context()
        if credentials is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = certificate is not None
        self._controller = Controller(
            _Collector(self.messages), hostname=self.host, port=self.port, enable_SMTPUTF8=True, **kwargs
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.credentials is not None
            and (data.login.decode(), data.password.decode()) == self.credentials
        )
        # handled=False: aiosmtpd answers 235 or 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on loopback for one test."""
    with SmtpServer() as server:
        yield server
