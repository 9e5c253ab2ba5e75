"""Writes of the shell: jobs' progress and notifications."""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from .audit import audit_record
from .models import Job, Notification


def job_create(*, actor, kind: str, params: dict | None = None, total: int = 0) -> Job:
    job = Job.objects.create(kind=kind, params=params or {}, total=total, created_by=actor)
    audit_record(actor=actor, verb="job.create", target=job, details={"kind": kind, "params": params or {}})
    return job


def job_start(*, job_id: int, total: int | None = None, message: str = "") -> None:
    """Mark a job running. Safe to call again when a task is retried or redelivered."""
    updates = {"status": Job.Status.RUNNING, "message": message}
    if total is not None:
        updates["total"] = total
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(started_at=timezone.now(), **updates)


def job_advance(*, job_id: int, by: int = 1, message: str | None = None) -> None:
    """Add to a job's progress with one UPDATE (workers may report concurrently)."""
    updates = {"done": F("done") + by}
    if message is not None:
        updates["message"] = message[:500]
    Job.objects.filter(pk=job_id).update(**updates)


def job_set_progress(*, job_id: int, done: int, total: int | None = None, message: str | None = None) -> None:
    updates: dict = {"done": done}
    if total is not None:
        updates["total"] = total
    if message is not None:
        updates["message"] = message[:500]
    Job.objects.filter(pk=job_id).update(**updates)


def job_finish(*, job_id: int, result: dict | None = None, error: str = "") -> None:
    status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    updates = {"status": status, "finished_at": timezone.now(), "result": result or {}}
    if error:
        updates["message"] = error[:500]
    Job.objects.filter(pk=job_id).update(**updates)


def notification_send(
    *, recipient, title: str, body: str = "", url: str = "", target=None, event_key: str = ""
) -> Notification | None:
    """Notify ``recipient`` once per ``event_key`` (a repeated event is ignored)."""
    if event_key and Notification.objects.filter(recipient=recipient, event_key=event_key).exists():
        return None
    return Notification.objects.create(
        recipient=recipient,
        title=title[:200],
        body=body,
        url=url,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        event_key=event_key,
    )


def notifications_resolve(*, event_keys: list[str]) -> int:
    """The work a notification asked for is done: it no longer waits for anyone.

    Every recipient's unread notification whose ``event_key`` starts with one of
    ``event_keys`` is marked read, in the caller's transaction (an officer who did not
    take the review is not left with a request that is already settled)."""
    query = models.Q()
    for key in event_keys:
        query |= models.Q(event_key__startswith=key)
    return Notification.objects.filter(query, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notifications_mark_read(*, actor, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
