"""The development adapter: a message "sent" to the outbox stays in the database, where
the outbox page shows it (``campaigns:outbox``). Nothing leaves the machine."""

from __future__ import annotations

from .base import SendResult


class OutboxAdapter:
    name = "outbox"

    def send(self, message) -> SendResult:
        return SendResult(external_id=f"outbox-{message.pk}")
