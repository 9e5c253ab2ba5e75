"""Background work of the customer domain."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone, translation

from core.models import Job
from core.services import job_finish, job_start

from . import ingest
from .models import ImportBatch

logger = logging.getLogger(__name__)


@shared_task(name="customers.import_batch_run", acks_late=True)
def import_batch_run(batch_id: int, job_id: int) -> None:
    """Dry-run or import one uploaded file (the job's params say which).

    Safe to run twice: writes are upserts by external keys, so a redelivered task
    finds every row already there and changes nothing.
    """
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return
    dry_run = bool(job.params.get("dry_run"))
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(status=ImportBatch.Status.RUNNING)
    job_start(job_id=job_id)
    with translation.override(job.params.get("language") or "zh-hans"):
        try:
            report = ingest.batch_process(batch_id=batch_id, job_id=job_id, dry_run=dry_run, actor=batch.created_by)
        except Exception as exc:
            logger.exception("import batch %s failed", batch_id)
            ImportBatch.objects.filter(pk=batch_id).update(status=ImportBatch.Status.FAILED)
            job_finish(job_id=job_id, error=str(exc)[:500] or exc.__class__.__name__)
            return
    summary = {k: v for k, v in report.items() if k not in ("errors", "preview", "preview_fields")}
    with transaction.atomic():
        updates = {"total_rows": report["rows"]}
        if dry_run:
            updates.update(status=ImportBatch.Status.CHECKED, preview=report)
        else:
            updates.update(status=ImportBatch.Status.DONE, report=report | {"finished_at": timezone.now().isoformat()})
        ImportBatch.objects.filter(pk=batch_id).update(**updates)
        job_finish(job_id=job_id, result=summary)
