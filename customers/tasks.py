"""Background work of the customer domain: thin entry points that call services with ids."""

from __future__ import annotations

from celery import Task, shared_task

from .services import imports


class _ImportRunTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """A transient error outlived the retries: the batch must not stay "importing"."""
        ids = dict(zip(("batch_id", "job_id"), args, strict=False), **kwargs)
        imports.import_batch_fail(**ids, error=str(exc)[:500] or exc.__class__.__name__)


# Bulk work (routed to the "bulk" queue by workbench.settings.BULK_TASKS): one file of up to
# 512 MB, millions of rows. Acknowledged late, so a worker lost mid-file hands it back and
# the rerun upserts what was already written; the hard limit stays under the broker's
# visibility timeout (2 h), so a running import is never handed out twice.
@shared_task(
    name="customers.import_batch_run",
    base=_ImportRunTask,
    acks_late=True,
    soft_time_limit=90 * 60,
    time_limit=95 * 60,
    autoretry_for=imports.TRANSIENT_DB_ERRORS,
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=3,
)
def import_batch_run(batch_id: int, job_id: int) -> None:
    """Dry-run or import one uploaded file (see ``services.imports.import_batch_run``)."""
    imports.import_batch_run(batch_id=batch_id, job_id=job_id)
