"""Pages of the referral workflow: list/inbox, detail with actions, dashboard, export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import require
from core.exports import FORMATS
from core.forms import form_add_service_errors
from core.htmx import redirect_for, render_table_page
from customers.models import ViewPlace
from customers.services.privacy import customer_view_record
from org.roles import BRANCH_ROLES, Role, role_of

from . import access, exports, selectors, services
from .access import can_decide_referral, can_work_referral
from .extensions import REFERRAL_PANELS
from .filters import ReferralFilter
from .forms import AcceptForm, BulkAcceptForm, FollowUpForm, OutcomeForm, ReassignForm, RejectForm, ReturnForm
from .models import Referral, ReferralStatus
from .tables import ReferralTable, status_badge


def _rms_for(branch_id: int) -> list[dict]:
    return selectors.rm_choices_with_load(branch_id=branch_id)


def _list_url(tab: str = "") -> str:
    url = reverse("referrals:list")
    return f"{url}?tab={tab}" if tab else url


def referral_list(request):
    user = request.user
    role = role_of(user)
    tabs = selectors.tabs_for(user)
    tab = request.GET.get("tab", "")
    if tab not in dict(tabs):
        tab = tabs[0][0]
    filterset = ReferralFilter(request.GET, queryset=selectors.referral_list(user=user, tab=tab))
    # Only a branch manager accepts in bulk: the form offers the RMs of their branch.
    selectable = role == Role.BRANCH_MANAGER and tab == "inbox"
    table = ReferralTable(filterset.qs, selectable=selectable, order_by=request.GET.get("sort"))
    counts = selectors.referral_tab_counts(user=user)
    context = {
        "tabs": [(key, label, counts.get(key, 0)) for key, label in tabs],
        "tab": tab,
        "filter": filterset,
        # Branch staff see one branch: a branch choice would offer nothing.
        "show_branch_filter": role not in BRANCH_ROLES,
        "bulk_form": BulkAcceptForm(rms=_rms_for(user.staff_profile.branch_id)) if selectable else None,
        "can_dashboard": access.can_view_referral_dashboard(user),
        "export_query": urlencode(filterset.params()),
    }
    return render_table_page(request, "referrals/referral_list.html", table, context, per_page=25)


@require_POST
@require(access.can_bulk_accept)
def referral_bulk_accept(request):
    profile = getattr(request.user, "staff_profile", None)
    branch_id = profile.branch_id if profile else None
    form = BulkAcceptForm(request.POST, rms=_rms_for(branch_id) if branch_id else [])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_list_url("inbox"))
    # Only referrals the manager may decide: ids of another branch are silently not found.
    ids = list(
        Referral.objects.restrict(request.user, "decide")
        .filter(pk__in=form.cleaned_data["ids"])
        .values_list("pk", flat=True)
    )
    try:
        result = services.referral_bulk_accept(actor=request.user, referral_ids=ids, rm=form.cleaned_data["rm"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_list_url("inbox"))
    skipped = len(form.cleaned_data["ids"]) - len(result["accepted"])
    messages.success(
        request,
        _("%(n)s referrals accepted and assigned to %(rm)s.")
        % {"n": len(result["accepted"]), "rm": form.cleaned_data["rm"].staff_profile.display_name}
        + (" " + _("%(n)s skipped (no longer pending).") % {"n": skipped} if skipped else ""),
    )
    return redirect(_list_url("inbox"))


def _panels(request, referral) -> list[dict]:
    """What the apps above show on the page (``REFERRAL_PANELS``), each rendered from its
    own template with the referral and its ``context``."""
    return [
        {
            "key": panel.key,
            "label": panel.label,
            "html": render_to_string(
                panel.template, {"referral": referral, **panel.context(request, referral)}, request=request
            ),
        }
        for panel in REFERRAL_PANELS.entries()
    ]


def _detail_context(request, referral, **forms) -> dict:
    """The page and the forms it offers: a form only where ``referrals.access`` lets the
    user act and the referral's status allows the action (the services check both)."""
    user = request.user
    # The page shows the customer: the PIPL record (also when a refused form re-renders it).
    customer_view_record(
        actor=user,
        customer=referral.customer_id,
        page=ViewPlace.REFERRAL,
        details={"referral": referral.pk},
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    working = referral.status in services.WORKING_STATUSES
    may_decide = can_decide_referral(user, referral)
    can_review = may_decide and referral.status == ReferralStatus.PENDING
    can_reassign = may_decide and working
    can_work = working and can_work_referral(user, referral)
    rms = _rms_for(referral.branch_id) if (can_review or can_reassign) else []
    context = {
        "referral": referral,
        "status_badge": status_badge(referral),
        "can_review": can_review,
        "can_reassign": can_reassign,
        "can_work": can_work,
        "panels": _panels(request, referral),
        **selectors.referral_timeline(referral=referral),
    }
    if can_review:
        context["accept_form"] = forms.get("accept_form") or AcceptForm(rms=rms)
        context["reject_form"] = forms.get("reject_form") or RejectForm()
    if can_reassign:
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


# What each form did, said back to the user once it is done.
_DONE = {
    "accept_form": _("Referral of %(customer)s accepted and assigned to %(rm)s."),
    "reassign_form": _("Referral of %(customer)s reassigned to %(rm)s."),
    "reject_form": _("Referral of %(customer)s rejected; the advisor has been told why."),
    "follow_up_form": _("Follow-up with %(customer)s recorded."),
    "outcome_form": _("Outcome for %(customer)s recorded."),
    "return_form": _("Referral of %(customer)s returned to the advisor's team."),
}


def _done_message(form_name: str, referral, data: dict) -> str:
    rm = data.get("rm")
    return _DONE[form_name] % {
        "customer": referral.customer.name_masked,
        "rm": rm.staff_profile.display_name if rm is not None else "",
    }


def _act(request, referral, form_name: str, form, action):
    """Validate ``form``, run the service ``action(cleaned_data)``, redirect or re-render.

    A refusal of the service (PermissionDenied) is a 403; its ValidationError goes on the form."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _done_message(form_name, referral, form.cleaned_data))
            return redirect_for(request, reverse("referrals:detail", kwargs={"pk": referral.pk}))
    context = _detail_context(request, referral, **{form_name: form})
    context["open_form"] = form_name
    return render(request, "referrals/referral_detail.html", context, status=400)


@require_POST
def referral_accept(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    form = AcceptForm(request.POST, rms=_rms_for(referral.branch_id))
    return _act(
        request,
        referral,
        "accept_form",
        form,
        lambda d: services.referral_accept(actor=request.user, referral=referral, rm=d["rm"]),
    )


@require_POST
def referral_reassign(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    form = ReassignForm(request.POST, rms=_rms_for(referral.branch_id))
    return _act(
        request,
        referral,
        "reassign_form",
        form,
        lambda d: services.referral_reassign(actor=request.user, referral=referral, rm=d["rm"]),
    )


@require_POST
def referral_reject(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    return _act(
        request,
        referral,
        "reject_form",
        RejectForm(request.POST),
        lambda d: services.referral_reject(actor=request.user, referral=referral, reason=d["reason"], note=d["note"]),
    )


@require_POST
def referral_follow_up(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    return _act(
        request,
        referral,
        "follow_up_form",
        FollowUpForm(request.POST),
        lambda d: services.referral_follow_up(
            actor=request.user,
            referral=referral,
            kind=d["kind"],
            occurred_at=d["occurred_at"],
            reached=d["reached"],
            meeting_at=d["meeting_at"],
            note=d["note"],
        ),
    )


@require_POST
def referral_outcome(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    return _act(
        request,
        referral,
        "outcome_form",
        OutcomeForm(request.POST),
        lambda d: services.referral_record_outcome(
            actor=request.user,
            referral=referral,
            outcome=d["outcome"],
            product=d["product"],
            amount=d["amount"],
            note=d["note"],
            second_review=d["second_review"],
        ),
    )


@require_POST
def referral_return(request, pk: int):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    return _act(
        request,
        referral,
        "return_form",
        ReturnForm(request.POST),
        lambda d: services.referral_return(actor=request.user, referral=referral, reason=d["reason"]),
    )


@require(access.can_view_referral_dashboard)
def referral_dashboard(request):
    # The period is read by the list's filter (the export link passes it on).
    period = ReferralFilter(request.GET, queryset=Referral.objects.none())
    period.is_valid()
    since = period.form.cleaned_data.get("since")
    until = period.form.cleaned_data.get("until")
    overdue, overdue_count = selectors.referral_overdue(user=request.user)
    return render(
        request,
        "referrals/dashboard.html",
        {
            "stats": selectors.referral_dashboard(user=request.user, since=since, until=until),
            "overdue": overdue,
            "overdue_count": overdue_count,
            "since": since,
            "until": until,
            "export_query": urlencode(period.params()),
        },
    )


@require(access.can_view_referral_dashboard)
def referral_export(request, fmt: str):
    if fmt not in FORMATS:
        return HttpResponse(_("Unknown export format."), status=400)
    return exports.referral_export_response(actor=request.user, fmt=fmt, data=request.GET)
