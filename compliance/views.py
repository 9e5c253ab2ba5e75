"""Views of the compliance feature: thin. Each asks the predicates of ``compliance.access``
(the same ones the services guard with), reads through selectors and FilterSets, and
writes through services."""

from __future__ import annotations

import difflib
import json
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from core.access import require
from core.exports import FORMATS, export_response
from core.forms import form_add_service_errors
from core.htmx import render_table_page
from customers.models import ProductType, ViewPlace
from customers.services.privacy import customer_view_record

from . import access, selectors
from .constants import SEVERITY_ORDER, Category, Disclosure, Severity
from .filters import FlagFilter, LexiconFilter, ScriptLibraryFilter
from .forms import (
    ApproveForm,
    BulkCloseForm,
    ConceptGroupForm,
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
from .models import FindingKind, FlagKind, FlagStatus, ScriptPurpose, VersionStatus
from .scanner import active_scanner
from .services import flags as flag_services
from .services import lexicon as lexicon_services
from .services import qa as qa_services
from .services import reports as report_services
from .services import scripts as script_services
from .services import surveillance as surveillance_services
from .tables import FlagTable, LexiconTable, LibraryTable, MyFlagTable, PendingScriptTable


def _flash_errors(request, errors) -> None:
    """Errors of an action whose page is not re-rendered (a redirect follows) as messages."""
    for message in errors:
        messages.error(request, message)


def _form_messages(form) -> list[str]:
    return [e for errors in form.errors.values() for e in errors]


# --- text presentation -----------------------------------------------------------------------


def flag_findings_display(flag) -> list[SimpleNamespace]:
    """A flag's findings with their category and severity in words, for the page."""
    out = []
    for f in flag.findings:
        category, severity = f.get("category", ""), f.get("severity", "")
        out.append(
            SimpleNamespace(
                **{**f, "source": f.get("source", "rule")},
                category_label=Category(category).label if category in Category.values else category,
                severity_label=Severity(severity).label if severity in Severity.values else severity,
                percent=round(f["probability"] * 100) if f.get("probability") is not None else None,
            )
        )
    return out


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


# --- scripts ---------------------------------------------------------------------------------


def script_library(request):
    """Approved scripts by product, for everyone; authors also see their own work in progress."""
    filterset = ScriptLibraryFilter(request.GET, queryset=selectors.approved_versions(user=request.user))
    versions = filterset.qs.order_by("script__product__name", "script__purpose", "script__title")
    context = {
        "purposes": ScriptPurpose.choices,
        "product_types": ProductType.choices,
        "current": filterset.form.cleaned_data,
        "my_versions": list(selectors.my_scripts(user=request.user)[:50]),
        "can_propose": access.can_propose_script(request.user),
    }
    return render_table_page(request, "compliance/script_library.html", LibraryTable(versions), context)


@require(access.can_propose_script)
def script_create(request):
    form = ScriptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            version = script_services.script_create(
                actor=request.user,
                title=d["title"],
                purpose=d["purpose"],
                body=d["body"],
                product=d["product"],
                product_type=d["product_type"],
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            if "submit" in request.POST:
                script_services.script_submit_for_review(actor=request.user, version=version)
                messages.success(request, _("Script submitted for compliance review."))
            else:
                messages.success(request, _("Draft saved."))
            return redirect("compliance:script_detail", version.script_id)
    return render(request, "compliance/script_form.html", {"form": form, "creating": True})


def script_detail(request, pk: int):
    user = request.user
    script = selectors.script_get_for_user(user=user, pk=pk)
    versions = [v for v in script.versions.all() if access.can_view_version(user, v)]
    approved = next((v for v in versions if v.status == VersionStatus.APPROVED), None)
    open_version = next((v for v in versions if v.status in (VersionStatus.DRAFT, VersionStatus.SUBMITTED)), None)
    latest = versions[0] if versions else None
    # The author's side and the desk read the findings and the review evidence; others
    # read the approved text only.
    sees_review = access.can_oversee(user) or user.pk in (script.author_id, latest.author_id if latest else None)
    findings = list(latest.findings.select_related("rule")) if latest is not None and sees_review else []
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
        # A new version only when none is open: the author's own draft is continued with
        # "Edit draft", and a submitted version is with the reviewers, not to be edited.
        "can_revise": access.can_revise_script(user, script) and open_version is None,
        "can_retire": approved is not None and access.can_review_version(user, approved),
        "can_edit_latest": latest is not None and access.can_edit_version(user, latest),
        "can_review_latest": latest is not None
        and latest.status == VersionStatus.SUBMITTED
        and access.can_review_version(user, latest),
        "evidence": list(selectors.version_evidence([v.pk for v in versions])) if sees_review else [],
    }
    return render(request, "compliance/script_detail.html", context)


@require_POST
def script_revise(request, pk: int):
    script = selectors.script_get_for_user(user=request.user, pk=pk)
    try:
        version = script_services.script_revise(actor=request.user, script=script)
    except ValidationError as exc:
        _flash_errors(request, exc.messages)
        return redirect("compliance:script_detail", pk)
    if version.status == VersionStatus.SUBMITTED:
        messages.info(request, _("A version of this script is already awaiting review."))
        return redirect("compliance:script_detail", pk)
    return redirect("compliance:version_edit", version.pk)


def version_edit(request, pk: int):
    version = selectors.version_get_for_user(user=request.user, pk=pk)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("compliance:script_detail", version.script_id)
    if not access.can_edit_version(request.user, version):
        raise PermissionDenied
    form = VersionEditForm(request.POST or None, initial={"title": version.script.title, "body": version.body})
    if request.method == "POST" and form.is_valid():
        try:
            script_services.script_version_update(
                actor=request.user, version=version, title=form.cleaned_data["title"], body=form.cleaned_data["body"]
            )
            if "submit" in request.POST:
                script_services.script_submit_for_review(actor=request.user, version=version)
                messages.success(request, _("Script submitted for compliance review."))
            else:
                messages.success(request, _("Draft saved."))
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return redirect("compliance:script_detail", version.script_id)
    return render(
        request,
        "compliance/script_form.html",
        {"form": form, "version": version, "previous": version.based_on, "creating": False},
    )


@require_POST
def version_submit(request, pk: int):
    version = selectors.version_get_for_user(user=request.user, pk=pk)
    try:
        script_services.script_submit_for_review(actor=request.user, version=version)
    except ValidationError as exc:
        _flash_errors(request, exc.messages)
    else:
        messages.success(request, _("Script submitted for compliance review."))
    return redirect("compliance:script_detail", version.script_id)


@require(access.can_oversee)
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
        "findings": sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.start or 0)),
        "segments": highlight_segments(version.body, lexicon_findings),
        "previous": compared,
        "diff": diff_segments(compared.body, version.body) if compared else None,
        "evidence": list(selectors.version_evidence(version.script.versions.values("pk"))),
        "open_high": open_high,
        "open_medium": open_medium,
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        "can_decide": version.status == VersionStatus.SUBMITTED and access.can_review_version(request.user, version),
        "can_approve": access.can_approve_version(request.user, version),
    }
    return render(request, "compliance/version_review.html", context)


