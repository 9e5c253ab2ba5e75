"""Wealth-report pages: the list of reports in the user's scope with the segment batch,
and the actions of the portrait's tab (generate, download, mark as sent)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.models import Segment
from core.access import require
from core.forms import form_applied
from core.htmx import redirect_for
from core.models import Job
from customers.selectors import customer_get_for_user

from . import selectors, services
from .access import can_generate_report, can_run_report_batch, can_view_reports
from .forms import BatchForm, DeliverForm
from .services import BATCH_JOB

LIST_LIMIT = 100


def _tab_url(customer_id: int) -> str:
    return reverse("customers:tab", args=[customer_id, "wealth_report"])


def _user_agent(request) -> str:
    return request.headers.get("User-Agent", "")


def _batch_context(request, form: BatchForm | None = None) -> dict:
    if not can_run_report_batch(request.user):
        return {}
    segments = Segment.objects.restrict(request.user, "view").order_by("name")
    jobs = list(Job.objects.filter(kind=BATCH_JOB, created_by=request.user).order_by("-created_at", "-id")[:5])
    names = dict(segments.filter(pk__in=[j.params.get("segment_id") for j in jobs]).values_list("pk", "name"))
    for job in jobs:
        job.segment_name = names.get(job.params.get("segment_id"), "—")
    return {
        "batch_form": form or BatchForm(segments=segments, initial={"year": timezone.localdate().year}),
        "batch_jobs": jobs,
    }


def _attach_states(reports) -> None:
    states = selectors.report_scan_states(reports)
    for report in reports:
        report.scan = states[report.pk]


@require(can_view_reports)
def report_list(request):
    """The reports of the customers the user sees, newest first (masked names; the
    customer's portrait has the rest), and the segment batch for those who may run it."""
    reports = list(selectors.reports_for(user=request.user).order_by("-generated_at", "-id")[:LIST_LIMIT])
    _attach_states(reports)
    return render(request, "reports/list.html", {"reports": reports, "limit": LIST_LIMIT, **_batch_context(request)})


@require_POST
@require(can_run_report_batch)
def report_batch(request):
    segments = Segment.objects.restrict(request.user, "view").order_by("name")
    form = BatchForm(request.POST, segments=segments)
    if form_applied(
        form,
        lambda: services.report_batch_start(
            actor=request.user, segment=form.cleaned_data["segment"], year=form.cleaned_data["year"]
        ),
    ):
        messages.success(request, _("The reports are being generated; progress shows below."))
        return redirect_for(request, reverse("reports:list"))
    reports = list(selectors.reports_for(user=request.user).order_by("-generated_at", "-id")[:LIST_LIMIT])
    _attach_states(reports)
    return render(
        request,
        "reports/list.html",
        {"reports": reports, "limit": LIST_LIMIT, **_batch_context(request, form)},
        status=400,
    )


@require_POST
def report_generate(request, customer_id: int):
    customer = customer_get_for_user(user=request.user, pk=customer_id)
    if not can_generate_report(request.user, customer):
        raise PermissionDenied
    try:
        services.report_generate(actor=request.user, customer=customer)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The wealth report was generated; it is being checked by compliance."))
    return redirect_for(request, _tab_url(customer.pk))


def report_download(request, pk: int):
    report = selectors.report_get_for_user(user=request.user, pk=pk)
    if not report.file:
        raise Http404
    try:
        handle = report.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    # Recorded once the file is there (a 404 is no download), before the first byte.
    try:
        services.report_download_record(actor=request.user, report=report, user_agent=_user_agent(request))
    except BaseException:
        handle.close()
        raise
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"wealth-report-{report.customer.customer_no}-{report.year}.pdf",
        content_type="application/pdf",
    )


@require_POST
def report_deliver(request, pk: int):
    report = selectors.report_get_for_user(user=request.user, pk=pk, action="work")
    form = DeliverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the report was sent."))
        return redirect_for(request, _tab_url(report.customer_id))
    try:
        services.report_deliver(actor=request.user, report=report, channel=form.cleaned_data["channel"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Recorded as sent."))
    return redirect_for(request, _tab_url(report.customer_id))
