"""Surveillance: the snapshots of texts other features hand in (call notes, AI-bot
transcripts, interactions), their scan into flags (one per communication under review,
carrying every finding of the rules and the classifier, none twice), and
rescans of a date range with today's lexicon.

``compliance.surveillance.request_scan`` is the entry point of the apps above; the
tasks ``compliance.scan_communication`` and ``compliance.scan_interaction`` call the
scans here by id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import Job, JobChunk
from core.services import job_claim, job_create, job_enqueue, job_finish, job_set_progress, job_start
from customers.models import Customer, Interaction
from customers.services.interactions import transcript_text
from org.models import StaffProfile

from ..access import can_start_rescan
from ..constants import Severity
from ..models import UNDER_REVIEW, CommSource, Communication, Flag, FlagKind, LexiconRule
from ..scanner import Scanner, ScanResult, active_scanner, normalise
from ..selectors import day_bounds
from .lexicon import rule_stats_count_hits

RESCAN_CHUNK = 500


_SEVERITY_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


def finding_entries(result: ScanResult, scanner: Scanner, text: str) -> list[dict]:
    """The findings of a scan as a flag stores them: rule hits with their span and parts,
    model findings with the probability and the nearest labelled examples (the reason)."""
    entries = [
        {
            "source": "rule",
            "rule": f.rule,
            "rule_id": f.rule_id,
            "rule_version": f.rule_version,
            "category": f.category,
            "severity": f.severity,
            "start": f.start,
            "end": f.end,
            "match": f.match[:200],
            "parts": [list(p) for p in f.parts],
        }
        for f in result.findings
    ]
    if result.model_findings and scanner.classifier is not None:
        norm = normalise(text)
        for m in result.model_findings:
            nearest = scanner.classifier.nearest(norm, category=m.category)
            entries.append(
                {
                    "source": "model",
                    "rule": m.rule,
                    "rule_id": None,
                    "rule_version": None,
                    "category": m.category,
                    "severity": m.severity,
                    "start": 0,
                    "end": 0,
                    "match": "",
                    "probability": round(m.probability, 3),
                    "nearest": [
                        {"similarity": round(sim, 2), "text": snippet.text, "label": snippet.label}
                        for sim, snippet in nearest
                    ],
                }
            )
    return entries


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _finding_key(entry: dict) -> tuple:
    return (entry.get("source", "rule"), entry["rule"], entry["start"], entry["end"])


def _set_primary(flag: Flag) -> None:
    """Repeat the most severe finding (a rule's before the model's) in the flag's columns."""
    top = min(
        flag.findings,
        key=lambda f: (_SEVERITY_RANK.get(f["severity"], 3), f.get("source") == "model", f["start"]),
    )
    flag.rule_id = top["rule_id"]
    flag.rule_code = top["rule"][:32]
    flag.rule_version = top["rule_version"]
    flag.category = top["category"]
    flag.severity = top["severity"]
    flag.start, flag.end = top["start"], top["end"]
    flag.match = top["match"][:200]


