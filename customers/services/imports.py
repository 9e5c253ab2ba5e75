"""Writes of data imports: uploaded files, column mappings, dry runs and imports, the ingest API."""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import Job, JobChunk
from core.services import job_claim, job_create, job_enqueue, job_finish, job_start

from .. import ingest, ingest_pg
from ..access import can_view_import_batch
from ..models import (
    ImportBatch,
    ImportKind,
    ImportMapping,
)

logger = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 512 * 1024 * 1024
# A lost connection or a restarting database: the task retries (writes are upserts, so a
# half-done run is finished, not doubled). Any other error fails the batch at once.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


@transaction.atomic
def import_batch_create(*, actor, kind: str, uploaded_file, mapping: ImportMapping | None = None) -> ImportBatch:
    """Store an uploaded CSV/Excel file and propose a column mapping."""
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Unknown kind of data.")})
    name = uploaded_file.name or "upload.csv"
    if not name.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
        raise ValidationError({"file": _("Upload a CSV or an Excel (.xlsx) file.")})
    if uploaded_file.size > IMPORT_MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than 512 MB.")})
    digest = hashlib.sha256()
    for block in uploaded_file.chunks():
        digest.update(block)
    uploaded_file.seek(0)
    try:
        headers, _rows = ingest.read_table(uploaded_file, name)
    except Exception as exc:  # noqa: BLE001 - any parser error means an unreadable file
        raise ValidationError({"file": _("The file cannot be read: %(error)s") % {"error": str(exc)[:200]}}) from exc
    if not any(headers):
        raise ValidationError({"file": _("The file has no header row.")})
    for header in headers:
        bad = ingest.control_char_message(header)
        if bad:
            raise ValidationError({"file": _("The header row: %(error)s") % {"error": bad}})
    uploaded_file.seek(0)
    columns = ingest.guess_mapping(kind, headers)
    if mapping is not None and mapping.kind == kind:
        columns = {f: h for f, h in mapping.columns.items() if h in headers} or columns
    batch = ImportBatch.objects.create(
        kind=kind,
        file=uploaded_file,
        original_name=name[:200],
        sha256=digest.hexdigest(),
        headers=headers,
        columns=columns,
        created_by=actor,
    )
    audit_record(actor=actor, verb="import.upload", target=batch, details={"kind": kind, "file": name})
    return batch


def _check_batch(actor, batch: ImportBatch) -> None:
    """Whoever may see an uploaded file (its uploader, an administrator) may run it."""
    if not can_view_import_batch(actor, batch):
        raise PermissionDenied(_("This file was uploaded by someone else."))


@transaction.atomic
def import_batch_set_mapping(*, actor, batch: ImportBatch, columns: dict[str, str], save_as: str = "") -> ImportBatch:
    """Set which file column feeds which field; optionally save the mapping for reuse."""
    _check_batch(actor, batch)
    schema = ingest.schema_for(batch.kind)
    clean = {f: h for f, h in columns.items() if f in schema.field_names and h}
    unknown = [h for h in clean.values() if h not in batch.headers]
    if unknown:
        raise ValidationError(_("Column %(col)s is not in the file.") % {"col": unknown[0]})
    missing = [str(s.label) for s in schema.fields if s.required and s.name not in clean]
    if missing:
        raise ValidationError(_("Map a column to every required field: %(fields)s.") % {"fields": ", ".join(missing)})
    batch.columns = clean
    batch.status = ImportBatch.Status.UPLOADED
    batch.save(update_fields=["columns", "status"])
    if save_as.strip():
        ImportMapping.objects.update_or_create(
            kind=batch.kind, name=save_as.strip()[:100], defaults={"columns": clean, "created_by": actor}
        )
    audit_record(actor=actor, verb="import.map", target=batch, details={"columns": clean, "saved_as": save_as})
    return batch


@transaction.atomic
def import_batch_start(*, actor, batch: ImportBatch, dry_run: bool):
    """Queue the dry run or the import of a batch; returns its Job (progress bar)."""
    _check_batch(actor, batch)
    if not dry_run and batch.status not in (
        ImportBatch.Status.CHECKED,
        ImportBatch.Status.DONE,
        ImportBatch.Status.FAILED,
    ):
        raise ValidationError(_("Run the dry run first and check its result."))
    if batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
        raise ValidationError(_("This file is already being processed."))
    job = job_create(
        actor=actor,
        kind="customers.import_dry_run" if dry_run else "customers.import",
        params={"batch_id": batch.pk, "dry_run": dry_run, "language": get_language() or "zh-hans"},
    )
    batch.job = job
    batch.status = ImportBatch.Status.QUEUED
    batch.save(update_fields=["job", "status"])
    audit_record(
        actor=actor, verb="import.dry_run" if dry_run else "import.start", target=batch, details={"job": job.pk}
    )
    job_enqueue(job, "customers.import_batch_run", batch.pk, job.pk)
    return job


