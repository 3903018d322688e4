"""Text messages through an HTTP webhook (``sms_webhook_url``): POST ``{"to", "message"}`` as JSON.

The webhook is whatever the operator runs in front of an SMS provider; any 2xx answer means the
message was accepted. Redirects are not followed: a POST turned into a GET would lose the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests

from terrafuse.notifications.base import DeliveryFailed

if TYPE_CHECKING:
    from terrafuse.config import Settings


class SmsSender:
    """Posts text messages to one webhook URL."""

    def __init__(self, url: str, timeout: float = 10.0, session: requests.Session | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self._http = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsSender | None:
        """The sender configured by ``settings``; None when text messages are off."""
        if not settings.sms_webhook_url:
            return None
        return cls(settings.sms_webhook_url, timeout=settings.callback_timeout)

    def send(self, to: str, text: str) -> None:
        """Send ``text`` to the telephone number ``to``.

        Raises:
            DeliveryFailed: the webhook could not be reached, timed out or answered other than 2xx.
        """
        try:
            response = self._http.post(
                self.url, json={"to": to, "message": text}, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"SMS webhook: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"SMS webhook answered HTTP {response.status_code}")
