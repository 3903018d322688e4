"""E-mail and text-message notifications: message texts, senders and per-user delivery.

Use :class:`Notifications` (``Notifications.from_settings(settings).deliver(user, kind, message)``)
with a message from :mod:`terrafuse.notifications.messages`.
"""

from terrafuse.notifications import messages
from terrafuse.notifications.base import DeliveryFailed
from terrafuse.notifications.email import EmailSender, SmtpConfig
from terrafuse.notifications.messages import ExecutionOutcome, Message
from terrafuse.notifications.service import KINDS, Notifications
from terrafuse.notifications.sms import SmsSender

__all__ = [
    "KINDS",
    "DeliveryFailed",
    "EmailSender",
    "ExecutionOutcome",
    "Message",
    "Notifications",
    "SmsSender",
    "SmtpConfig",
    "messages",
]
