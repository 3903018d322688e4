"""What the senders share: the failure they raise."""

from __future__ import annotations


class DeliveryFailed(Exception):
    """A message could not be handed to the mail server or the SMS gateway (the text says why)."""