@require_POST
def version_approve(request, pk: int):
    version = selectors.version_get_for_user(user=request.user, pk=pk)
    form = ApproveForm(request.POST)
    form.is_valid()
    try:
        script_services.script_approve(
            actor=request.user,
            version=version,
            comment=form.cleaned_data.get("comment", ""),
            acknowledge_medium=form.cleaned_data.get("acknowledge_medium", False),
        )
    except ValidationError as exc:
        _flash_errors(request, exc.messages)
        return redirect("compliance:version_review", pk)
    messages.success(request, _("Version approved; it is now the one in use."))
    return redirect("compliance:script_reviews")


@require_POST
def version_reject(request, pk: int):
    version = selectors.version_get_for_user(user=request.user, pk=pk)
    form = RejectForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        script_services.script_reject(actor=request.user, version=version, comment=comment)
    except ValidationError as exc:
        _flash_errors(request, exc.messages)
        return redirect("compliance:version_review", pk)
    messages.success(request, _("Version rejected; the author has been notified."))
    return redirect("compliance:script_reviews")


@require_POST
def version_retire(request, pk: int):
    version = selectors.version_get_for_user(user=request.user, pk=pk)
    try:
        script_services.script_retire(
            actor=request.user, version=version, comment=request.POST.get("comment", "")[:2000]
        )
    except ValidationError as exc:
        _flash_errors(request, exc.messages)
    else:
        messages.success(request, _("Script retired; it is no longer shown to advisors."))
    return redirect("compliance:script_detail", version.script_id)


