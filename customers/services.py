"""Writes of the customer domain. Each service is atomic, takes ``actor=``, audits."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from workbench.audit import audit_record

from .models import (
    AccessKind,
    AccessRecord,
    Channel,
    Customer,
    CustomerTag,
    Direction,
    ImportBatch,
    ImportKind,
    ImportMapping,
    Interaction,
    Tag,
    TagSource,
)

logger = logging.getLogger(__name__)

TRANSCRIPT_SPEAKERS = ("bot", "customer", "agent")


def _validate_transcript(transcript) -> list[dict] | None:
    if transcript is None:
        return None
    if not isinstance(transcript, list):
        raise ValidationError({"transcript": _("The transcript must be a list of turns.")})
    turns = []
    for i, turn in enumerate(transcript):
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            raise ValidationError({"transcript": _("Turn %(n)s must have a text.") % {"n": i + 1}})
        speaker = turn.get("speaker", "customer")
        if speaker not in TRANSCRIPT_SPEAKERS:
            raise ValidationError(
                {"transcript": _("Turn %(n)s has an unknown speaker %(speaker)r.") % {"n": i + 1, "speaker": speaker}}
            )
        clean = {"speaker": speaker, "text": turn["text"]}
        if turn.get("at"):
            clean["at"] = str(turn["at"])
        turns.append(clean)
    return turns


def transcript_text(transcript: list[dict] | None) -> str:
    """A transcript as plain lines ``speaker: text`` (what the surveillance scanner reads)."""
    return "\n".join(f"{t.get('speaker', '')}: {t.get('text', '')}" for t in transcript or [])


def _after_interaction(
    *,
    interaction_id: int,
    customer_id: int,
    channel: str,
    text: str,
    source: str,
    advisor_id: int | None,
    occurred_at: dt.datetime,
) -> None:
    """Runs on commit: rescore after AI-bot sessions, compliance scan of any text.

    The scoring and surveillance modules belong to other features; a missing one must
    not break ingest, so failures to import are logged rather than raised.
    """
    if channel == Channel.AI_BOT:
        try:
            from leads.scoring.tasks import rescore_customer
        except ImportError:
            logger.warning("leads.scoring.tasks.rescore_customer unavailable; customer %s not rescored", customer_id)
        else:
            rescore_customer.delay(customer_id)
    if text.strip():
        try:
            from campaigns.surveillance import request_scan
        except ImportError:
            logger.warning(
                "campaigns.surveillance.request_scan unavailable; interaction %s not scanned", interaction_id
            )
        else:
            request_scan(
                source=source,
                object_id=interaction_id,
                text=text,
                advisor_id=advisor_id,
                customer_id=customer_id,
                occurred_at=occurred_at,
            )


@transaction.atomic
def interaction_record(
    *,
    actor,
    customer: Customer,
    channel: str,
    direction: str = Direction.OUTBOUND,
    occurred_at: dt.datetime,
    summary: str = "",
    transcript: list[dict] | None = None,
    intents: list[str] | None = None,
    external_id: str | None = None,
) -> tuple[Interaction, bool]:
    """Record one touch with a customer; returns ``(interaction, created)``.

    Idempotent by ``external_id``: a second call with the same id returns the first
    interaction unchanged. Keeps ``Customer.last_contact_at`` at the latest touch.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel %(value)r.") % {"value": channel}})
    if direction not in Direction.values:
        raise ValidationError({"direction": _("Unknown direction %(value)r.") % {"value": direction}})
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": _("The time must include a time zone.")})
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("The time is in the future.")})
    turns = _validate_transcript(transcript)
    intents = [str(i) for i in (intents or [])]
    external_id = (external_id or "").strip() or None

    if external_id:
        existing = Interaction.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False

    staff = actor if getattr(actor, "is_authenticated", False) and hasattr(actor, "staff_profile") else None
    try:
        with transaction.atomic():
            interaction = Interaction.objects.create(
                customer=customer,
                channel=channel,
                direction=direction,
                occurred_at=occurred_at,
                actor=staff,
                summary=summary or "",
                transcript=turns,
                intents=intents,
                external_id=external_id,
            )
    except IntegrityError:
        # A concurrent delivery of the same session won the race.
        existing = Interaction.objects.filter(external_id=external_id).first() if external_id else None
        if existing is None:
            raise
        return existing, False

    Customer.objects.filter(pk=customer.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=occurred_at)
    ).update(last_contact_at=occurred_at, updated_at=timezone.now())
    if customer.last_contact_at is None or customer.last_contact_at < occurred_at:
        customer.last_contact_at = occurred_at

    audit_record(
        actor=actor,
        verb="interaction.record",
        target=interaction,
        details={"customer_id": customer.pk, "channel": channel, "external_id": external_id},
    )

    text = "\n".join(filter(None, [summary or "", transcript_text(turns)]))
    source = "transcript" if turns else "interaction"
    advisor_id = staff.pk if staff is not None else None
    transaction.on_commit(
        lambda: _after_interaction(
            interaction_id=interaction.pk,
            customer_id=customer.pk,
            channel=channel,
            text=text,
            source=source,
            advisor_id=advisor_id,
            occurred_at=occurred_at,
        )
    )
    return interaction, True


# --- Tags --------------------------------------------------------------------------------------