def _flags_apply(scans: list[tuple[Communication, list[dict]]]) -> int:
    """One flag per communication under review, carrying all its findings; findings some
    flag of the communication already holds are not added twice. Returns the number of
    new flags (a finding added to a flag under review is not a new flag)."""
    scans = [(comm, entries) for comm, entries in scans if entries]
    if not scans:
        return 0
    existing: dict[int, list[Flag]] = {}
    for flag in (
        Flag.objects.select_for_update()
        .filter(communication_id__in=[c.pk for c, _e in scans], kind=FlagKind.LEXICON)
        .order_by("created_at", "id")
    ):
        existing.setdefault(flag.communication_id, []).append(flag)
    to_create: list[Flag] = []
    to_update: list[Flag] = []
    added_rule_ids: Counter[int] = Counter()
    for comm, entries in scans:
        digest = text_digest(comm.text)
        flags = [f for f in existing.get(comm.pk, []) if f.text_digest == digest]
        known = {_finding_key(f) for flag in flags for f in flag.findings}
        new = [e for e in entries if _finding_key(e) not in known]
        if not new:
            continue
        added_rule_ids.update({e["rule_id"] for e in new if e.get("source") == "rule" and e.get("rule_id")})
        open_flag = next((f for f in flags if f.status in UNDER_REVIEW), None)
        if open_flag is not None:
            open_flag.findings = sorted(open_flag.findings + new, key=lambda f: (f["start"], f["end"]))
            _set_primary(open_flag)
            to_update.append(open_flag)
            continue
        flag = Flag(
            communication=comm,
            kind=FlagKind.LEXICON,
            source=comm.source,
            advisor_id=comm.advisor_id,
            team_id=comm.team_id,
            occurred_at=comm.occurred_at,
            findings=sorted(new, key=lambda f: (f["start"], f["end"])),
            text_snapshot=comm.text,
            text_digest=digest,
        )
        _set_primary(flag)
        to_create.append(flag)
    Flag.objects.bulk_create(to_create)
    rule_stats_count_hits(added_rule_ids)
    if to_update:
        Flag.objects.bulk_update(
            to_update,
            ["findings", "rule_id", "rule_code", "rule_version", "category", "severity", "start", "end", "match"],
        )
    return len(to_create)


@transaction.atomic
def communication_store(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: str | dt.datetime | None = None,
    source_url: str = "",
) -> Communication:
    """Store (or refresh) the snapshot of a text to scan, in the caller's transaction when
    there is one (a savepoint inside it). An edited note keeps its row: the new text is
    scanned, earlier flags keep the text they were raised on."""
    if isinstance(occurred_at, str):
        occurred_at = parse_datetime(occurred_at)
    occurred_at = occurred_at or timezone.now()
    team_id = None
    if advisor_id is not None:
        team_id = StaffProfile.objects.filter(user_id=advisor_id).values_list("team_id", flat=True).first()
    if customer_id is not None and not Customer.objects.filter(pk=customer_id).exists():
        customer_id = None
    comm, created = Communication.objects.select_for_update().get_or_create(
        source=source,
        object_id=object_id,
        defaults={
            "text": text,
            "advisor_id": advisor_id,
            "customer_id": customer_id,
            "team_id": team_id,
            "occurred_at": occurred_at,
            "source_url": source_url[:300],
        },
    )
    if not created and comm.text != text:
        comm.text = text
        comm.save(update_fields=["text"])
    return comm


@transaction.atomic
def communication_flag(*, communication_id: int) -> int:
    """Scan a stored communication with the active lexicon and the classifier: one flag
    carrying all findings (none twice). Returns the number of new flags."""
    comm = Communication.objects.select_for_update().filter(pk=communication_id).first()
    if comm is None:
        return 0
    scanner = active_scanner()
    result = scanner.scan(comm.text)
    comm.scanned_at = timezone.now()
    comm.lexicon_revision = LexiconRule.objects.revision_key()[:64]
    comm.save(update_fields=["scanned_at", "lexicon_revision"])
    created = _flags_apply([(comm, finding_entries(result, scanner, comm.text))])
    if created:
        audit_record(actor=None, verb="compliance.flag", target=comm, details={"new_flags": created})
    return created


@transaction.atomic
def communication_scan(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: str | dt.datetime | None = None,
    source_url: str = "",
) -> tuple[Communication, int]:
    """Store the snapshot of a text and flag its hits at once. Idempotent."""
    comm = communication_store(
        source=source,
        object_id=object_id,
        text=text,
        advisor_id=advisor_id,
        customer_id=customer_id,
        occurred_at=occurred_at,
        source_url=source_url,
    )
    created = communication_flag(communication_id=comm.pk)
    comm.refresh_from_db()
    return comm, created


