"""Views of campaigns and segments: thin. Each asks the predicates of ``campaigns.access``
(the ones the services guard with), reads through selectors and writes through services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import require
from core.forms import form_add_service_errors
from core.htmx import render_table_page
from core.pagination import capped_count
from customers.filters import CustomerFilter
from customers.models import Channel, Customer

from . import access, selectors
from .forms import CampaignForm, ReturnForm, SegmentUploadForm, StepForm
from .models import CampaignStatus, CampaignStep, MessageStatus, SegmentKind
from .services import lifecycle
from .services import segments as segment_services
from .tables import CampaignTable, MessageTable, SegmentTable
from .targeting import audience_overlaps, exclusion_funnel


def _flash_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- campaigns -----------------------------------------------------------------------------


@require(access.can_view_campaigns)
def campaign_list(request):
    table = CampaignTable(selectors.campaigns_for_list(user=request.user))
    context = {
        "can_create": access.can_change_campaigns(request.user),
        "awaiting": selectors.campaigns_awaiting_approval(user=request.user)[:20],
        "can_view_outbox": access.can_view_outbox(request.user),
    }
    return render_table_page(request, "campaigns/campaign_list.html", table, context)


@require(access.can_view_campaigns)
def campaign_calendar(request):
    """Scheduled and running campaigns, with the audiences they share while both run."""
    campaigns = list(selectors.campaigns_on_calendar(user=request.user)[:200])
    overlaps = audience_overlaps(campaigns)
    rows = [{"campaign": c, "overlaps": overlaps[c.pk]} for c in campaigns]
    return render(request, "campaigns/calendar.html", {"rows": rows})


def _campaign_form(request, data=None, initial=None):
    return CampaignForm(data, initial=initial, segments=selectors.segments_for_list(user=request.user))


@require(access.can_change_campaigns)
def campaign_create(request):
    form = _campaign_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = lifecycle.campaign_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "creating": True})


def campaign_edit(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    initial = {f: getattr(campaign, f) for f in ("name", "description", "product", "priority", "starts_on", "ends_on")}
    initial["audience"] = campaign.audience
    form = _campaign_form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.campaign_update(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


def campaign_detail(request, pk: int, *, step_form=None, return_form=None):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    can_change = access.can_change_campaign(request.user, campaign)
    context = {
        "campaign": campaign,
        "steps": selectors.campaign_steps(campaign=campaign),
        "transitions": selectors.campaign_transitions(campaign=campaign),
        "unapproved": lifecycle.campaign_unapproved_scripts(campaign),
        "funnel": exclusion_funnel(campaign=campaign) if campaign.status != CampaignStatus.ENDED else None,
        "can_change": can_change,
        "can_approve": access.can_approve_campaign(request.user, campaign),
        "step_form": step_form or StepForm(scripts=selectors.scripts_for_steps(user=request.user)),
        "return_form": return_form or ReturnForm(),
    }
    return render(request, "campaigns/campaign_detail.html", context)


@require_POST
def step_add(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    form = StepForm(request.POST, scripts=selectors.scripts_for_steps(user=request.user))
    if form.is_valid():
        try:
            lifecycle.campaign_add_step(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("Step added."))
            return redirect("campaigns:detail", pk)
    return campaign_detail(request, pk, step_form=form)


@require_POST
def step_remove(request, pk: int):
    step = CampaignStep.objects.filter(pk=pk).select_related("campaign").first()
    if step is None:
        raise Http404
    selectors.campaign_get_for_user(user=request.user, pk=step.campaign_id, action="change")
    try:
        lifecycle.campaign_remove_step(actor=request.user, step=step)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("campaigns:detail", step.campaign_id)


_MOVES = {
    "submit": lifecycle.campaign_submit,
    "withdraw": lifecycle.campaign_withdraw,
    "approve": lifecycle.campaign_approve_launch,
    "start": lifecycle.campaign_start,
    "pause": lifecycle.campaign_pause,
    "resume": lifecycle.campaign_resume,
    "end": lifecycle.campaign_end,
}


@require_POST
def campaign_move(request, pk: int, move: str):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    try:
        if move == "return":
            form = ReturnForm(request.POST)
            if not form.is_valid():
                return campaign_detail(request, pk, return_form=form)
            lifecycle.campaign_return(actor=request.user, campaign=campaign, note=form.cleaned_data["note"])
        elif move in _MOVES:
            _MOVES[move](actor=request.user, campaign=campaign)
        else:
            raise Http404
    except ValidationError as exc:
        _flash_errors(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do that."))
    else:
        messages.success(request, _("Campaign status changed."))
    return redirect("campaigns:detail", pk)


# --- segments ------------------------------------------------------------------------------


def _group_count(data: QueryDict) -> int:
    try:
        n = int(data.get("groups", 1))
    except (TypeError, ValueError):
        n = 1
    return max(1, min(n, segment_services.MAX_GROUPS))


def _groups_from(data: QueryDict) -> list[dict]:
    """The builder's groups from its fields (``g0-tier``, ``g1-aum_min``, …); a plain
    customer-list query string (``tier=…``) is the first group."""
    n = _group_count(data)
    if not any(key.startswith("g0-") for key in data):
        return [segment_services.clean_group(data.dict())] + [{} for _i in range(n - 1)]
    groups = []
    for i in range(n):
        prefix = f"g{i}-"
        groups.append(
            segment_services.clean_group({k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix)})
        )
    return groups


def _group_forms(groups: list[dict]) -> list[dict]:
    """One customer-list filter per group, bound under its prefix, for the builder's fields."""
    out = []
    for i, group in enumerate(groups):
        data = QueryDict(mutable=True)
        data.update({f"g{i}-{k}": v for k, v in group.items()})
        f = CustomerFilter(data, queryset=Customer.objects.none(), prefix=f"g{i}")
        out.append({"n": i + 1, "filter": f, "list_query": urlencode(group)})
    return out


