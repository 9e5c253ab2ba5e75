"""Writes of wealth reports: generate one (audited, with the PIPL record, scanned after
commit), download one (audited, recorded), mark one delivered, and generate a campaign
segment's reports as a chunked background job."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Segment
from campaigns.services.segments import segment_members
from compliance.models import CommSource, ScriptVersion
from compliance.surveillance import request_scan
from core.audit import audit_record, records_refusals, refusal
from core.models import Job
from core.services import (
    chunk_process,
    chunks_dispatch,
    chunks_finish_if_complete,
    job_start_once,
)
from customers.models import AccessKind, Customer, ViewPlace
from customers.services.privacy import access_record, customer_view_record
from org.roles import staff_name

from .access import can_deliver_report, can_generate_report, can_run_report_batch, can_view_report
from .models import DeliveryChannel, ReportLanguage, WealthReport
from .pdf import FontMissing, render_report
from .selectors import report_facts, report_scan_states, report_script_version

BATCH_JOB = "reports.batch"
# The first total is the job's progress: customers processed (the total is the segment's size).
BATCH_TOTALS = ("processed", "generated", "skipped", "refused")
BATCH_CHUNK = 200


def report_language(user) -> str:
    """English when the user works in English, Chinese otherwise (the default)."""
    language = (translation.get_language() or "").lower()
    return ReportLanguage.EN if language.startswith("en") else ReportLanguage.ZH


def _approved_wording() -> ScriptVersion:
    """The approved wording reports are written with, or the refusal in words."""
    version = report_script_version()
    if version is None:
        raise ValidationError(
            _(
                "No approved wealth-report wording: compliance must approve a script of the "
                "“Annual wealth report” purpose before reports can be generated."
            ),
            code="no_approved_script",
        )
    return version


def _report_to_replace(*, customer: Customer, year: int) -> WealthReport | None:
    """The customer's report of ``year``, locked, or None; refused once it was sent."""
    report = WealthReport.objects.select_for_update().filter(customer=customer, year=year).first()
    if report is not None and report.delivered_at is not None:
        raise ValidationError(
            _("The %(year)d report was already sent on %(date)s; it cannot be replaced.")
            % {"year": year, "date": timezone.localtime(report.delivered_at).date().isoformat()},
            code="already_delivered",
        )
    return report