@transaction.atomic
def interaction_scan(*, interaction_id: int) -> int:
    """Scan what was said in one interaction (its summary and AI-bot transcript): the
    customers app asks for this by task name when it records an interaction."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None:
        return 0
    text = "\n".join(filter(None, [interaction.summary or "", transcript_text(interaction.transcript)]))
    if not text.strip():
        return 0
    _comm, created = communication_scan(
        source=CommSource.TRANSCRIPT if interaction.transcript else CommSource.INTERACTION,
        object_id=interaction.pk,
        text=text,
        advisor_id=interaction.actor_id,
        customer_id=interaction.customer_id,
        occurred_at=interaction.occurred_at,
        source_url=reverse("customers:tab", args=[interaction.customer_id, "interactions"]),
    )
    return created


def rescan_start(*, actor, date_from: dt.date, date_to: dt.date) -> Job:
    """Queue a rescan of communications that occurred in [date_from, date_to] with today's lexicon."""
    if not can_start_rescan(actor):
        raise PermissionDenied(_("Only compliance officers may do this."))
    if date_to < date_from:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    if (date_to - date_from).days > 366:
        raise ValidationError({"date_to": _("Rescan at most one year at a time.")})
    with transaction.atomic():
        job = job_create(
            actor=actor,
            kind="compliance.rescan",
            params={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
        audit_record(
            actor=actor,
            verb="compliance.rescan",
            target=job,
            details={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
        job_enqueue(job, "compliance.rescan", job.pk)
    return job


def rescan_run(*, job_id: int) -> dict | None:
    """The body of the rescan task: chunks of communications, progress after each chunk.

    Each chunk commits its flags together with its ``core.JobChunk`` record (its counts),
    so a run whose worker was killed is sent again by the job sweeper, skips the chunks
    done and ends with the same result as an uninterrupted run; a duplicate message while
    the job runs is refused (``job_claim``). A finding is never added twice either.
    Transient errors propagate for the task to retry; any other error fails the job.
    """
    if not job_claim(job_id=job_id):
        job = Job.objects.filter(pk=job_id).first()
        return job.result if job is not None and job.status == Job.Status.SUCCEEDED else None
    job = Job.objects.get(pk=job_id)
    date_from = dt.date.fromisoformat(job.params["date_from"])
    date_to = dt.date.fromisoformat(job.params["date_to"])
    start, end = day_bounds(date_from, date_to)
    qs = Communication.objects.filter(occurred_at__gte=start, occurred_at__lt=end).order_by("pk")
    total = qs.count()
    job_start(job_id=job_id, total=total, message=lambda: _("Rescanning"))
    try:
        scanner = active_scanner()
        done = created = last_pk = 0
        for hi, result in JobChunk.objects.filter(job_id=job_id).values_list("hi", "result"):
            done += int(result.get("scanned", 0))
            created += int(result.get("new_flags", 0))
            last_pk = max(last_pk, hi - 1)
        while True:
            chunk = list(
                qs.filter(pk__gt=last_pk).only("id", "text", "source", "advisor_id", "team_id", "occurred_at")[
                    :RESCAN_CHUNK
                ]
            )
            if not chunk:
                break
            results = scanner.scan_many([comm.text for comm in chunk])  # the model scores the chunk at once
            scans = [
                (comm, finding_entries(result, scanner, comm.text)) for comm, result in zip(chunk, results, strict=True)
            ]
            with transaction.atomic():
                new_flags = _flags_apply(scans)
                Communication.objects.filter(pk__in=[c.pk for c in chunk]).update(scanned_at=timezone.now())
                JobChunk.objects.create(
                    job_id=job_id,
                    lo=chunk[0].pk,
                    hi=chunk[-1].pk + 1,
                    done_at=timezone.now(),
                    result={"scanned": len(chunk), "new_flags": new_flags},
                )
            created += new_flags
            done += len(chunk)
            last_pk = chunk[-1].pk
            job_set_progress(job_id=job_id, done=done, message=lambda n=created: _("%(n)d new flags so far") % {"n": n})
        result = {"scanned": done, "new_flags": created}
        job_finish(job_id=job_id, result=result)
        return result
    except (OperationalError, InterfaceError):
        Job.objects.filter(pk=job_id).update(heartbeat_at=None)  # the retry may claim it at once
        raise
    except Exception as exc:
        job_finish(job_id=job_id, error=str(exc)[:500])
        raise