# --- review queue ------------------------------------------------------------------------


@require(access.can_oversee)
def review_queue(request):
    filterset = FlagFilter(request.GET, queryset=selectors.review_queue(user=request.user), request=request)
    flags = filterset.qs  # validates the filter form: what it could not read is left out
    context = {
        "current": filterset.form.cleaned_data,
        "statuses": FlagStatus.choices,
        "severities": Severity.choices,
        "categories": [c for c in Category.choices if c[0] != Category.ALLOW],
        "kinds": FlagKind.choices,
        "pending_scripts": selectors.pending_reviews(user=request.user).count(),
        "can_review": access.can_review_flag(request.user),
    }
    return render_table_page(request, "compliance/review_queue.html", FlagTable(flags), context)


@require(access.can_oversee)
def script_reviews(request):
    table = PendingScriptTable(selectors.pending_reviews(user=request.user))
    return render_table_page(request, "compliance/script_reviews.html", table, {})


@require_POST
def flags_bulk_close(request):
    if not access.can_review_flag(request.user):
        raise PermissionDenied
    form = BulkCloseForm(request.POST)
    if form.is_valid():
        try:
            n = flag_services.flags_bulk_close(
                actor=request.user, flag_ids=form.cleaned_data["flag_ids"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _flash_errors(request, exc.messages)
        else:
            messages.success(request, _("%(n)d flags closed as false positives.") % {"n": n})
    else:
        _flash_errors(request, _form_messages(form))
    return redirect(reverse("compliance:review_queue") + "?" + request.POST.get("return_query", ""))


@require(access.can_oversee)
def qa_settings(request):
    config = qa_services.qa_config()
    form = QASettingsForm(
        request.POST or None,
        initial={"share_percent": config.share_percent, "minimum_per_advisor": config.minimum_per_advisor},
    )
    if request.method == "POST":
        if not access.can_configure_qa(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                qa_services.qa_config_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, _("QA sampling settings saved."))
                return redirect("compliance:qa_settings")
    context = {
        "form": form,
        "config": config,
        "runs": selectors.qa_recent_runs(),
        "can_configure": access.can_configure_qa(request.user),
    }
    return render(request, "compliance/qa_settings.html", context)


@require(access.can_oversee)
def rescan(request):
    form = DateRangeForm(request.POST or None)
    if request.method == "POST":
        if not access.can_start_rescan(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                job = surveillance_services.rescan_start(
                    actor=request.user, date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, _("Rescan started."))
                return redirect(reverse("compliance:rescan") + f"?job={job.pk}")
    context = {"form": form, "jobs": selectors.rescan_jobs(), "can_start": access.can_start_rescan(request.user)}
    return render(request, "compliance/rescan.html", context)


def flag_detail(request, pk: int):
    user = request.user
    flag = selectors.flag_get_for_user(user=user, pk=pk)
    comm = flag.communication
    if comm.customer_id:  # the customer's name and words are on the page
        customer_view_record(
            actor=user,
            customer=comm.customer_id,
            page=ViewPlace.FLAG,
            details={"flag": flag.pk},
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    can_review = access.can_review_flag(user, flag)
    findings = flag_findings_display(flag)
    context = {
        "flag": flag,
        "findings": findings,
        "segments": highlight_segments(flag.text_snapshot, [f for f in findings if f.source == "rule"]),
        "can_add_to_corpus": access.can_review_flag(user, flag)
        and flag.status == FlagStatus.CLOSED
        and not flag.corpus_entries.exists(),
        "reviews": selectors.flag_evidence(flag),
        # Only those this user may open (an advisor does not see what is still under review).
        "other_flags": [o for o in selectors.other_flags_on_text(flag) if access.can_view_flag(user, o)],
        "customer_url": reverse("customers:detail", args=[comm.customer_id]) if comm.customer_id else None,
        # Written by the app that handed the text in (the call screen of a call note).
        "source_url": comm.source_url or None,
        "can_oversee": access.can_oversee(user),
        "can_review": can_review,
        "close_form": FlagCloseForm(),
        "escalate_form": FlagEscalateForm(targets=selectors.escalation_targets(user=user)) if can_review else None,
    }
    return render(request, "compliance/flag_detail.html", context)


@require_POST
@require(access.can_review_flag)
def flag_add_to_corpus(request, pk: int):
    """One click: the reviewed text joins the classifier's labelled corpus."""
    return _flag_action(request, pk, lambda f: flag_services.flag_add_to_corpus(actor=request.user, flag=f))


def _flag_action(request, pk: int, action):
    flag = selectors.flag_get_for_user(user=request.user, pk=pk)
    try:
        action(flag)
    except ValidationError as exc:
        _flash_errors(request, exc.messages)
    return redirect("compliance:flag_detail", pk)


@require_POST
def flag_claim(request, pk: int):
    return _flag_action(request, pk, lambda f: flag_services.flag_claim(actor=request.user, flag=f))


@require_POST
def flag_release(request, pk: int):
    return _flag_action(request, pk, lambda f: flag_services.flag_release(actor=request.user, flag=f))


@require_POST
def flag_escalate(request, pk: int):
    form = FlagEscalateForm(request.POST, targets=selectors.escalation_targets(user=request.user))
    if not form.is_valid():
        _flash_errors(request, _form_messages(form))
        return redirect("compliance:flag_detail", pk)
    return _flag_action(
        request,
        pk,
        lambda f: flag_services.flag_escalate(
            actor=request.user, flag=f, to_user=form.cleaned_data["to_user"], comment=form.cleaned_data["comment"]
        ),
    )


@require_POST
def flag_close(request, pk: int):
    form = FlagCloseForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, _form_messages(form))
        return redirect("compliance:flag_detail", pk)

    def _close(f):
        flag_services.flag_close(
            actor=request.user, flag=f, outcome=form.cleaned_data["outcome"], comment=form.cleaned_data["comment"]
        )
        messages.success(request, _("Flag closed."))

    return _flag_action(request, pk, _close)


def my_flags(request):
    """Advisors: the outcomes of their own flags (coaching). Team leads: their team's."""
    table = MyFlagTable(selectors.my_flags(user=request.user))
    return render_table_page(request, "compliance/my_flags.html", table, {})


# --- lexicon ---------------------------------------------------------------------------------


@require(access.can_oversee)
def lexicon(request):
    filterset = LexiconFilter(request.GET, queryset=selectors.lexicon_rules())
    rules = filterset.qs
    context = {
        "current": filterset.form.cleaned_data,
        "categories": Category.choices,
        "severities": Severity.choices,
        "summary": selectors.lexicon_summary(),
        "can_edit": access.can_edit_lexicon(request.user),
    }
    # 25 rows of 8 columns, written out by the table's row template: django-tables2's
    # per-cell machinery, not the queries (constant), was most of the page's server time
    # (docs/compliance-scanner.md).
    return render_table_page(request, "compliance/lexicon.html", LexiconTable(rules), context, per_page=25)


@require(access.can_oversee)
def concept_groups(request):
    context = {"groups": selectors.concept_groups_list(), "can_edit": access.can_edit_lexicon(request.user)}
    return render(request, "compliance/concept_groups.html", context)


@require(access.can_oversee)
def concept_group_edit(request, pk: int | None = None):
    """A concept group: its terms, one per line (officers edit, administrators read)."""
    group = selectors.concept_group_get(pk=pk) if pk else None
    can_edit = access.can_edit_lexicon(request.user)
    if pk is None and not can_edit:
        raise PermissionDenied
    form = ConceptGroupForm(request.POST or None, instance=group)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                saved = lexicon_services.concept_group_save(actor=request.user, group=group, **form.cleaned_data)
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, _("Concept group saved."))
                return redirect("compliance:concept_group_edit", saved.pk)
    return render(request, "compliance/concept_group_form.html", {"form": form, "group": group, "can_edit": can_edit})


@require(access.can_edit_lexicon)
def lexicon_rule_create(request):
    form = LexiconRuleForm(request.POST or None, initial={"owner": request.user, "language": "zh"})
    if request.method == "POST" and form.is_valid():
        try:
            rule = lexicon_services.lexicon_rule_create(
                actor=request.user, data=form.rule_data(), note=form.cleaned_data.get("note", "")
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("Rule %(code)s created.") % {"code": rule.code})
            return redirect("compliance:lexicon_edit", rule.pk)
    return render(request, "compliance/lexicon_form.html", {"form": form, "rule": None, "can_edit": True})


@require(access.can_oversee)
def lexicon_rule_edit(request, pk: int):
    rule = selectors.lexicon_rule_get(pk=pk)
    form = LexiconRuleForm(request.POST or None, instance=rule)
    can_edit = access.can_edit_lexicon(request.user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                lexicon_services.lexicon_rule_update(
                    actor=request.user, rule=rule, data=form.rule_data(), note=form.cleaned_data.get("note", "")
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, _("Rule saved as a new version."))
                return redirect("compliance:lexicon_edit", rule.pk)
    context = {"form": form, "rule": rule, "history": selectors.lexicon_history(rule), "can_edit": can_edit}
    return render(request, "compliance/lexicon_form.html", context)


@require(access.can_oversee)
def lexicon_try(request):
    """Try a text against the active lexicon: hits highlighted, negated hits shown apart."""
    text = request.POST.get("text", "")[:5000] if request.method == "POST" else ""
    product_type = request.POST.get("product_type", "") or None
    result = active_scanner(model=False).scan(text, product_type=product_type) if text else None
    context = {
        "text": text,
        "result": result,
        "findings": [_finding_row(f) for f in result.findings] if result else [],
        "suppressed": [_finding_row(f) for f in result.suppressed] if result else [],
        "missing": [
            {"label": _disclosure_label(d.code), "required_text": d.required_text} for d in result.missing_disclosures
        ]
        if result
        else [],
        "segments": highlight_segments(text, result.findings) if result else [],
        "product_type": product_type or "",
    }
    template = "compliance/lexicon_try.html#result" if request.htmx else "compliance/lexicon_try.html"
    return render(request, template, context)


def _finding_row(finding) -> dict:
    """A scanner finding with the labels people read (the codes stay in the data)."""
    return {
        "rule": finding.rule,
        "match": finding.match,
        "severity": finding.severity,
        "severity_label": Severity(finding.severity).label if finding.severity in Severity.values else "",
        "category_label": Category(finding.category).label if finding.category in Category.values else "",
    }


def _disclosure_label(code: str) -> str:
    return str(Disclosure(code).label) if code in Disclosure.values else code


# --- reports ---------------------------------------------------------------------------------


def _report(request):
    date_from, date_to, form = default_report_range(request.GET)
    filters = selectors.ReportFilters(date_from=date_from, date_to=date_to)
    return filters, form, selectors.compliance_report(user=request.user, filters=filters)


@require(access.can_view_reports)
def reports(request):
    filters, form, report = _report(request)
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
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "query": request.GET.urlencode(),
    }
    return render(request, "compliance/reports.html", context)


def _report_header() -> list:
    return [
        _("Dimension"),
        pgettext("report row", "Key"),
        _("Flags"),
        _("Confirmed violations"),
        pgettext("flag status", "Open"),
    ]


def _report_rows(report) -> list[list]:
    rows: list[list] = []
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


@require(access.can_view_reports)
def reports_export(request, fmt: str):
    if fmt not in FORMATS:
        raise PermissionDenied
    filters, _form, report = _report(request)
    rows = _report_rows(report)
    report_services.report_export_record(
        actor=request.user,
        fmt=fmt,
        params={"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat()},
        rows=len(rows),
    )
    return export_response(
        fmt=fmt,
        filename=f"compliance-report-{timezone.localdate().isoformat()}",
        header=_report_header(),
        rows=rows,
        sheet="compliance",
    )