def _preview(user, groups: list[dict]) -> dict:
    base = Customer.objects.restrict(user, "view")
    try:
        members = segment_services.segment_queryset(definition={"groups": groups}, base=base)
    except ValidationError as exc:
        return {"preview_errors": exc.messages}
    cap = 1_000_000
    count = capped_count(members, cap)
    return {"count": count, "count_capped": count > cap, "sample": segment_services.segment_sample(members)}


@require(access.can_change_campaigns)
def segment_new(request):
    data = request.POST if request.method == "POST" else request.GET
    groups = _groups_from(data)
    context = {
        "groups": _group_forms(groups),
        "group_count": len(groups),
        "can_add_group": len(groups) < segment_services.MAX_GROUPS,
        "name": data.get("name", ""),
        "kind": data.get("kind", SegmentKind.DYNAMIC),
        "kinds": [(k.value, k.label) for k in SegmentKind if k != SegmentKind.UPLOADED],
        **_preview(request.user, groups),
    }
    if request.method == "POST":
        try:
            segment = segment_services.segment_save(
                actor=request.user, name=data.get("name", ""), definition={"groups": groups}, kind=context["kind"]
            )
        except ValidationError as exc:
            context["errors"] = exc.messages
        else:
            messages.success(request, _("Segment saved: %(n)s customers.") % {"n": f"{segment.member_count:,}"})
            return redirect("campaigns:segment_detail", segment.pk)
    return render(request, "campaigns/segment_form.html", context)


@require(access.can_change_campaigns)
def segment_preview(request):
    """The builder's live count and masked sample (htmx, debounced by the page)."""
    context = _preview(request.user, _groups_from(request.GET))
    return render(request, "campaigns/segment_form.html#segment-preview", context)


@require(access.can_change_campaigns)
def segment_upload(request):
    form = SegmentUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            segment, report = segment_services.segment_upload(
                actor=request.user,
                name=form.cleaned_data["name"],
                raw=form.cleaned_data["file"].read(segment_services.MAX_UPLOAD_BYTES + 1),
                skip_unknown=form.cleaned_data["skip_unknown"],
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            if segment is not None:
                messages.success(request, _("Segment saved: %(n)s customers.") % {"n": f"{segment.member_count:,}"})
                return redirect("campaigns:segment_detail", segment.pk)
    context = {"form": form, "report": report, "problems": (report or {}).get("problems", [])[:500]}
    return render(request, "campaigns/segment_upload.html", context)


@require(access.can_view_segments)
def segment_list(request):
    table = SegmentTable(selectors.segments_for_list(user=request.user))
    context = {"can_create": access.can_change_campaigns(request.user)}
    return render_table_page(request, "campaigns/segment_list.html", table, context)


@require(access.can_view_segments)
def segment_detail(request, pk: int):
    segment = selectors.segment_get_for_user(user=request.user, pk=pk)
    groups = segment.definition.get("groups", []) if segment.kind != SegmentKind.UPLOADED else []
    context = {
        "segment": segment,
        "groups": _group_forms(groups),
        "sample": segment_services.segment_sample(segment_services.segment_members(segment=segment)),
        "edit_query": urlencode(
            {f"g{i}-{k}": v for i, g in enumerate(groups) for k, v in g.items()} | {"groups": len(groups) or 1}
        ),
    }
    return render(request, "campaigns/segment_detail.html", context)


# --- the outbox ------------------------------------------------------------------------------


@require(access.can_view_outbox)
def outbox(request):
    """Every message, newest first: what the outbox adapter kept (development) and what the
    gateways were sent, with the recipient masked. Filters by status and channel."""
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    status = status if status in MessageStatus.values else ""
    channel = channel if channel in Channel.values else ""
    table = MessageTable(selectors.messages_for_outbox(user=request.user, status=status, channel=channel))
    context = {
        "statuses": MessageStatus.choices,
        "channels": [(value, label) for value, label in Channel.choices if value not in ("phone", "branch_visit")],
        "status": status,
        "channel": channel,
    }
    return render_table_page(request, "campaigns/outbox.html", table, context)
