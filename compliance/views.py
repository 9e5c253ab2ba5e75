"""Views of the compliance feature: thin, role-checked; services write, selectors read."""

from __future__ import annotations

import csv
import difflib
import io
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from core.exports import spreadsheet_row
from core.htmx import render_table_page
from core.models import Job
from customers.models import ProductType
from org.roles import Role, role_of, role_required

from . import selectors, services
from .constants import Category, Severity
from .forms import (
    ApproveForm,
    BulkCloseForm,
    DateRangeForm,
    FlagCloseForm,
    FlagEscalateForm,
    LexiconRuleForm,
    QASettingsForm,
    RejectForm,
    ScriptForm,
    VersionEditForm,
    default_report_range,
)
from .models import (
    FindingKind,
    FlagKind,
    FlagStatus,
    LexiconRule,
    ScriptPurpose,
    ScriptVersion,
    VersionStatus,
)
from .scanner import Scanner
from .tables import FlagTable, LexiconTable, LibraryTable, MyFlagTable, PendingScriptTable

OFFICER_VIEW = (Role.COMPLIANCE, Role.ADMIN)


def _error_messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- text presentation -----------------------------------------------------------------------


def highlight_segments(text: str, spans) -> list[dict]:
    """Split ``text`` into segments, marking the spans of findings. Templates escape each part."""
    marks = sorted(
        ((s.start, s.end, s) for s in spans if s.start is not None and s.end is not None and s.end > s.start),
        key=lambda m: (m[0], -m[1]),
    )
    segments: list[dict] = []
    pos = 0
    for start, end, finding in marks:
        if start < pos:
            continue  # overlapping spans: the first one wins
        if start > pos:
            segments.append({"text": text[pos:start], "finding": None})
        severity = getattr(finding, "severity", "")
        rule = getattr(finding, "rule_code", None) or getattr(finding, "code", None) or getattr(finding, "rule", "")
        segments.append(
            {
                "text": text[start:end],
                "finding": True,
                "severity": severity,
                "title": f"{Severity(severity).label if severity in Severity.values else severity} · {rule}",
            }
        )
        pos = end
    if pos < len(text):
        segments.append({"text": text[pos:], "finding": None})
    return segments


