"""The A/B variants of a campaign (a section of the campaign page, loaded by htmx, and a
page of its own without JavaScript): list, add, reweigh, change a step, remove. Thin: the
rules are ``campaigns.variants`` and ``campaigns.access``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from compliance.models import Script
from core.access import require
from core.forms import form_applied, id_or_none
from customers.models import Channel

from . import access, selectors
from .models import Enrolment, Variant, VariantStep
from .variants import (
    MAX_WEIGHT,
    MESSAGE_CHANNELS,
    approved_scripts,
    contact_steps,
    order_positions,
    order_words,
    variant_add,
    variant_order_set,
    variant_remove,
    variant_step_set,
    variant_update,
    version_steps,
)


class VariantForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("variant name"), max_length=40)
    weight = forms.IntegerField(label=gettext_lazy("weight"), min_value=0, max_value=MAX_WEIGHT, initial=1)


def step_label(step) -> str:
    return _("step %(n)s: %(kind)s") % {"n": step.position, "kind": step.get_kind_display()}


class VariantStepForm(forms.Form):
    step = forms.TypedChoiceField(label=gettext_lazy("step"), coerce=int)
    script = forms.ModelChoiceField(label=gettext_lazy("script"), queryset=Script.objects.none(), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("channel"), required=False)

    def __init__(self, *args, steps, scripts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = [(s.pk, step_label(s)) for s in steps]
        self.fields["script"].queryset = Script.objects.filter(pk__in=[s.pk for s in scripts]).order_by("title")
        self.fields["script"].empty_label = _("the step's own")
        self.fields["channel"].choices = [("", _("the step's own"))] + [
            (c, label) for c, label in Channel.choices if c in MESSAGE_CHANNELS
        ]


class VariantOrderForm(forms.Form):
    """Each step's place in the variant's walk (one field per step of the current version,
    named by its position in the journey as designed)."""

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        places = [(n, str(n)) for n in range(1, len(steps) + 1)]
        self.steps = steps
        for s in steps:
            self.fields[f"place_{s.position}"] = forms.TypedChoiceField(
                label=_("place of %(step)s") % {"step": step_label(s)}, choices=places, coerce=int
            )

    def places(self) -> dict[int, int]:
        return {s.position: self.cleaned_data[f"place_{s.position}"] for s in self.steps}

    def rows(self) -> list[tuple]:
        return [(s, self[f"place_{s.position}"]) for s in self.steps]


def _order_form(variant: Variant, steps, data=None) -> VariantOrderForm:
    positions = order_positions(variant.step_order, steps) or [s.position for s in steps]
    place = {p: i for i, p in enumerate(positions, start=1)}
    initial = {f"place_{s.position}": place.get(s.position, s.position) for s in steps}
    return VariantOrderForm(data, steps=steps, initial=initial, prefix=f"o{variant.pk}")


def _variant_for_change(request, pk) -> Variant:
    variant = Variant.objects.filter(pk=pk).first() if id_or_none(pk) else None
    if variant is None:
        raise Http404
    variant.campaign = selectors.campaign_get_for_user(user=request.user, pk=variant.campaign_id, action="change")
    return variant


def _context(request, campaign, *, add_form=None, step_form=None, edit_forms=None, order_forms=None) -> dict:
    variants = list(
        Variant.objects.filter(campaign=campaign)
        .select_related("promoted_by__staff_profile", "step_order")
        .order_by("position")
    )
    all_steps = version_steps(campaign=campaign)
    entered = dict(
        Enrolment.objects.filter(campaign=campaign, variant__isnull=False)
        .values("variant")
        .annotate(n=Count("id"))
        .values_list("variant", "n")
    )
    overrides = {}
    for o in VariantStep.objects.filter(variant__campaign=campaign).select_related("step", "script"):
        overrides.setdefault(o.variant_id, []).append(o)
    total = sum(v.weight for v in variants)
    winner = next((v for v in variants if v.promoted_at is not None), None)
    can_edit = access.can_edit_variants(request.user, campaign)
    steps = contact_steps(campaign=campaign) if can_edit else []
    scripts = approved_scripts() if can_edit else []
    edit_forms = edit_forms or {}
    order_forms = order_forms or {}
    rows = []
    for v in variants:
        share = (1.0 if v == winner else 0.0) if winner else (v.weight / total if total else 0.0)
        rows.append(
            {
                "variant": v,
                "share": share * (100 - campaign.control_percent) / 100,
                "entered": entered.get(v.pk, 0),
                "overrides": sorted(overrides.get(v.pk, []), key=lambda o: o.step.position),
                "form": edit_forms.get(v.pk)
                or VariantForm(initial={"label": v.label, "weight": v.weight}, prefix=f"v{v.pk}"),
                "order": order_words(order_positions(v.step_order, all_steps)),
                "order_stale": v.step_order is not None and v.step_order.version != campaign.journey_version,
                "order_form": (order_forms.get(v.pk) or _order_form(v, all_steps)) if can_edit else None,
            }
        )
    return {
        "campaign": campaign,
        "rows": rows,
        "winner": winner,
        "can_edit": can_edit,
        "add_form": add_form or VariantForm(initial={"weight": 1}),
        "step_form": step_form or VariantStepForm(steps=steps, scripts=scripts),
        "has_steps": bool(steps),
        "can_order": can_edit and len(all_steps) > 1,
        "is_partial": bool(request.htmx),
    }


def _render(request, campaign, **forms_):
    template = "campaigns/variants.html#variants" if request.htmx else "campaigns/variants.html"
    return render(request, template, _context(request, campaign, **forms_))


@require(access.can_view_campaigns)
def variants_page(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    return _render(request, campaign)


def _after(request, campaign, success: str):
    messages.success(request, success)
    if request.htmx:
        return _render(request, campaign)
    return redirect(reverse("campaigns:variants", args=[campaign.pk]))


@require_POST
def variant_add_view(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    form = VariantForm(request.POST)
    if form_applied(
        form,
        lambda: variant_add(
            actor=request.user, campaign=campaign, label=form.cleaned_data["label"], weight=form.cleaned_data["weight"]
        ),
    ):
        return _after(request, campaign, _("Variant added. New entrants are split by the new weights."))
    return _render(request, campaign, add_form=form)


@require_POST
def variant_edit_view(request, pk: int):
    variant = _variant_for_change(request, pk)
    form = VariantForm(request.POST, prefix=f"v{variant.pk}")
    if form_applied(
        form,
        lambda: variant_update(
            actor=request.user, variant=variant, label=form.cleaned_data["label"], weight=form.cleaned_data["weight"]
        ),
    ):
        return _after(request, variant.campaign, _("Variant saved. The weights apply to new entrants only."))
    return _render(request, variant.campaign, edit_forms={variant.pk: form})


@require_POST
def variant_remove_view(request, pk: int):
    variant = _variant_for_change(request, pk)
    try:
        variant_remove(actor=request.user, variant=variant)
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", None) or [str(exc)]:
            messages.error(request, message)
        if request.htmx:
            return _render(request, variant.campaign)
        return redirect(reverse("campaigns:variants", args=[variant.campaign_id]))
    return _after(request, variant.campaign, _("Variant removed."))


@require_POST
def variant_step_view(request, pk: int):
    variant = _variant_for_change(request, pk)
    campaign = variant.campaign
    form = VariantStepForm(request.POST, steps=contact_steps(campaign=campaign), scripts=approved_scripts())
    steps = {s.pk: s for s in contact_steps(campaign=campaign)}
    if form_applied(
        form,
        lambda: variant_step_set(
            actor=request.user,
            variant=variant,
            step=steps[form.cleaned_data["step"]],
            script=form.cleaned_data["script"],
            channel=form.cleaned_data["channel"],
        ),
    ):
        return _after(request, campaign, _("The variant's step is saved."))
    return _render(request, campaign, step_form=form)


@require_POST
def variant_order_view(request, pk: int):
    variant = _variant_for_change(request, pk)
    campaign = variant.campaign
    if request.POST.get("reset") == "yes":
        try:
            variant_order_set(actor=request.user, variant=variant, places=None)
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                messages.error(request, message)
            return _render(request, campaign)
        return _after(request, campaign, _("The variant follows the journey's own order again for new entrants."))
    form = _order_form(variant, version_steps(campaign=campaign), data=request.POST)
    if form_applied(form, lambda: variant_order_set(actor=request.user, variant=variant, places=form.places())):
        return _after(request, campaign, _("The variant's order of the steps is saved: it applies to new entrants."))
    return _render(request, campaign, order_forms={variant.pk: form})
