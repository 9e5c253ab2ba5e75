"""Queue, call-screen and metrics views: parse, call a selector or service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.models import VersionStatus
from compliance.selectors import approved_scripts_for, approved_version_of
from core.access import require
from core.forms import form_add_service_errors, id_or_none, ids_of
from core.htmx import redirect_for, render_table_page
from core.pagination import count_cap
from customers.models import Product, ViewPlace
from leads import services as lead_services
from leads.access import can_call_lead, can_claim_lead, can_claim_next, can_confirm_lead
from leads.filters import LeadQueueFilter, PlannedCallFilter
from leads.selectors import campaign_task_for, lead_get_for_user

from . import selectors, services
from .access import can_view_call_metrics, can_work_queues
from .forms import CallOutcomeForm, ConfirmGradeForm
from .models import NextAction
from .policy import contact_policy_verdict
from .tables import CompletedCallTable, LeadQueueTable, NurtureTable, PlannedCallTable, ReferralQueueTable


@require(can_work_queues)
def queue(request):
    """The five queue tabs; htmx asks for the table only, and the tab counts come along
    out of band so they stay right after a filter, a sort or a claim."""
    tab = request.GET.get("tab", "confirm")
    if tab not in selectors.QUEUES:
        tab = "confirm"
    user = request.user
    counts = selectors.queue_counts(user=user)
    filterset = None
    if tab == "today":
        filterset = PlannedCallFilter(request.GET, queryset=selectors.planned_calls(user=user, when="all"))
        table = PlannedCallTable(filterset.qs)
    elif tab == "done":
        table = CompletedCallTable(selectors.calls_completed_today(user=user))
    elif tab == "referred":
        table = ReferralQueueTable(selectors.referrals_made(user=user))
    else:
        base = {
            "confirm": selectors.leads_to_confirm,
            "nurturing": selectors.leads_nurturing,
            "pool": selectors.leads_pool,
        }[tab](user=user)
        # The current score is shown beside the lead's score at proposal (one join).
        filterset = LeadQueueFilter(request.GET, queryset=base.select_related("customer__score"))
        table = (NurtureTable if tab == "nurturing" else LeadQueueTable)(filterset.qs)
    context = {
        "tab": tab,
        "filter": filterset,
        "tab_items": [(key, selectors.QUEUE_LABELS[key], count) for key, count in counts.items()],
        "can_claim": can_claim_next(user),
        "count_cap": count_cap(),
    }
    # Unfiltered, the table holds the rows its tab's badge has just counted: not twice.
    known = counts[tab] if filterset is None or not _narrowed(filterset) else None
    return render_table_page(
        request, "calls/queue.html", table, context, per_page=25, partials=("queue-body",), known_count=known
    )


def _narrowed(filterset) -> bool:
    """Whether the filters keep fewer rows than the tab counts (Today's calls counts
    the calls due today and overdue, its default "when")."""
    if not filterset.is_valid():
        return True
    return any(
        value not in (None, "") and not (name == "when" and value == "today")
        for name, value in filterset.form.cleaned_data.items()
    )


@require_POST
@require(can_claim_next)
def claim_next(request):
    lead = lead_services.lead_claim_next(actor=request.user)
    if lead is None:
        messages.info(request, _("No unclaimed leads left in your team's queue."))
        return redirect_for(request, reverse("calls:queue"))
    messages.success(request, _("Lead claimed: %(customer)s") % {"customer": lead.customer.name_masked})
    return redirect_for(request, reverse("calls:call", args=[lead.pk]))


@require_POST
@require(can_claim_next)
def claim(request, pk: int):
    lead = lead_get_for_user(user=request.user, pk=pk)
    lead_services.lead_claim(actor=request.user, lead=lead)  # refused: 403
    messages.success(request, _("Lead claimed: %(customer)s") % {"customer": lead.customer.name_masked})
    return redirect_for(request, reverse("calls:call", args=[pk]))


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")


def _call_page_context(request, lead, *, confirm_form=None, call_form=None):
    # Every rendering of the call screen (opened, or a refused form shown again) shows the
    # customer: the PIPL access record.
    services.lead_view_record(actor=request.user, lead=lead, user_agent=_user_agent(request))
    ctx = selectors.call_context(lead=lead)
    verdict = contact_policy_verdict(customer=lead.customer)
    focus = None
    focus_id = id_or_none(request.GET.get("product"))
    if focus_id is not None:
        focus = Product.objects.filter(pk=focus_id).first()
    scripts = _approved_scripts(focus)
    task = campaign_task_for(lead=lead)
    task_script = _task_script(task)
    if task_script is not None:
        scripts = [task_script, *[s for s in scripts if s.pk != task_script.pk]]
    if call_form is None:
        initial = {"script_version_id": scripts[0].id if scripts else None}
        if focus is not None:
            initial["products"] = [focus.pk]
        call_form = CallOutcomeForm(initial=initial)
    selected = call_form["products"].value() or []
    badges = _suitability_badges(lead.customer, ids_of(selected))
    user = request.user
    return {
        "lead": lead,
        "customer": lead.customer,
        "ctx": ctx,
        "verdict": verdict,
        "scripts": scripts,
        "campaign_task": task,
        "task_script": task_script,
        "focus": focus,
        "focus_products": call_form.products_on_shelf(),
        "badges": badges,
        "selected_products": {str(p) for p in selected},
        "confirm_form": confirm_form or ConfirmGradeForm(initial={"grade": lead.proposed_grade}),
        "call_form": call_form,
        # What the page offers is what the services accept: the same predicates.
        "can_call": can_call_lead(user, lead),
        "can_confirm": can_confirm_lead(user, lead),
        "can_claim": can_claim_lead(user, lead),
    }


def _task_script(task):
    """The words of a campaign call task: the version approved when the task was made, or
    (when compliance has since approved a newer one) the script's version in use now."""
    if task is None or task.script_version is None:
        return None
    if task.script_version.status == VersionStatus.APPROVED:
        return task.script_version
    return approved_version_of(script_id=task.script_version.script_id)


