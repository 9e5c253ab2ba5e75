"""Writes of the shell: jobs' progress and notifications."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from .audit import audit_record
from .languages import Words, in_both_languages
from .models import Job, JobChunk, Notification
from .queueing import enqueue, send

logger = logging.getLogger(__name__)


def job_create(*, actor, kind: str, params: dict | None = None, total: int = 0) -> Job:
    job = Job.objects.create(kind=kind, params=params or {}, total=total, created_by=actor)
    audit_record(actor=actor, verb="job.create", target=job, details={"kind": kind, "params": params or {}})
    return job


def job_enqueue(job: Job, task: str, *args: int | str) -> None:
    """Queue the task that carries ``job`` once the transaction commits, and remember the
    message on the job, so the sweeper can send it again if the job goes quiet."""
    Job.objects.filter(pk=job.pk).update(task=task, task_args=list(args))
    job.task, job.task_args = task, list(args)
    enqueue(task, *args)


def job_start_once(*, actor, kind: str, task: str, key: dict, params: dict | None = None) -> Job:
    """The open job of ``kind`` whose params hold ``key``, or else a new one (params
    ``key`` and ``params``) queued to ``task`` after commit: a second click, or a beat tick
    while the first job is still going, starts nothing new."""
    going = (
        Job.objects.filter(kind=kind, status__in=(Job.Status.PENDING, Job.Status.RUNNING))
        .filter(**{f"params__{name}": value for name, value in key.items()})
        .first()
    )
    if going is not None:
        return going
    job = job_create(actor=actor, kind=kind, params={**key, **(params or {})})
    job_enqueue(job, task, job.pk)
    return job


def job_lease() -> dt.timedelta:
    """How long a job may go without a report from its worker before it counts as lost."""
    return dt.timedelta(seconds=settings.WORKBENCH_JOB_LEASE_SECONDS)


def job_claim(*, job_id: int) -> bool:
    """Take a job for this worker: False when it is finished, or another worker reported
    on it within the lease (a duplicate message). Counts the attempt; a job claimed more
    than ``WORKBENCH_JOB_MAX_ATTEMPTS`` times fails, naming why."""
    now = timezone.now()
    taken = (
        Job.objects.filter(pk=job_id, status__in=(Job.Status.PENDING, Job.Status.RUNNING))
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - job_lease()))
        .update(heartbeat_at=now, attempts=F("attempts") + 1)
    )
    if not taken:
        return False
    attempts = Job.objects.filter(pk=job_id).values_list("attempts", flat=True).first() or 0
    if attempts > settings.WORKBENCH_JOB_MAX_ATTEMPTS:
        job_finish(job_id=job_id, error=_attempts_message(attempts - 1))
        return False
    return True


def _attempts_message(attempts: int) -> Words:
    return lambda: (
        gettext("Stopped after %(n)d attempts: the work failed or its worker stopped each time.") % {"n": attempts}
    )


def _message_updates(message: Words) -> dict:
    """``message`` and ``message_en`` of a job, each cut to the column."""
    text, text_en = in_both_languages(message)
    return {"message": text[:500], "message_en": text_en[:500]}


def job_heartbeat(*, job_id: int) -> None:
    Job.objects.filter(pk=job_id).update(heartbeat_at=timezone.now())


def job_start(*, job_id: int, total: int | None = None, message: Words = "") -> None:
    """Mark a job running. Safe to call again when a task is retried or redelivered."""
    updates = {"status": Job.Status.RUNNING, "heartbeat_at": timezone.now(), **_message_updates(message)}
    if total is not None:
        updates["total"] = total
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(started_at=timezone.now(), **updates)


def job_advance(*, job_id: int, by: int = 1, message: Words | None = None) -> None:
    """Add to a job's progress with one UPDATE (workers may report concurrently)."""
    updates = {"done": F("done") + by, "heartbeat_at": timezone.now()}
    if message is not None:
        updates.update(_message_updates(message))
    Job.objects.filter(pk=job_id).update(**updates)


