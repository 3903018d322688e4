"""Fixtures of the notification tests: a real SMTP server and a real HTTP receiver for the SMS
webhook, both on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.helpers import WebhookReceiver
from tests.support.smtp import smtp_server  # noqa: F401 - a fixture used by the tests here


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """The SMS webhook receiver for one test."""
    with WebhookReceiver() as receiver:
        yield receiver