@records_refusals
@transaction.atomic
def report_generate(
    *,
    actor,
    customer: Customer,
    year: int | None = None,
    language: str | None = None,
    job: Job | None = None,
    now: dt.datetime | None = None,
) -> WealthReport:
    """Write ``customer``'s report for ``year`` (this year by default) as a PDF with the
    approved wording, store it, record the generation (audit and PIPL) and queue its
    compliance scan. Generating again before it is sent replaces it."""
    now = now or timezone.now()
    year = year or timezone.localdate(now).year
    language = language or report_language(actor)
    if not can_generate_report(actor, customer):
        raise refusal(
            PermissionDenied(_("You may not generate this customer's wealth report.")),
            actor=actor,
            verb="report.generate",
            target=customer,
        )
    version = _approved_wording()
    report = _report_to_replace(customer=customer, year=year)
    with translation.override(language):
        facts = report_facts(customer=customer, year=year, today=timezone.localdate(now))
        try:
            data, text = render_report(
                facts=facts,
                script_body=version.body,
                advisor_name=staff_name(customer.owner) if customer.owner_id else "—",
                generated_at=now,
                english=language == ReportLanguage.EN,
            )
        except FontMissing:
            raise ValidationError(
                _("The Chinese font for reports is not installed (the fonts-wqy-microhei package)."),
                code="font_missing",
            ) from None
    old_name = report.file.name if report is not None and report.file else ""
    if report is None:
        report = WealthReport(customer=customer, year=year)
    report.language = language
    report.script_version = version
    report.text = text[:20_000]
    report.generated_by = actor if getattr(actor, "is_authenticated", False) else None
    report.generated_at = now
    report.job = job
    report.size = len(data)
    report.file.save(f"wealth-report-{customer.customer_no}-{year}.pdf", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # Another generation wrote the year's first report meanwhile (the portrait while
        # the segment's batch reaches the customer): it is replaced like any report not
        # sent yet. The insert waited for that transaction, so its row is there to lock.
        other = _report_to_replace(customer=customer, year=year)
        if other is None:  # not that constraint
            raise
        report.pk, report._state.adding, old_name = other.pk, False, other.file.name
        report.save()
    if old_name and old_name != report.file.name:
        storage = report.file.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    request_scan(
        source=CommSource.WEALTH_REPORT,
        object_id=report.pk,
        text=report.text,
        advisor_id=customer.owner_id,
        customer_id=customer.pk,
        occurred_at=now,
        source_url=reverse("customers:tab", args=[customer.pk, "wealth_report"]),
    )
    audit_record(
        actor=actor,
        verb="report.generate",
        target=report,
        details={
            "customer_id": customer.pk,
            "year": year,
            "language": language,
            "script_version": version.pk,
            **({"job_id": job.pk} if job is not None else {}),
        },
    )
    customer_view_record(actor=actor, customer=customer, page=ViewPlace.WEALTH_REPORT, details={"report": report.pk})
    return report


@transaction.atomic
def report_download_record(*, actor, report: WealthReport, user_agent: str = "") -> None:
    """Record that ``actor`` downloaded ``report`` (audit and a PIPL export record),
    before the first byte is sent."""
    if not can_view_report(actor, report):
        raise PermissionDenied(_("You may not download this report."))
    audit_record(actor=actor, verb="report.download", target=report, details={"customer_id": report.customer_id})
    access_record(
        user=actor,
        customer=report.customer,
        kind=AccessKind.EXPORT,
        details={"page": ViewPlace.WEALTH_REPORT, "report": report.pk},
        user_agent=user_agent,
    )


@records_refusals
@transaction.atomic
def report_deliver(*, actor, report: WealthReport, channel: str, now: dt.datetime | None = None) -> WealthReport:
    """Record that ``report`` was sent to the customer by ``channel``. Refused until the
    compliance scan has run, while a blocking finding stands, and once it was sent."""
    now = now or timezone.now()
    report = WealthReport.objects.select_for_update().select_related("customer").get(pk=report.pk)
    if not can_deliver_report(actor, report):
        raise PermissionDenied(_("You may not send this report."))
    if channel not in DeliveryChannel.values:
        raise ValidationError({"channel": _("Choose how the report was sent.")}, code="channel")
    if report.delivered_at is not None:
        raise ValidationError(_("This report was already sent."), code="already_delivered")
    state = report_scan_states([report])[report.pk]
    if state.status == "pending":
        raise ValidationError(
            _("The compliance check of this report has not finished yet; try again in a moment."), code="scan_pending"
        )
    if state.status == "blocked":
        raise refusal(
            ValidationError(
                _(
                    "Compliance found wording in this report that must not be sent; the "
                    "finding is with the compliance officers."
                ),
                code="scan_blocked",
            ),
            actor=actor,
            verb="report.deliver",
            target=report,
            details={"channel": channel},
        )
    WealthReport.objects.filter(pk=report.pk).update(delivered_at=now, delivered_by=actor, delivery_channel=channel)
    report.delivered_at, report.delivered_by, report.delivery_channel = now, actor, channel
    audit_record(
        actor=actor,
        verb="report.deliver",
        target=report,
        details={"customer_id": report.customer_id, "channel": channel},
    )
    return report


# --- a segment's reports, as a background job -------------------------------------------------


@transaction.atomic
def report_batch_start(*, actor, segment: Segment, year: int | None = None) -> Job:
    """Queue (after commit) the job generating the reports of ``segment``'s members for
    ``year``; while one for the same segment and year is going, that one is returned.
    Reports already there for the year are skipped, so running it again writes nothing
    twice."""
    if not can_run_report_batch(actor):
        raise PermissionDenied(_("You may not generate a segment's reports."))
    _approved_wording()
    this_year = timezone.localdate().year
    year = year or this_year
    if year > this_year:
        raise ValidationError(
            {"year": _("The year %(year)d has not begun: its reports cannot be written yet.") % {"year": year}},
            code="future_year",
        )
    return job_start_once(
        actor=actor,
        kind=BATCH_JOB,
        task="reports.batch_dispatch",
        key={"segment_id": segment.pk, "year": year},
        params={"language": report_language(actor)},
    )


def report_batch_dispatch(*, job_id: int) -> int:
    """Plan the job's chunks (customer id ranges) once and send those not done; running
    it again only re-sends unfinished chunks (how the job survives a killed worker)."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return 0
    segment = Segment.objects.get(pk=job.params["segment_id"])
    return chunks_dispatch(
        job_id=job_id,
        task="reports.batch_chunk",
        totals=BATCH_TOTALS,
        rows=lambda: segment_members(segment=segment),
        size=getattr(settings, "WORKBENCH_REPORT_BATCH_CHUNK", BATCH_CHUNK),
        total=lambda: segment_members(segment=segment).count(),
        message=gettext_lazy("Generating the segment's wealth reports"),
    )


def report_batch_chunk(*, job_id: int, lo: int) -> dict | None:
    """Generate the reports of one id range of the segment, exactly once: customers the
    job's author may not see are refused, those with a report for the year skipped."""
    job = Job.objects.select_related("created_by__staff_profile").get(pk=job_id)
    actor = job.created_by
    year = int(job.params["year"])
    language = job.params.get("language") or ReportLanguage.ZH
    segment = Segment.objects.get(pk=job.params["segment_id"])

    def work(chunk) -> dict:
        members = segment_members(segment=segment).filter(pk__gte=chunk.lo, pk__lt=chunk.hi)
        ids = list(members.order_by("pk").values_list("pk", flat=True))
        visible = Customer.objects.restrict(actor, "view").filter(pk__in=ids)
        customers = list(visible.select_related("owner__staff_profile", "home_branch").order_by("pk"))
        done = set(WealthReport.objects.filter(customer_id__in=ids, year=year).values_list("customer_id", flat=True))
        counts = {"processed": len(ids), "generated": 0, "skipped": 0, "refused": len(ids) - len(customers)}
        for customer in customers:
            if customer.pk in done:
                counts["skipped"] += 1
                continue
            try:
                report_generate(actor=actor, customer=customer, year=year, language=language, job=job)
            except (ValidationError, PermissionDenied):
                counts["refused"] += 1
            else:
                counts["generated"] += 1
        return counts

    result = chunk_process(job_id=job_id, lo=lo, work=work, done_key="processed")
    chunks_finish_if_complete(job_id=job_id, totals=BATCH_TOTALS)
    return result
