"""Surveillance of call notes and AI-bot transcripts: the entry point other features call.

``request_scan`` (contract, CONTRACTS.md) stores nothing itself: it queues the scan task
once the caller's transaction commits, with ids and the text to scan. The task stores a
:class:`~campaigns.models.Communication` snapshot (source, object id, advisor, customer,
text) so the review screens never depend on the caller's models, and creates one flag per
hit; running it twice creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from .models import CommSource

logger = logging.getLogger(__name__)


def request_scan(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> None:
    """Schedule a compliance scan of ``text`` after the current transaction commits.

    ``source`` is "call_note", "transcript" or "interaction"; ``object_id`` the id of the
    caller's row (a CallLog, an Interaction). Blank text is ignored.
    """
    if source not in CommSource.values:
        raise ValueError(f"unknown scan source {source!r}; expected one of {CommSource.values}")
    if not (text or "").strip():
        return
    occurred = (occurred_at or timezone.now()).isoformat()

    def _enqueue() -> None:
        from .tasks import scan_communication

        scan_communication.delay(
            source=source,
            object_id=int(object_id),
            text=text,
            advisor_id=advisor_id,
            customer_id=customer_id,
            occurred_at=occurred,
        )

    transaction.on_commit(_enqueue)


def transcript_text(transcript) -> str:
    """An AI-bot transcript (list of {"speaker", "text"}) as one text to scan, one turn a line."""
    if not transcript:
        return ""
    if isinstance(transcript, str):
        return transcript
    lines = []
    for turn in transcript:
        if isinstance(turn, dict):
            lines.append(f"{turn.get('speaker', '')}: {turn.get('text', '')}")
        else:
            lines.append(str(turn))
    return "\n".join(lines)
