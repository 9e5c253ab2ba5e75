"""The model page for team leads: active model, versions, charts, retraining, rescoring
and the grade cutoffs with their preview."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org.roles import Role, role_required

from . import selectors, services
from .forms import CutoffsForm
from .models import ModelVersion
from .reasons import feature_label
from .scorer import settings_get

LEADS_ONLY = (Role.TEAM_LEAD, Role.ADMIN)


@role_required(*LEADS_ONLY)
def model_page(request):
    versions = selectors.model_versions()
    active = selectors.active_version(versions)
    st = settings_get()
    form = CutoffsForm(initial={"high": st.high_cutoff, "mid": st.mid_cutoff})
    context = {
        "versions": versions,
        "active": active,
        "settings": st,
        "state": selectors.scoring_state(),
        "form": form,
        "preview": selectors.grade_preview(high=st.high_cutoff, mid=st.mid_cutoff, model=active),
        "rules": selectors.rules_table() if active is None else [],
        "charts": _charts(active),
    }
    return render(request, "scoring/model.html", context)


def _charts(active: ModelVersion | None) -> dict | None:
    if active is None:
        return None
    m = active.metrics
    return {
        "importance": [
            {"feature": feature_label(d["feature"]), "importance": d["importance"]}
            for d in m.get("importance", [])[:15]
        ],
        "calibration": m.get("calibration", []),
        "lift": m.get("lift", []),
    }


@role_required(*LEADS_ONLY)
def cutoffs_preview(request):
    form = CutoffsForm(request.GET)
    active = selectors.active_version([])
    context = {"form": form}
    if form.is_valid():
        context["preview"] = selectors.grade_preview(
            high=form.cleaned_data["high"], mid=form.cleaned_data["mid"], model=active
        )
    return render(request, "scoring/model.html#preview", context)


@require_POST
@role_required(*LEADS_ONLY)
def cutoffs_save(request):
    form = CutoffsForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) + [e for k, v in form.errors.items() if k != "__all__" for e in v]:
            messages.error(request, error)
        return redirect("scoring:model")
    try:
        services.cutoffs_update(actor=request.user, high=form.cleaned_data["high"], mid=form.cleaned_data["mid"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scoring:model")
    messages.success(request, _("Grade cutoffs saved. Rescore everyone to apply them to existing scores."))
    return redirect("scoring:model")


@require_POST
@role_required(*LEADS_ONLY)
def retrain(request):
    job = services.train_job_create(actor=request.user)
    if request.htmx:
        return render(request, "core/_job_progress.html", {"job": job})
    messages.info(request, _("Training started."))
    return redirect("scoring:model")


@require_POST
@role_required(*LEADS_ONLY)
def rescore(request):
    job = services.rescore_start(actor=request.user)
    if request.htmx:
        return render(request, "core/_job_progress.html", {"job": job})
    messages.info(request, _("Rescoring started."))
    return redirect("scoring:model")


@require_POST
@role_required(*LEADS_ONLY)
def activate(request, pk: int):
    mv = get_object_or_404(ModelVersion.objects.defer("artifact"), pk=pk)
    services.model_activate(actor=request.user, version_id=mv.pk)
    messages.success(
        request, _("Model %(version)s is now active. Rescore everyone to apply it.") % {"version": mv.version}
    )
    return redirect("scoring:model")