def diff_segments(old: str, new: str) -> list[dict]:
    """A character diff (Chinese has no word boundaries): equal, insert and delete runs."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    out: list[dict] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append({"op": "equal", "text": new[b1:b2]})
        else:
            if a2 > a1:
                out.append({"op": "delete", "text": old[a1:a2]})
            if b2 > b1:
                out.append({"op": "insert", "text": new[b1:b2]})
    return out


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- scripts ---------------------------------------------------------------------------------


def script_library(request):
    """Approved scripts by product, for everyone; authors also see their own work in progress."""
    product_type = request.GET.get("product_type", "")
    purpose = request.GET.get("purpose", "")
    q = request.GET.get("q", "").strip()[:100]
    table = LibraryTable(selectors.script_library(product_type=product_type, purpose=purpose, q=q))
    context = {
        "purposes": ScriptPurpose.choices,
        "product_types": ProductType.choices,
        "current": {"product_type": product_type, "purpose": purpose, "q": q},
        "my_versions": list(selectors.my_scripts(user=request.user)[:50]),
        "can_propose": role_of(request.user) in services.AUTHOR_ROLES,
    }
    return render_table_page(request, "compliance/script_library.html", table, context)


@role_required(*services.AUTHOR_ROLES)
def script_create(request):
    form = ScriptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            version = services.script_create(
                actor=request.user,
                title=d["title"],
                purpose=d["purpose"],
                body=d["body"],
                product=d["product"],
                product_type=d["product_type"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if "submit" in request.POST:
                services.script_submit_for_review(actor=request.user, version=version)
                messages.success(request, _("Script submitted for compliance review."))
            else:
                messages.success(request, _("Draft saved."))
            return redirect("compliance:script_detail", version.script_id)
    return render(request, "compliance/script_form.html", {"form": form, "creating": True})


def script_detail(request, pk: int):
    script = selectors.script_get_for_user(user=request.user, pk=pk)
    versions = [v for v in script.versions.all() if selectors.can_see_version(user=request.user, version=v)]
    approved = next((v for v in versions if v.status == VersionStatus.APPROVED), None)
    open_version = next((v for v in versions if v.status in (VersionStatus.DRAFT, VersionStatus.SUBMITTED)), None)
    latest = versions[0] if versions else None
    is_author_side = request.user.pk in (script.author_id, latest.author_id if latest else None)
    findings = []
    if latest is not None and (is_author_side or role_of(request.user) in OFFICER_VIEW):
        findings = list(latest.findings.select_related("rule"))
    context = {
        "script": script,
        "versions": versions,
        "approved": approved,
        "open_version": open_version,
        "latest": latest,
        "findings": findings,
        "segments": highlight_segments(latest.body, [f for f in findings if f.kind == FindingKind.LEXICON])
        if latest
        else [],
        "can_revise": role_of(request.user) in services.AUTHOR_ROLES
        and (open_version is None or open_version.author_id == request.user.pk),
        "is_officer": role_of(request.user) == Role.COMPLIANCE,
        "evidence": list(selectors.version_evidence([v.pk for v in versions]))
        if role_of(request.user) in OFFICER_VIEW or is_author_side
        else [],
    }
    return render(request, "compliance/script_detail.html", context)


@require_POST
def script_revise(request, pk: int):
    script = selectors.script_get_for_user(user=request.user, pk=pk)
    try:
        version = services.script_revise(actor=request.user, script=script)
    except ValidationError as exc:
        _error_messages(request, exc)
        return redirect("compliance:script_detail", pk)
    if version.status == VersionStatus.SUBMITTED:
        messages.info(request, _("A version of this script is already awaiting review."))
        return redirect("compliance:script_detail", pk)
    return redirect("compliance:version_edit", version.pk)


def _own_version(request, pk: int) -> ScriptVersion:
    version = get_object_or_404(ScriptVersion.objects.select_related("script", "script__product"), pk=pk)
    if version.author_id != request.user.pk:
        raise PermissionDenied
    return version


def version_edit(request, pk: int):
    version = _own_version(request, pk)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("compliance:script_detail", version.script_id)
    form = VersionEditForm(request.POST or None, initial={"title": version.script.title, "body": version.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.script_version_update(
                actor=request.user, version=version, title=form.cleaned_data["title"], body=form.cleaned_data["body"]
            )
            if "submit" in request.POST:
                services.script_submit_for_review(actor=request.user, version=version)
                messages.success(request, _("Script submitted for compliance review."))
            else:
                messages.success(request, _("Draft saved."))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("compliance:script_detail", version.script_id)
    previous = version.based_on
    return render(
        request,
        "compliance/script_form.html",
        {"form": form, "version": version, "previous": previous, "creating": False},
    )


@require_POST
def version_submit(request, pk: int):
    version = _own_version(request, pk)
    try:
        services.script_submit_for_review(actor=request.user, version=version)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Script submitted for compliance review."))
    return redirect("compliance:script_detail", version.script_id)


@role_required(*OFFICER_VIEW)
def version_review(request, pk: int):
    """The officer's review screen. Opening it records nothing: only actions are evidence."""
    version = selectors.version_for_review(user=request.user, pk=pk)
    findings = list(version.findings.all())
    previous = selectors.previous_approved(version)
    # Without an approved predecessor, show what changed since the version it revises
    # (typically the one the officer rejected).
    compared = previous or version.based_on
    lexicon_findings = [f for f in findings if f.kind == FindingKind.LEXICON]
    open_high = [f for f in findings if f.severity == Severity.HIGH]
    open_medium = [f for f in findings if f.severity == Severity.MEDIUM and f.acknowledged_at is None]
    context = {
        "version": version,
        "script": version.script,
        "findings": sorted(findings, key=lambda f: ({"high": 0, "medium": 1, "low": 2}[f.severity], f.start or 0)),
        "segments": highlight_segments(version.body, lexicon_findings),
        "previous": compared,
        "diff": diff_segments(compared.body, version.body) if compared else None,
        "evidence": list(selectors.version_evidence(version.script.versions.values("pk"))),
        "open_high": open_high,
        "open_medium": open_medium,
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        "can_decide": role_of(request.user) == Role.COMPLIANCE and version.status == VersionStatus.SUBMITTED,
    }
    return render(request, "compliance/version_review.html", context)