def job_set_progress(*, job_id: int, done: int, total: int | None = None, message: Words | None = None) -> None:
    """``message`` is worded in both languages when it is a lazy translation or a
    callable (``lambda: _("%(n)d done") % {"n": n}``); a plain string is kept as is."""
    updates: dict = {"done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        updates["total"] = total
    if message is not None:
        updates.update(_message_updates(message))
    Job.objects.filter(pk=job_id).update(**updates)


def job_finish(*, job_id: int, result: dict | None = None, error: Words = "") -> bool:
    """Finish a job; False when it had succeeded already (a racing last chunk)."""
    status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    updates = {"status": status, "finished_at": timezone.now(), "result": result or {}}
    if error:
        updates.update(_message_updates(error))
    return bool(Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(**updates))


# --- jobs in chunks ---------------------------------------------------------------------


def chunks_plan(*, job_id: int, ranges: list[tuple[int, int]]) -> None:
    """Record the parts of a job once (planning again adds nothing)."""
    JobChunk.objects.bulk_create([JobChunk(job_id=job_id, lo=lo, hi=hi) for lo, hi in ranges], ignore_conflicts=True)


def chunks_dispatch(
    *,
    job_id: int,
    task: str,
    totals: tuple[str, ...],
    rows: Callable[[], models.QuerySet],
    size: int,
    total: Callable[[], int] | None = None,
    message: Words = "",
    on_complete: Callable[[], None] | None = None,
) -> int:
    """Plan a job's parts once, as ranges of ``size`` ids over the rows ``rows()`` returns
    (read only when planning), then send ``task(job_id, lo)`` for every part not done and
    finish the job when none is left. Running it again only re-sends unfinished parts: how
    a job resumes after a killed worker (the sweeper calls it again). With no rows the job
    finishes at once with zeros. ``total()`` is the progress bar's end (the number of parts
    when not given). Returns the number of parts sent."""
    if not JobChunk.objects.filter(job_id=job_id).exists():
        bounds = rows().aggregate(lo=models.Min("id"), hi=models.Max("id"))
        if bounds["lo"] is None:
            job_start(job_id=job_id, total=0)
            job_finish(job_id=job_id, result=dict.fromkeys(totals, 0))
            return 0
        lo, hi = bounds["lo"], bounds["hi"] + 1
        chunks_plan(job_id=job_id, ranges=[(start, min(start + size, hi)) for start in range(lo, hi, size)])
        end = total() if total is not None else JobChunk.objects.filter(job_id=job_id).count()
        job_start(job_id=job_id, total=end, message=message)
    else:
        job_start(job_id=job_id)
    pending = chunks_open(job_id=job_id)
    for lo in pending:
        send(task, job_id, lo)
    chunks_finish_if_complete(job_id=job_id, totals=totals, on_complete=on_complete)
    return len(pending)


def chunks_open(*, job_id: int) -> list[int]:
    """The ``lo`` of every part not done yet."""
    return list(JobChunk.objects.filter(job_id=job_id, done_at__isnull=True).values_list("lo", flat=True))


def _open_chunk_locked(job_id: int, lo: int) -> JobChunk | None:
    # Only the chunk's row is locked (of=self, and no join through the ordering); a row
    # that another worker holds is skipped: that worker is doing it.
    return (
        JobChunk.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(job_id=job_id, lo=lo, done_at__isnull=True, job__status__in=(Job.Status.PENDING, Job.Status.RUNNING))
        .order_by()
        .first()
    )


def chunk_process(*, job_id: int, lo: int, work: Callable[[JobChunk], dict], done_key: str = "") -> dict | None:
    """Do one part of a job with ``work(chunk) -> result``, exactly once.

    First the attempt is counted (committed, so a part that kills its worker every time
    ends the job with a reason instead of looping); then, in one transaction holding the
    part's row lock, ``work`` writes and the part is marked done with its result. Returns
    None when the part was done already, is being done by another worker, or the job is
    over. ``done_key`` names the result's count added to the job's progress.
    """
    with transaction.atomic():
        chunk = _open_chunk_locked(job_id, lo)
        if chunk is None:
            return None
        JobChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") + 1, claimed_at=timezone.now())
        job_heartbeat(job_id=job_id)
    if chunk.attempts + 1 > settings.WORKBENCH_JOB_MAX_ATTEMPTS:
        job_finish(job_id=job_id, error=_attempts_message(chunk.attempts))
        return None
    with transaction.atomic():
        chunk = _open_chunk_locked(job_id, lo)
        if chunk is None:
            return None
        result = work(chunk)
        JobChunk.objects.filter(pk=chunk.pk).update(done_at=timezone.now(), result=result)
        job_advance(job_id=job_id, by=int(result.get(done_key, 0)) if done_key else 0)
    return result


def chunks_finish_if_complete(
    *, job_id: int, totals: tuple[str, ...], on_complete: Callable[[], None] | None = None
) -> bool:
    """Finish the job when every part is done, with the parts' results summed under
    ``totals``. Safe under any number of workers: the job finishes once.

    ``on_complete`` runs once, in the transaction that finishes the job and holding the
    job's row lock: if it fails, the job stays open and the next dispatch (the sweeper's)
    runs it again; a racing last part waits for the lock and finds the job finished."""
    if JobChunk.objects.filter(job_id=job_id, done_at__isnull=True).exists():
        return False
    summed = dict.fromkeys(totals, 0)
    for result in JobChunk.objects.filter(job_id=job_id).values_list("result", flat=True):
        for key in totals:
            summed[key] += int((result or {}).get(key, 0))
    with transaction.atomic():
        if on_complete is not None:
            open_job = Job.objects.select_for_update().filter(
                pk=job_id, status__in=(Job.Status.PENDING, Job.Status.RUNNING)
            )
            if not open_job.exists():
                return False
            on_complete()
        finished = job_finish(job_id=job_id, result=summed)
        if finished and totals:
            Job.objects.filter(pk=job_id).update(done=summed[totals[0]])
    return finished


def jobs_sweep() -> int:
    """Send again the message of every open job quiet for longer than its lease.

    A job's worker reports (``heartbeat_at``) whenever it claims or finishes a part and
    whenever it records progress; a job quiet for a whole lease has lost its worker or
    its message. Its task is sent again: a chunked job's dispatcher re-sends the parts
    not done (a part still locked by a live worker is skipped), a single-message job is
    claimed again (``job_claim``). Returns how many jobs were sent again.
    """
    stale = timezone.now() - job_lease()
    quiet = (
        Job.objects.filter(status__in=(Job.Status.PENDING, Job.Status.RUNNING))
        .exclude(task="")
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
        .order_by("pk")
        .values_list("pk", "task", "task_args")[:1000]
    )
    sent = 0
    for job_id, task, args in quiet:
        try:
            send(task, *args)
        except LookupError:
            logger.error("job %s names an unknown task %r", job_id, task)
            continue
        sent += 1
    if sent:
        logger.warning("sent again %d quiet job(s)", sent)
    return sent


def notification_send(
    *, recipient, title: Words, body: Words = "", url: str = "", target=None, event_key: str = ""
) -> Notification | None:
    """Notify ``recipient`` once per ``event_key`` (a repeated event is ignored).

    ``title`` and ``body`` are worded in both languages when they are lazy translations
    or callables (``lambda: _("Referral accepted: %(customer)s") % {...}``), so the
    notification reads in whichever language its recipient uses."""
    if event_key and Notification.objects.filter(recipient=recipient, event_key=event_key).exists():
        return None
    title, title_en = in_both_languages(title)
    body, body_en = in_both_languages(body)
    return Notification.objects.create(
        recipient=recipient,
        title=title[:200],
        title_en=title_en[:200],
        body=body,
        body_en=body_en,
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
