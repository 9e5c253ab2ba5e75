"""The one channel-adapter interface, and the registry that picks an adapter per channel.

An adapter sends one :class:`~campaigns.models.Message` and answers a
:class:`SendResult` with the gateway's id for it, or raises :class:`TransientError`
(worth trying again later: a timeout, a 5xx, a busy mail server) or
:class:`PermanentError` (trying again cannot help: the gateway refused the message).
The error's text is kept on the message as ``last_error`` and shown to people, so it
is words, never a stack trace. Adapters do not retry: the dispatcher reschedules the
message (``campaigns.channels.dispatch``), so no worker ever sleeps.

Which adapter sends a channel is configuration: ``WORKBENCH_CHANNEL_ADAPTERS``
(``{"sms": "webhook", "email": "smtp"}``); every channel not named goes to the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from customers.models import mask_middle


@dataclass(frozen=True)
class SendResult:
    external_id: str


class ChannelError(Exception):
    """A send that did not work; ``str(exc)`` says why, in words."""


class TransientError(ChannelError):
    """Try again later."""


class PermanentError(ChannelError):
    """Trying again cannot help: the message fails."""


class Adapter(Protocol):
    name: str

    def send(self, message) -> SendResult: ...


DEFAULT_ADAPTER = "outbox"


def adapter_name_for(channel: str) -> str:
    """The configured adapter's name for ``channel`` (read at call time, never at import)."""
    return settings.WORKBENCH_CHANNEL_ADAPTERS.get(channel, DEFAULT_ADAPTER)


def recipient_masked(recipient: str) -> str:
    """A recipient as pages show it (docs/masking.md): a mobile number ``138****5678``,
    an e-mail address ``z***@bank.example``, any other address (a WeChat open id, a
    device token) its first and last characters only."""
    if not recipient:
        return "—"
    local, at, domain = recipient.partition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    if recipient.isdigit():
        return mask_middle(recipient, keep_start=3, keep_end=4)
    return mask_middle(recipient, keep_start=2, keep_end=2)
