"""Delivering notifications to users on the channels they chose.

A user's preferences (``User.notification_<kind>``) list the channels, ``"email"`` and/or
``"sms"``, on which they want each kind of notification. :class:`Notifications` sends on every
chosen channel that the platform has configured, and never raises for a failed delivery: a broken
mail server must not fail an execution or a billing run, so failures are logged instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from terrafuse.core.accounts import NOTIFICATION_FIELDS, User
from terrafuse.errors import InvalidParameter
from terrafuse.notifications.base import DeliveryFailed
from terrafuse.notifications.email import EmailSender
from terrafuse.notifications.messages import Message
from terrafuse.notifications.sms import SmsSender

if TYPE_CHECKING:
    from terrafuse.config import Settings

log = logging.getLogger(__name__)

KINDS = tuple(name.removeprefix("notification_") for name in NOTIFICATION_FIELDS)
"""The kinds of notification: ``service_status``, ``account``, ``processing_chain``, ..."""
EMAIL, SMS = "email", "sms"


class Notifications:
    """Sends messages to users by e-mail and text message, per their preferences.

    Build it with :meth:`from_settings` (cheap: nothing connects until a message is sent). A
    channel whose sender is None is off and skipped.
    """

    def __init__(self, email: EmailSender | None = None, sms: SmsSender | None = None) -> None:
        self.email = email
        self.sms = sms

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifications:
        """E-mail when ``smtp_host`` is set, SMS when ``sms_webhook_url`` is set."""
        try:
            email = EmailSender.from_settings(settings)
        except ValueError as exc:  # a bad smtp_from: say so, and keep the other channel working
            log.error("e-mail notifications are off: %s", exc)
            email = None
        return cls(email=email, sms=SmsSender.from_settings(settings))

    @property
    def enabled(self) -> bool:
        """Whether any channel is configured."""
        return self.email is not None or self.sms is not None

    def channels(self, user: User, kind: str) -> list[str]:
        """The channels a message of ``kind`` would go out on to ``user`` (chosen and configured).

        Raises:
            InvalidParameter: ``kind`` is not one of :data:`KINDS`.
        """
        if kind not in KINDS:
            raise InvalidParameter(f"unknown notification kind {kind!r}: use one of {', '.join(KINDS)}")
        chosen = getattr(user, f"notification_{kind}")
        out = []
        if EMAIL in chosen and self.email is not None:
            out.append(EMAIL)
        if SMS in chosen and self.sms is not None and user.telephone:
            out.append(SMS)
        return out

    def deliver(self, user: User, kind: str, message: Message) -> list[str]:
        """Send ``message`` to ``user`` on each channel they chose for ``kind`` and the platform
        has configured (SMS also needs the user's telephone); returns the channels that succeeded.

        Failures are logged, never raised.

        Raises:
            InvalidParameter: ``kind`` is not one of :data:`KINDS` (a programming error).
        """
        sent = []
        for channel in self.channels(user, kind):
            try:
                self._send(channel, user, kind, message)
            except DeliveryFailed as exc:
                log.warning("%s notification to user %s failed: %s", channel, user.id, exc)
                continue
            except Exception:  # a bug in a sender must not break the caller either
                log.exception("%s notification to user %s failed", channel, user.id)
                continue
            sent.append(channel)
        return sent

    def _send(self, channel: str, user: User, kind: str, message: Message) -> None:
        if channel == EMAIL and self.email is not None:
            mail = Message(message.subject, message.text + _footer(kind), message.sms_text)
            self.email.send(user.email, mail, _display_name(user))
        elif channel == SMS and self.sms is not None and user.telephone:
            self.sms.send(user.telephone, message.sms_text)

    def deliver_to_users(self, users: Iterable[User], kind: str, message: Message) -> dict[str, list[str]]:
        """:meth:`deliver` to each user (once per user id); returns user id -> channels that succeeded."""
        done: dict[str, list[str]] = {}
        for user in users:
            if user.id not in done:
                done[user.id] = self.deliver(user, kind, message)
        return done


def _display_name(user: User) -> str:
    return " ".join(part for part in (user.given_name, user.family_name) if part)


def _footer(kind: str) -> str:
    label = kind.replace("_", " ")
    return (
        f'You get this e-mail because e-mail notifications for "{label}" are on in your account settings.\n'
    )
