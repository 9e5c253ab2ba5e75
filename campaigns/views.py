"""Views of campaigns and segments: thin. Each asks the predicates of ``campaigns.access``
(the ones the services guard with), reads through selectors and writes through services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import require
from core.forms import form_add_service_errors, form_applied, id_or_none
from core.htmx import render_table_page
from core.pagination import capped_count
from customers.filters import CustomerFilter
from customers.models import Channel, Customer

from . import access, selectors
from .diagram import journey_rows, render_journey, step_subject, words_list
from .forms import CampaignForm, JourneySettingsForm, ReturnForm, SegmentUploadForm, StepForm
from .journeys.checks import journey_unreachable
from .models import CampaignStatus, CampaignStep, ExitRule, MessageStatus, SegmentKind
from .services import journey, lifecycle
from .services import segments as segment_services
from .services.journey import journey_edit_version
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


def _journey_context(request, campaign, *, step_form=None, edit_form=None, edit_step=None, settings_form=None):
    """The journey section: the live version's diagram with its counts, the version being
    edited (a draft's own, or the draft version of a published campaign) in the editor,
    and the customers in flight on each live step before a draft is published."""
    user = request.user
    can_edit = access.can_edit_journey(user, campaign)
    steps = selectors.campaign_steps(campaign=campaign)
    counts = selectors.journey_counts(campaign=campaign, steps=steps)
    draft_steps = (
        selectors.campaign_steps(campaign=campaign, version=campaign.draft_version) if campaign.draft_version else None
    )
    editor_steps = draft_steps if draft_steps is not None else steps
    for step in editor_steps:
        step.setting_words = step_subject(step)
    positions = [s.position for s in editor_steps]
    scripts = selectors.scripts_for_steps(user=user) if can_edit else None
    if can_edit and edit_step is None:
        wanted = id_or_none(request.GET.get("edit"))
        edit_step = next((s for s in editor_steps if s.pk == wanted), None)
    if can_edit and edit_step is not None and edit_form is None:
        edit_form = StepForm(
            initial=StepForm.initial_of(edit_step), scripts=scripts, positions=positions, prefix="edit"
        )
    title = _("Journey of %(name)s, version %(n)s") % {"name": campaign.name, "n": campaign.journey_version}
    context = {
        "can_edit": can_edit,
        "steps": steps,
        "editor_steps": editor_steps,
        "draft_steps": draft_steps,
        "counts": counts,
        "diagram": render_journey(steps, counts=counts, title=title),
        "journey_rows": journey_rows(steps, counts),
        "in_flight": [{"step": s, "active": counts.of(s).active} for s in steps] if draft_steps is not None else [],
        "in_flight_total": sum(counts.of(s).active for s in steps),
        "draft_unapproved": (
            lifecycle.campaign_unapproved_scripts(campaign, version=campaign.draft_version)
            if draft_steps is not None
            else []
        ),
        "exit_words": words_list(ExitRule(code).label for code in campaign.exit_rules if code in ExitRule.values),
        "edit_step": edit_step,
        "edit_form": edit_form,
        "unreachable": words_list(journey_unreachable(editor_steps)),
    }
    if draft_steps is not None:
        draft_title = _("Draft journey of %(name)s, version %(n)s") % {
            "name": campaign.name,
            "n": campaign.draft_version,
        }
        context["draft_diagram"] = render_journey(
            draft_steps, counts=None, title=draft_title, element_id="journey-draft-diagram"
        )
    if not can_edit:
        # A POST refused because the journey is not editable now: say why, offer no editor.
        context["refused_form"] = step_form or edit_form or settings_form
    else:
        context["step_form"] = step_form or StepForm(scripts=scripts, positions=positions)
        context["settings_form"] = settings_form or _settings_form(campaign)
    return context


def campaign_detail(request, pk: int, *, return_form=None, **journey_forms):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    can_change = access.can_change_campaign(request.user, campaign)
    context = {
        "campaign": campaign,
        "transitions": selectors.campaign_transitions(campaign=campaign),
        "unapproved": lifecycle.campaign_unapproved_scripts(campaign),
        "funnel": exclusion_funnel(campaign=campaign) if campaign.status != CampaignStatus.ENDED else None,
        "can_change": can_change,
        "can_approve": access.can_approve_campaign(request.user, campaign),
        "return_form": return_form or ReturnForm(),
        **_journey_context(request, campaign, **journey_forms),
    }
    if request.htmx and request.htmx.target == "journey":
        context["is_partial"] = True
        return render(request, "campaigns/campaign_detail.html#journey", context)
    return render(request, "campaigns/campaign_detail.html", context)


def _after_journey_change(request, campaign_pk: int):
    """After a journey POST: the journey section again for htmx, else the page."""
    if request.htmx:
        return campaign_detail(request, campaign_pk)
    return redirect(reverse("campaigns:detail", args=[campaign_pk]) + "#journey")


def _step_for_change(request, pk: int) -> CampaignStep:
    """The step, if the user may change its campaign (else 404)."""
    step = CampaignStep.objects.filter(pk=pk).select_related("campaign").first() if id_or_none(pk) else None
    if step is None:
        raise Http404
    step.campaign = selectors.campaign_get_for_user(user=request.user, pk=step.campaign_id, action="change")
    return step


def _editor_positions(campaign) -> list[int]:
    return [s.position for s in selectors.campaign_steps(campaign=campaign, version=journey_edit_version(campaign))]


@require_POST
def step_add(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    form = StepForm(
        request.POST, scripts=selectors.scripts_for_steps(user=request.user), positions=_editor_positions(campaign)
    )
    if form_applied(
        form, lambda: journey.journey_step_add(actor=request.user, campaign=campaign, **form.step_fields())
    ):
        messages.success(request, _("Step added."))
        return _after_journey_change(request, pk)
    return campaign_detail(request, pk, step_form=form)


@require_POST
def step_edit(request, pk: int):
    step = _step_for_change(request, pk)
    form = StepForm(
        request.POST,
        scripts=selectors.scripts_for_steps(user=request.user),
        positions=_editor_positions(step.campaign),
        prefix="edit",
    )
    if form_applied(form, lambda: journey.journey_step_edit(actor=request.user, step=step, **form.step_fields())):
        messages.success(request, _("Step saved."))
        return _after_journey_change(request, step.campaign_id)
    return campaign_detail(request, step.campaign_id, edit_form=form, edit_step=step)


def _journey_action(request, campaign_pk: int, action, success: str, **kwargs):
    try:
        action(actor=request.user, **kwargs)
    except ValidationError as exc:
        _flash_errors(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do that."))
    else:
        messages.success(request, success)
    return _after_journey_change(request, campaign_pk)


@require_POST
def step_remove(request, pk: int):
    step = _step_for_change(request, pk)
    return _journey_action(request, step.campaign_id, journey.journey_step_remove, _("Step removed."), step=step)


@require_POST
def step_move(request, pk: int, direction: str):
    step = _step_for_change(request, pk)
    if direction not in ("up", "down"):
        raise Http404
    return _journey_action(
        request, step.campaign_id, journey.journey_step_move, _("Step moved."), step=step, direction=direction
    )


def _settings_form(campaign, data=None) -> JourneySettingsForm:
    """The journey settings form with the campaign's values (the attribution window
    disabled once customers have entered)."""
    return JourneySettingsForm(
        data,
        initial={
            "exit_rules": campaign.exit_rules,
            "control_percent": campaign.control_percent,
            "daily_entry_limit": campaign.daily_entry_limit,
            "attribution_days": campaign.attribution_days,
        },
        attribution_locked=selectors.attribution_window_locked(campaign),
        prefix="settings",
    )


@require_POST
def journey_settings(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    form = _settings_form(campaign, request.POST)
    if form_applied(
        form, lambda: journey.journey_settings_update(actor=request.user, campaign=campaign, **form.cleaned_data)
    ):
        messages.success(request, _("Journey settings saved."))
        return _after_journey_change(request, pk)
    return campaign_detail(request, pk, settings_form=form)


@require_POST
def journey_publish(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    done = _("The new version is published: new entrants follow it.")
    return _journey_action(request, pk, journey.journey_publish, done, campaign=campaign)


@require_POST
def journey_discard(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    return _journey_action(
        request, pk, journey.journey_discard_draft, _("The draft version is discarded."), campaign=campaign
    )


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
        return [segment_services.clean_group(data)] + [{} for _i in range(n - 1)]
    groups = []
    for i in range(n):
        prefix = f"g{i}-"
        fields = QueryDict(mutable=True)
        for key in data:
            if key.startswith(prefix):
                fields.setlist(key[len(prefix) :], data.getlist(key))
        groups.append(segment_services.clean_group(fields))
    return groups


def _group_forms(groups: list[dict]) -> list[dict]:
    """One customer-list filter per group, bound under its prefix, for the builder's fields."""
    out = []
    for i, group in enumerate(groups):
        data = QueryDict(mutable=True)
        for key, values in segment_services.group_query(group).lists():
            data.setlist(f"g{i}-{key}", values)
        f = CustomerFilter(data, queryset=Customer.objects.none(), prefix=f"g{i}")
        out.append({"n": i + 1, "filter": f, "list_query": urlencode(group, doseq=True)})
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
            {f"g{i}-{k}": v for i, g in enumerate(groups) for k, v in g.items()} | {"groups": len(groups) or 1},
            doseq=True,
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