@require_POST
@role_required(Role.COMPLIANCE)
def version_approve(request, pk: int):
    version = get_object_or_404(ScriptVersion, pk=pk)
    form = ApproveForm(request.POST)
    form.is_valid()
    try:
        services.script_approve(
            actor=request.user,
            version=version,
            comment=form.cleaned_data.get("comment", ""),
            acknowledge_medium=form.cleaned_data.get("acknowledge_medium", False),
        )
    except ValidationError as exc:
        _error_messages(request, exc)
        return redirect("compliance:version_review", pk)
    messages.success(request, _("Version approved; it is now the one in use."))
    return redirect("compliance:script_reviews")


@require_POST
@role_required(Role.COMPLIANCE)
def version_reject(request, pk: int):
    version = get_object_or_404(ScriptVersion, pk=pk)
    form = RejectForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        services.script_reject(actor=request.user, version=version, comment=comment)
    except ValidationError as exc:
        _error_messages(request, exc)
        return redirect("compliance:version_review", pk)
    messages.success(request, _("Version rejected; the author has been notified."))
    return redirect("compliance:script_reviews")


@require_POST
@role_required(Role.COMPLIANCE)
def version_retire(request, pk: int):
    version = get_object_or_404(ScriptVersion, pk=pk)
    try:
        services.script_retire(actor=request.user, version=version, comment=request.POST.get("comment", "")[:2000])
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Script retired; it is no longer shown to advisors."))
    return redirect("compliance:script_detail", version.script_id)


# --- review queue ------------------------------------------------------------------------


@role_required(*OFFICER_VIEW)
def review_queue(request):
    params = {
        "status": request.GET.get("status", ""),
        "severity": request.GET.get("severity", ""),
        "category": request.GET.get("category", ""),
        "kind": request.GET.get("kind", ""),
        "mine": request.GET.get("mine") == "1",
        "q": request.GET.get("q", "").strip()[:100],
    }
    table = FlagTable(selectors.review_queue(user=request.user, **params))
    context = {
        "current": params,
        "statuses": FlagStatus.choices,
        "severities": Severity.choices,
        "categories": [c for c in Category.choices if c[0] != Category.ALLOW],
        "kinds": FlagKind.choices,
        "pending_scripts": selectors.pending_reviews().count(),
        "is_officer": role_of(request.user) == Role.COMPLIANCE,
    }
    return render_table_page(request, "compliance/review_queue.html", table, context)


@role_required(*OFFICER_VIEW)
def script_reviews(request):
    table = PendingScriptTable(selectors.pending_reviews())
    return render_table_page(request, "compliance/script_reviews.html", table, {})


