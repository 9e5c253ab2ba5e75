"""Pages of the referral workflow: list/inbox, detail with actions, dashboard, export."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.htmx import render_table_page
from org.roles import Role, role_of, role_required
from referrals.models import ReferralStatus

from . import exports, selectors, services
from .forms import AcceptForm, BulkAcceptForm, FollowUpForm, OutcomeForm, ReassignForm, RejectForm, ReturnForm
from .tables import ReferralTable, status_badge

DASHBOARD_ROLES = (Role.BRANCH_MANAGER, Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)


def _rms_for(referral_branch_id: int) -> list[dict]:
    return selectors.rm_choices_with_load(branch_id=referral_branch_id)


def referral_list(request):
    user = request.user
    role = role_of(user)
    tab = request.GET.get("tab", "")
    tabs = selectors.tabs_for(user)
    if tab not in dict(tabs):
        tab = tabs[0][0]
    qs = selectors.referral_list(user=user, tab=tab, status=request.GET.get("status", ""), q=request.GET.get("q", ""))
    selectable = role == Role.BRANCH_MANAGER and tab == "inbox"
    table = ReferralTable(qs, selectable=selectable, order_by=request.GET.get("sort"))
    counts = selectors.referral_tab_counts(user=user)
    context = {
        "tabs": [(key, label, counts.get(key, 0)) for key, label in tabs],
        "tab": tab,
        "q": request.GET.get("q", ""),
        "status": request.GET.get("status", ""),
        "statuses": ReferralStatus.choices,
        "bulk_form": (BulkAcceptForm(rms=_rms_for(user.staff_profile.branch_id)) if selectable else None),
        "can_dashboard": role in DASHBOARD_ROLES,
    }
    return render_table_page(request, "referrals/referral_list.html", table, context, per_page=25)


@require_POST
@role_required(Role.BRANCH_MANAGER, Role.ADMIN)
def referral_bulk_accept(request):
    profile = getattr(request.user, "staff_profile", None)
    branch_id = profile.branch_id if profile else None
    form = BulkAcceptForm(request.POST, rms=_rms_for(branch_id) if branch_id else [])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(f"{_list_url()}?tab=inbox")
    # Only referrals the manager can see: ids of another branch are silently not found.
    visible = list(
        selectors.referrals_visible(user=request.user)
        .filter(pk__in=form.cleaned_data["ids"])
        .values_list("pk", flat=True)
    )
    try:
        result = services.referral_bulk_accept(actor=request.user, referral_ids=visible, rm=form.cleaned_data["rm"])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"{_list_url()}?tab=inbox")
    skipped = len(form.cleaned_data["ids"]) - len(result["accepted"])
    messages.success(
        request,
        _("%(n)s referrals accepted and assigned to %(rm)s.")
        % {"n": len(result["accepted"]), "rm": form.cleaned_data["rm"].staff_profile.display_name}
        + (" " + _("%(n)s skipped (no longer pending).") % {"n": skipped} if skipped else ""),
    )
    return redirect(f"{_list_url()}?tab=inbox")


def _list_url() -> str:
    return reverse("referrals:list")


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("You may not do this.")


def _detail_context(request, referral, **forms) -> dict:
    user = request.user
    role = role_of(user)
    profile = getattr(user, "staff_profile", None)
    same_branch = role == Role.ADMIN or (profile is not None and profile.branch_id == referral.branch_id)
    is_manager = same_branch and role in (Role.BRANCH_MANAGER, Role.ADMIN)
    working = referral.status in services.WORKING_STATUSES
    can_work = (
        working
        and same_branch
        and (
            role in (Role.BRANCH_MANAGER, Role.ADMIN) or (role == Role.BRANCH_RM and referral.assigned_rm_id == user.pk)
        )
    )
    can_review = is_manager and referral.status == ReferralStatus.PENDING
    rms = _rms_for(referral.branch_id) if (can_review or (is_manager and working)) else []
    context = {
        "referral": referral,
        "status_badge": status_badge(referral),
        "role": role,
        "can_review": can_review,
        "can_work": can_work,
        "can_reassign": is_manager and working,
        "rms": rms,
        **selectors.referral_timeline(referral=referral),
    }
    if can_review:
        context["accept_form"] = forms.get("accept_form") or AcceptForm(rms=rms)
        context["reject_form"] = forms.get("reject_form") or RejectForm()
    if is_manager and working:
        context["reassign_form"] = forms.get("reassign_form") or ReassignForm(
            rms=rms, initial={"rm": referral.assigned_rm_id}
        )
    if can_work:
        context["follow_up_form"] = forms.get("follow_up_form") or FollowUpForm()
        context["outcome_form"] = forms.get("outcome_form") or OutcomeForm()
        context["return_form"] = forms.get("return_form") or ReturnForm()
    return context


def referral_detail(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    return render(request, "referrals/referral_detail.html", _detail_context(request, referral))


def _act(request, pk: int, form_name: str, form, action):
    """Validate ``form``, run the service ``action(referral, cleaned)``, redirect or re-render."""
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    if form.is_valid():
        try:
            action(referral, form.cleaned_data)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            url = referral_url(referral)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = _detail_context(request, referral, **{form_name: form})
    context["open_form"] = form_name
    return render(request, "referrals/referral_detail.html", context, status=400)


def referral_url(referral) -> str:
    return reverse("referrals:detail", kwargs={"pk": referral.pk})


@require_POST
def referral_accept(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    form = AcceptForm(request.POST, rms=_rms_for(referral.branch_id))
    return _act(
        request,
        pk,
        "accept_form",
        form,
        lambda r, d: services.referral_accept(actor=request.user, referral=r, rm=d["rm"]),
    )


@require_POST
def referral_reassign(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    form = ReassignForm(request.POST, rms=_rms_for(referral.branch_id))
    return _act(
        request,
        pk,
        "reassign_form",
        form,
        lambda r, d: services.referral_reassign(actor=request.user, referral=r, rm=d["rm"]),
    )


@require_POST
def referral_reject(request, pk: int):
    return _act(
        request,
        pk,
        "reject_form",
        RejectForm(request.POST),
        lambda r, d: services.referral_reject(actor=request.user, referral=r, reason=d["reason"], note=d["note"]),
    )


@require_POST
def referral_follow_up(request, pk: int):
    return _act(
        request,
        pk,
        "follow_up_form",
        FollowUpForm(request.POST),
        lambda r, d: services.referral_follow_up(
            actor=request.user,
            referral=r,
            kind=d["kind"],
            occurred_at=d["occurred_at"],
            reached=d["reached"],
            meeting_at=d["meeting_at"],
            note=d["note"],
        ),
    )


@require_POST
def referral_outcome(request, pk: int):
    return _act(
        request,
        pk,
        "outcome_form",
        OutcomeForm(request.POST),
        lambda r, d: services.referral_record_outcome(
            actor=request.user,
            referral=r,
            outcome=d["outcome"],
            product=d["product"],
            amount=d["amount"],
            note=d["note"],
        ),
    )


@require_POST
def referral_return(request, pk: int):
    return _act(
        request,
        pk,
        "return_form",
        ReturnForm(request.POST),
        lambda r, d: services.referral_return(actor=request.user, referral=r, reason=d["reason"]),
    )


def _period(request) -> tuple[dt.date | None, dt.date | None]:
    def parse(name):
        try:
            return dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    return parse("since"), parse("until")


@role_required(*DASHBOARD_ROLES)
def referral_dashboard(request):
    since, until = _period(request)
    stats = selectors.referral_dashboard(user=request.user, since=since, until=until)
    return render(
        request,
        "referrals/dashboard.html",
        {
            "stats": stats,
            "overdue": selectors.referral_overdue(user=request.user),
            "since": since,
            "until": until,
            "role": role_of(request.user),
        },
    )


@role_required(*DASHBOARD_ROLES)
def referral_export(request, fmt: str):
    since, until = _period(request)
    if fmt not in exports.FORMATS:
        return HttpResponse(_("Unknown export format."), status=400)
    return exports.referral_export_response(actor=request.user, fmt=fmt, since=since, until=until)
