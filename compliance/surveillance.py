"""Surveillance of call notes and AI-bot transcripts: the entry point the apps above call.

``request_scan`` stores the text as a :class:`~compliance.models.Communication` snapshot in
the caller's transaction (source, object id, advisor, customer, text, a link back), so
the review screens never depend on the caller's models, and queues the scan of that
snapshot by id once the transaction commits: no personal text travels on the broker.
The scan creates one flag per hit; running it twice creates nothing new.

Apps below compliance (``customers``) cannot call this: they send the task
``compliance.scan_interaction`` by name with the interaction's id instead.
"""

from __future__ import annotations

import datetime as dt

from core.tasks import enqueue

from .models import CommSource, Communication
from .services.surveillance import communication_store


def request_scan(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: dt.datetime | None = None,
    source_url: str = "",
) -> Communication | None:
    """Store ``text`` for surveillance and scan it after the current transaction commits.

    ``source`` is "call_note", "transcript" or "interaction"; ``object_id`` the id of the
    caller's row (a CallLog, an Interaction); ``source_url`` where a reviewer opens it.
    Blank text is ignored (returns None).
    """
    if source not in CommSource.values:
        raise ValueError(f"unknown scan source {source!r}; expected one of {CommSource.values}")
    if not (text or "").strip():
        return None
    comm = communication_store(
        source=source,
        object_id=int(object_id),
        text=text,
        advisor_id=advisor_id,
        customer_id=customer_id,
        occurred_at=occurred_at,
        source_url=source_url,
    )
    enqueue("compliance.scan_communication", comm.pk)
    return comm