@require_POST
@role_required(Role.COMPLIANCE)
def flags_bulk_close(request):
    form = BulkCloseForm(request.POST)
    if form.is_valid():
        try:
            n = services.flags_bulk_close(
                actor=request.user, flag_ids=form.cleaned_data["flag_ids"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _error_messages(request, exc)
        else:
            messages.success(request, _("%(n)d flags closed as false positives.") % {"n": n})
    else:
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
    return redirect(reverse("compliance:review_queue") + "?" + request.POST.get("return_query", ""))


@role_required(*OFFICER_VIEW)
def qa_settings(request):
    config = services.qa_config()
    form = QASettingsForm(
        request.POST or None,
        initial={"share_percent": config.share_percent, "minimum_per_advisor": config.minimum_per_advisor},
    )
    if request.method == "POST":
        if role_of(request.user) != Role.COMPLIANCE:
            raise PermissionDenied
        if form.is_valid():
            services.qa_config_update(actor=request.user, **form.cleaned_data)
            messages.success(request, _("QA sampling settings saved."))
            return redirect("compliance:qa_settings")
    runs = list(config._meta.apps.get_model("compliance", "QASampleRun").objects.all()[:12])
    return render(request, "compliance/qa_settings.html", {"form": form, "config": config, "runs": runs})


@role_required(*OFFICER_VIEW)
def rescan(request):
    form = DateRangeForm(request.POST or None)
    job = None
    if request.method == "POST":
        if role_of(request.user) != Role.COMPLIANCE:
            raise PermissionDenied
        if form.is_valid():
            try:
                job = services.rescan_start(
                    actor=request.user, date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Rescan started."))
                return redirect(reverse("compliance:rescan") + f"?job={job.pk}")
    jobs = list(Job.objects.filter(kind="compliance.rescan").select_related("created_by")[:10])
    return render(request, "compliance/rescan.html", {"form": form, "jobs": jobs})


def flag_detail(request, pk: int):
    flag = selectors.flag_get_for_user(user=request.user, pk=pk)
    is_officer = role_of(request.user) == Role.COMPLIANCE
    comm = flag.communication
    context = {
        "flag": flag,
        "segments": highlight_segments(flag.text_snapshot, [flag] if flag.end > flag.start else []),
        "reviews": list(flag.reviews.select_related("actor", "actor__staff_profile")),
        "other_flags": list(
            comm.flags.exclude(pk=flag.pk).only("id", "match", "severity", "status", "rule_code").order_by("start")
        ),
        "customer_url": _url_or_none("customers:detail", comm.customer_id) if comm.customer_id else None,
        "call_url": _call_url(comm),
        "is_officer": is_officer,
        "close_form": FlagCloseForm(),
        "escalate_form": FlagEscalateForm(targets=selectors.escalation_targets(user=request.user))
        if is_officer
        else None,
    }
    return render(request, "compliance/flag_detail.html", context)


def _call_url(comm) -> str | None:
    """The call screen of a call note, if the queues feature exposes one for call logs."""
    if comm.source != "call_note":
        return None
    try:
        from calls.models import CallLog
    except ImportError:
        return None
    lead_id = CallLog.objects.filter(pk=comm.object_id).values_list("lead_id", flat=True).first()
    return _url_or_none("calls:call", lead_id) if lead_id else None


def _flag_action(request, pk: int, action) -> HttpResponse:
    flag = selectors.flag_get_for_user(user=request.user, pk=pk)
    try:
        action(flag)
    except ValidationError as exc:
        _error_messages(request, exc)
    return redirect("compliance:flag_detail", pk)


@require_POST
def flag_claim(request, pk: int):
    return _flag_action(request, pk, lambda f: services.flag_claim(actor=request.user, flag=f))


@require_POST
def flag_release(request, pk: int):
    return _flag_action(request, pk, lambda f: services.flag_release(actor=request.user, flag=f))


@require_POST
def flag_escalate(request, pk: int):
    form = FlagEscalateForm(request.POST, targets=selectors.escalation_targets(user=request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect("compliance:flag_detail", pk)
    return _flag_action(
        request,
        pk,
        lambda f: services.flag_escalate(
            actor=request.user, flag=f, to_user=form.cleaned_data["to_user"], comment=form.cleaned_data["comment"]
        ),
    )


@require_POST
def flag_close(request, pk: int):
    form = FlagCloseForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect("compliance:flag_detail", pk)

    def _close(f):
        services.flag_close(
            actor=request.user, flag=f, outcome=form.cleaned_data["outcome"], comment=form.cleaned_data["comment"]
        )
        messages.success(request, _("Flag closed."))

    return _flag_action(request, pk, _close)


def my_flags(request):
    """Advisors: the outcomes of their own flags (coaching). Team leads: their team's."""
    table = MyFlagTable(selectors.my_flags(user=request.user).filter(status=FlagStatus.CLOSED))
    return render_table_page(request, "compliance/my_flags.html", table, {})


# --- lexicon ---------------------------------------------------------------------------------


@role_required(*OFFICER_VIEW)
def lexicon(request):
    params = {k: request.GET.get(k, "").strip()[:100] for k in ("q", "category", "language", "severity", "state")}
    table = LexiconTable(selectors.lexicon_rules(user=request.user, **params))
    context = {
        "current": params,
        "categories": Category.choices,
        "severities": Severity.choices,
        "summary": LexiconRule.objects.aggregate(n=Count("id"), changed=Max("updated_at")),
        "is_officer": role_of(request.user) == Role.COMPLIANCE,
    }
    return render_table_page(request, "compliance/lexicon.html", table, context, per_page=100)


@role_required(Role.COMPLIANCE)
def lexicon_rule_create(request):
    form = LexiconRuleForm(request.POST or None, initial={"owner": request.user, "language": "zh"})
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.lexicon_rule_create(
                actor=request.user, data=form.rule_data(), note=form.cleaned_data.get("note", "")
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Rule %(code)s created.") % {"code": rule.code})
            return redirect("compliance:lexicon_edit", rule.pk)
    return render(request, "compliance/lexicon_form.html", {"form": form, "rule": None})


@role_required(*OFFICER_VIEW)
def lexicon_rule_edit(request, pk: int):
    rule = get_object_or_404(LexiconRule.objects.select_related("owner"), pk=pk)
    form = LexiconRuleForm(request.POST or None, instance=rule)
    if request.method == "POST":
        if role_of(request.user) != Role.COMPLIANCE:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.lexicon_rule_update(
                    actor=request.user, rule=rule, data=form.rule_data(), note=form.cleaned_data.get("note", "")
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Rule saved as a new version."))
                return redirect("compliance:lexicon_edit", rule.pk)
    history = list(rule.history.select_related("changed_by", "changed_by__staff_profile"))
    return render(request, "compliance/lexicon_form.html", {"form": form, "rule": rule, "history": history})


@role_required(*OFFICER_VIEW)
def lexicon_try(request):
    """Try a text against the active lexicon: hits highlighted, negated hits shown apart."""
    text = request.POST.get("text", "")[:5000] if request.method == "POST" else ""
    product_type = request.POST.get("product_type", "") or None
    result = None
    if text:
        from .scanner import active_scanner

        scanner: Scanner = active_scanner()
        result = scanner.scan(text, product_type=product_type)
    context = {
        "text": text,
        "result": result,
        "segments": highlight_segments(text, result.findings) if result else [],
        "product_type": product_type or "",
    }
    template = "compliance/lexicon_try.html#result" if request.htmx else "compliance/lexicon_try.html"
    return render(request, template, context)


# --- reports ---------------------------------------------------------------------------------


@role_required(Role.COMPLIANCE, Role.ADMIN, Role.TEAM_LEAD)
def reports(request):
    date_from, date_to, form = default_report_range(request.GET)
    report = selectors.compliance_report(
        user=request.user, filters=selectors.ReportFilters(date_from=date_from, date_to=date_to)
    )
    chart = {
        "labels": [row["week"].date().isoformat() for row in report["by_week"]],
        "flags": [row["flags"] for row in report["by_week"]],
        "violations": [row["violations"] for row in report["by_week"]],
        "flags_label": _("Flags"),
        "violations_label": _("Confirmed violations"),
    }
    context = {
        "form": form,
        "report": report,
        "chart_json": json.dumps(chart, ensure_ascii=False),
        "date_from": date_from,
        "date_to": date_to,
        "query": request.GET.urlencode(),
    }
    return render(request, "compliance/reports.html", context)


def _report_rows(report) -> list[list]:
    rows: list[list] = [
        [_("Dimension"), _("Key"), _("Flags"), _("Confirmed violations"), pgettext("flag status", "Open")]
    ]
    for r in report["by_advisor"]:
        name = r["advisor__staff_profile__display_name"] or r["advisor__username"] or "—"
        rows.append([_("Advisor"), name, r["flags"], r["violations"], r["open"]])
    for r in report["by_team"]:
        rows.append([_("Team"), r["team__name"] or "—", r["flags"], r["violations"], r["open"]])
    for r in report["by_category"]:
        rows.append([_("Category"), str(r["label"]), r["flags"], r["violations"], r["open"]])
    for r in report["by_week"]:
        rows.append([_("Week"), r["week"].date().isoformat(), r["flags"], r["violations"], ""])
    median = report["median_review_hours"]
    rows.append([_("Median time to review (hours)"), "", "" if median is None else round(median, 1), "", ""])
    for p in report["pending_scripts"]:
        rows.append([_("Script pending review (days)"), f"{p['version']}", p["age_days"], "", ""])
    return rows


@role_required(Role.COMPLIANCE, Role.ADMIN, Role.TEAM_LEAD)
def reports_export(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise PermissionDenied
    date_from, date_to, _form = default_report_range(request.GET)
    report = selectors.compliance_report(
        user=request.user, filters=selectors.ReportFilters(date_from=date_from, date_to=date_to)
    )
    rows = [spreadsheet_row(row) for row in _report_rows(report)]  # names are data, never formulas
    services.report_export_record(
        actor=request.user,
        fmt=fmt,
        params={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        rows=len(rows) - 1,
    )
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
        csv.writer(buf).writerows(rows)
        response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "compliance"
        for row in rows:
            ws.append([str(c) if not isinstance(c, int | float) else c for c in row])
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="compliance-report-{stamp}.{fmt}"'
    return response