def _approved_scripts(product) -> list:
    """The approved scripts for the product in focus (none without a product: a script
    is only shown for what the advisor is about to talk about)."""
    if product is None:
        return []
    return list(approved_scripts_for(product=product))[:3]


def _suitability_badges(customer, product_ids: list[int]) -> list[dict]:
    if not product_ids:
        return []
    products = list(Product.objects.filter(pk__in=product_ids[:10]))
    return services.product_checks(customer=customer, products=products, today=timezone.localdate())


def call_screen(request, pk: int):
    lead = lead_get_for_user(user=request.user, pk=pk)
    return render(request, "calls/call.html", _call_page_context(request, lead))


def product_check(request, pk: int):
    """Suitability badges for the products ticked in the call form (htmx)."""
    lead = lead_get_for_user(user=request.user, pk=pk)
    services.lead_view_record(
        actor=request.user, lead=lead, page=ViewPlace.PRODUCT_CHECK, user_agent=_user_agent(request)
    )
    ids = ids_of(request.GET.getlist("products"))
    return render(request, "calls/call.html#badges", {"badges": _suitability_badges(lead.customer, ids)})


@require_POST
def confirm(request, pk: int):
    lead = lead_get_for_user(user=request.user, pk=pk)
    form = ConfirmGradeForm(request.POST)
    if form.is_valid():
        try:
            services.lead_confirm_grade(
                actor=request.user,
                lead=lead,
                grade=form.cleaned_data["grade"],
                reason_code=form.cleaned_data["reason_code"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            lead.refresh_from_db()
            messages.success(
                request,
                _("Grade confirmed: %(grade)s. The lead is now “%(status)s”.")
                % {"grade": lead.get_confirmed_grade_display(), "status": lead.get_status_display()},
            )
            return redirect_for(request, reverse("calls:call", args=[pk]))
    context = _call_page_context(request, lead, confirm_form=form)
    if request.htmx:
        return render(request, "calls/call.html#confirm-panel", context)
    return render(request, "calls/call.html", context, status=400)


@require_POST
def log_call(request, pk: int):
    lead = lead_get_for_user(user=request.user, pk=pk)
    form = CallOutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        started = data["started_at"]
        minutes = data.get("duration_minutes")
        try:
            entry = services.CallEntry(
                idempotency_key=data["idempotency_key"],
                disposition=data["disposition"],
                started_at=started,
                duration_seconds=int(minutes * 60) if minutes is not None else None,
                ended_at=started + dt.timedelta(minutes=float(minutes)) if minutes is not None else None,
                purpose=data["purpose"],
                service_reason=data["service_reason"],
                interest=data["interest"],
                products=data["products"],
                needs=data["needs"],
                notes=data["notes"],
                next_action=data["next_action"],
                callback_at=data["callback_at"],
                won_product=data["won_product"],
                won_amount=data["won_amount"],
                second_review=data["second_review"],
                lost_reason=data["lost_reason"],
                script_version_id=data["script_version_id"],
                touch_kind=data["touch_kind"],
            )
            call, created = services.call_log_create(actor=request.user, lead=lead, entry=entry)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            if created:
                text = _("Call logged.")
                if call.next_action == NextAction.CALLBACK:
                    text += " " + _("Callback planned for %(at)s.") % {
                        "at": timezone.localtime(call.callback_at).strftime("%Y-%m-%d %H:%M")
                    }
                messages.success(request, text)
            else:
                messages.info(request, _("This call was already logged; nothing was added."))
            return redirect_for(request, reverse("calls:queue") + "?tab=today")
    context = _call_page_context(request, lead, call_form=form)
    if request.htmx:
        return render(request, "calls/call.html#call-form", context)
    return render(request, "calls/call.html", context, status=400)


METRICS_FIRST_DAY, METRICS_LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


@require(can_view_call_metrics)
def kpis(request):
    """Team figures per advisor and per day/week/month, with a chart and override rates."""
    today = timezone.localdate()
    period = request.GET.get("period", "day")
    period = period if period in selectors.PERIODS else "day"
    default_days = {"day": 13, "week": 7 * 8 - 1, "month": 180}[period]
    try:
        end = dt.date.fromisoformat(request.GET.get("end") or today.isoformat())
        start = dt.date.fromisoformat(request.GET.get("start") or (end - dt.timedelta(days=default_days)).isoformat())
    except (ValueError, OverflowError):  # not a date, or a default start before year 1
        messages.error(request, _("Dates must look like 2026-01-31."))
        end, start = today, today - dt.timedelta(days=default_days)
    if not (start >= METRICS_FIRST_DAY and end <= METRICS_LAST_DAY):
        # a year such as 9999 is a typing slip, and the day after it does not exist
        messages.error(request, _("Choose dates between 2000 and 2099."))
        end, start = today, today - dt.timedelta(days=default_days)
    if start > end:
        messages.error(request, _("The start date must not be after the end date."))
        start = end - dt.timedelta(days=default_days)
    if (end - start).days > 400:
        messages.error(request, _("Choose at most 400 days."))
        start = end - dt.timedelta(days=400)
    data = selectors.team_kpis(user=request.user, start=start, end=end, period=period)
    chart = {
        "labels": [r.label for r in data["periods"]],
        "execution": [_pct(r.kpis.execution_rate) for r in data["periods"]],
        "effective": [_pct(r.kpis.effective_rate) for r in data["periods"]],
        "dialled": [r.kpis.dialled for r in data["periods"]],
        "target": round(data["total"].kpis.effective_target * 100, 1),
        "names": {
            "execution": f"{selectors.MEASURES['execution_rate'].label} %",
            "effective": f"{selectors.MEASURES['effective_rate'].label} %",
            "dialled": str(selectors.MEASURES["dialled"].label),
            "target": _("Target"),
        },
    }
    context = {
        **data,
        "period": period,
        "start": start,
        "end": end,
        "chart": chart,
        "periods": data["periods"],
        "measures": selectors.MEASURES,
    }
    if request.htmx:
        return render(request, "calls/kpis.html#kpi-body", context)
    return render(request, "calls/kpis.html", context)


def _pct(rate) -> float | None:
    return None if rate is None else round(rate * 100, 1)