def import_batch_run(*, batch_id: int, job_id: int) -> None:
    """Dry-run or import one uploaded file, as the job's params say (the body of the
    ``customers.import_batch_run`` task).

    Not one transaction: ``ingest_pg.batch_process`` (a CSV of customers on PostgreSQL:
    staged with COPY and checked in SQL) and ``ingest.batch_process`` (the rest) commit
    chunk by chunk, so a million-row file
    never holds one transaction open. Each chunk commits with its record, so a run that
    starts again (a redelivered message, or the job sweeper once the job has gone quiet)
    skips what is written and finishes with the same report. A duplicate message while
    the job runs is refused by ``job_claim``. Transient database errors propagate for
    the task to retry; any other error marks the batch and its job failed, saying how
    many rows were written before it.
    """
    if not job_claim(job_id=job_id):
        job = Job.objects.filter(pk=job_id).first()
        if job is not None and job.status == Job.Status.FAILED:
            _batch_failed(batch_id, job_id)  # gave up after too many attempts
        return
    job = Job.objects.get(pk=job_id)
    dry_run = bool(job.params.get("dry_run"))
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(status=ImportBatch.Status.RUNNING)
    job_start(job_id=job_id)
    with translation.override(job.params.get("language") or "zh-hans"):
        try:
            report = ingest_pg.batch_process(batch_id=batch_id, job_id=job_id, dry_run=dry_run, actor=batch.created_by)
            summary = {k: v for k, v in report.items() if k not in ("errors", "preview", "preview_fields", "changes")}
            with transaction.atomic():
                updates = {"total_rows": report["rows"]}
                if dry_run:
                    updates.update(status=ImportBatch.Status.CHECKED, preview=report)
                else:
                    report["finished_at"] = timezone.now().isoformat()
                    updates.update(status=ImportBatch.Status.DONE, report=report)
                ImportBatch.objects.filter(pk=batch_id).update(**updates)
                job_finish(job_id=job_id, result=summary)
        except TRANSIENT_DB_ERRORS:
            Job.objects.filter(pk=job_id).update(heartbeat_at=None)  # the retry may claim it at once
            raise
        except Exception as exc:
            logger.exception("import batch %s failed", batch_id)
            import_batch_fail(batch_id=batch_id, job_id=job_id, error=str(exc)[:500] or exc.__class__.__name__)


@transaction.atomic
def import_batch_fail(*, batch_id: int, job_id: int, error: str) -> None:
    """The run of a batch failed for good: the batch and its job say so, with the rows
    written before the failure (the page shows the error and offers the dry run again;
    running the import again rewrites nothing twice: rows are upserted by their keys)."""
    job_finish(job_id=job_id, error=ingest.printable(error))
    _batch_failed(batch_id, job_id)


def _batch_failed(batch_id: int, job_id: int) -> None:
    """The batch of a job that failed for good says so, with what was written."""
    written = JobChunk.objects.filter(job_id=job_id).values_list("result", flat=True)
    rows = sum(int(r.get("valid", 0)) for r in written)
    report = {"partial": True, "written_rows": rows, "chunks": len(written)} if written else {}
    ImportBatch.objects.filter(pk=batch_id).exclude(status=ImportBatch.Status.DONE).update(
        status=ImportBatch.Status.FAILED, report=report
    )


@transaction.atomic
def customers_bulk_upsert(*, actor, kind: str, rows: list[dict], present: set[str]):
    """Upsert already-validated rows of one kind (the ingest API), audited in the same
    transaction: who sent how many rows of what, and what changed."""
    counts = ingest.write_chunk(ingest.schema_for(kind), rows, present, actor=actor)
    audit_record(
        actor=actor,
        verb="api.ingest",
        target_type=f"customers.{kind}",
        target_id="*",
        details={
            "rows": len(rows),
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
        },
    )
    return counts