@transaction.atomic
def customer_tag_add(*, actor, customer: Customer, tag: Tag) -> CustomerTag:
    """Add a manual tag (advisors' own observations). Adding it again changes nothing."""
    assignment, created = CustomerTag.objects.get_or_create(
        customer=customer, tag=tag, defaults={"source": TagSource.MANUAL, "assigned_by": actor}
    )
    if created:
        audit_record(actor=actor, verb="customer.tag_add", target=customer, details={"tag": tag.code, "tag_id": tag.pk})
    return assignment


@transaction.atomic
def customer_tag_remove(*, actor, customer: Customer, tag: Tag) -> bool:
    """Remove a manual tag; rule and model tags belong to their pipelines and stay."""
    assignment = CustomerTag.objects.filter(customer=customer, tag=tag).first()
    if assignment is None:
        return False
    if assignment.source != TagSource.MANUAL:
        raise ValidationError(_("Only manual tags can be removed here; this one comes from a rule or a model."))
    assignment.delete()
    audit_record(actor=actor, verb="customer.tag_remove", target=customer, details={"tag": tag.code, "tag_id": tag.pk})
    return True


# --- PIPL: access records, reveal, export ------------------------------------------------------------


def _request_meta() -> dict:
    from workbench.middleware import client_ip_var, request_id_var

    return {"ip_address": client_ip_var.get(), "request_id": request_id_var.get() or ""}


def access_record(
    *,
    user,
    customer: Customer | None,
    kind: str = AccessKind.VIEW,
    fields: str = "",
    reason: str = "",
    details: dict | None = None,
    user_agent: str = "",
) -> AccessRecord:
    """Write a PIPL access record (who, which customer, when, from where)."""
    return AccessRecord.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        customer=customer,
        kind=kind,
        fields=fields,
        reason=reason[:300],
        details=details or {},
        user_agent=user_agent[:200],
        **_request_meta(),
    )


REVEAL_FIELDS = {"mobile": "mobile", "id_number": "id_number"}
MIN_REASON_LENGTH = 4


@transaction.atomic
def customer_reveal_pii(*, actor, customer: Customer, field: str, reason: str, user_agent: str = "") -> str:
    """The full mobile number or ID number, for a user with the permission and a reason."""
    if field not in REVEAL_FIELDS:
        raise ValidationError({"field": _("Unknown field.")})
    if not actor.has_perm("customers.reveal_customer_pii"):
        raise PermissionDenied(_("You are not allowed to reveal personal data."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Type the reason for revealing (at least %(n)s characters).") % {"n": MIN_REASON_LENGTH}}
        )
    access_record(
        user=actor, customer=customer, kind=AccessKind.REVEAL, fields=field, reason=reason, user_agent=user_agent
    )
    audit_record(actor=actor, verb="customer.reveal_pii", target=customer, details={"field": field, "reason": reason})
    return getattr(customer, REVEAL_FIELDS[field])


@transaction.atomic
def customers_export_record(*, actor, count: int, filters: dict, user_agent: str = "") -> AccessRecord:
    """Check the export permission and record the export (before any byte is sent)."""
    if not actor.has_perm("customers.export_customers"):
        raise PermissionDenied(_("You are not allowed to export customer data."))
    audit_record(
        actor=actor,
        verb="customer.export",
        target_type="customers.customer",
        target_id="*",
        details={"count": count, "filters": filters},
    )
    return access_record(
        user=actor,
        customer=None,
        kind=AccessKind.EXPORT,
        fields="list",
        details={"count": count, "filters": filters},
        user_agent=user_agent,
    )


# --- Imports ---------------------------------------------------------------------------------------


IMPORT_MAX_BYTES = 512 * 1024 * 1024


@transaction.atomic
def import_batch_create(*, actor, kind: str, uploaded_file, mapping: ImportMapping | None = None) -> ImportBatch:
    """Store an uploaded CSV/Excel file and propose a column mapping."""
    from . import imports

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
        headers, _rows = imports.read_table(uploaded_file, name)
    except Exception as exc:  # noqa: BLE001 - any parser error means an unreadable file
        raise ValidationError({"file": _("The file cannot be read: %(error)s") % {"error": str(exc)[:200]}}) from exc
    if not any(headers):
        raise ValidationError({"file": _("The file has no header row.")})
    uploaded_file.seek(0)
    columns = imports.guess_mapping(kind, headers)
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


@transaction.atomic
def import_batch_set_mapping(*, actor, batch: ImportBatch, columns: dict[str, str], save_as: str = "") -> ImportBatch:
    """Set which file column feeds which field; optionally save the mapping for reuse."""
    from . import imports

    schema = imports.schema_for(batch.kind)
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
    from django.utils.translation import get_language

    from workbench.services import job_create

    from .tasks import import_batch_run

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
    transaction.on_commit(lambda: import_batch_run.delay(batch.pk, job.pk))
    return job


@transaction.atomic
def customers_bulk_upsert(*, actor, kind: str, rows: list[dict], present: set[str]):
    """Upsert already-validated rows of one kind (the ingest API), audited in the same
    transaction: who sent how many rows of what, and what changed."""
    from . import imports

    counts = imports.write_chunk(imports.schema_for(kind), rows, present, actor=actor)
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
