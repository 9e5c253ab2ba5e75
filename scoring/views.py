"""The model page for team leads: active model, versions, charts, retraining, rescoring
and the grade cutoffs with their preview. Every view asks ``can_manage_scoring``, as
the services do."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.forms import form_add_service_errors

from . import selectors
from .access import can_manage_scoring
from .forms import CutoffsForm
from .models import ModelVersion
from .reasons import feature_label
from .services import scores as score_services
from .services import settings as setting_services
from .services import versions as version_services


def manager_required(view):
    """403 unless the user may manage scoring (anonymous users are sent to log in first)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_manage_scoring(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _model_page(request, form: CutoffsForm, st, *, status: int = 200):
    versions = selectors.model_versions()
    active = selectors.active_version(versions)
    # The page's aggregates are kept with their data: the active version's class counts
    # in its metrics, the scores' spread by the last full rescoring (ScoreDistribution).
    distribution = selectors.score_distribution()
    context = {
        "versions": versions,
        "active": active,
        "settings": st,
        "state": selectors.scoring_state() if active is None else None,
        "form": form,
        "distribution": distribution,
        "preview": None
        if form.is_bound
        else selectors.grade_preview(high=st.high_cutoff, mid=st.mid_cutoff, model=active, distribution=distribution),
        "rules": selectors.rules_table() if active is None else [],
        "charts": _charts(active),
    }
    return render(request, "scoring/model.html", context, status=status)


@manager_required
def model_page(request):
    st = selectors.settings_get()
    return _model_page(request, CutoffsForm(initial={"high": st.high_cutoff, "mid": st.mid_cutoff}), st)


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


@manager_required
def cutoffs_preview(request):
    form = CutoffsForm(request.GET)
    active = selectors.active_version([])
    distribution = selectors.score_distribution()
    context = {"form": form, "distribution": distribution}
    if form.is_valid():
        context["preview"] = selectors.grade_preview(
            high=form.cleaned_data["high"], mid=form.cleaned_data["mid"], model=active, distribution=distribution
        )
    return render(request, "scoring/model.html#preview", context)


@require_POST
@manager_required
def cutoffs_save(request):
    form = CutoffsForm(request.POST)
    if form.is_valid():
        try:
            setting_services.cutoffs_update(
                actor=request.user, high=form.cleaned_data["high"], mid=form.cleaned_data["mid"]
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("Grade cutoffs saved. Rescore everyone to apply them to existing scores."))
            return redirect("scoring:model")
    return _model_page(request, form, selectors.settings_get(), status=400)


@require_POST
@manager_required
def retrain(request):
    job = version_services.train_job_create(actor=request.user)
    if request.htmx:
        return render(request, "core/_job_progress.html", {"job": job})
    messages.info(request, _("Training started."))
    return redirect("scoring:model")


@require_POST
@manager_required
def rescore(request):
    job = score_services.rescore_start(actor=request.user)
    if request.htmx:
        return render(request, "core/_job_progress.html", {"job": job})
    messages.info(request, _("Rescoring started."))
    return redirect("scoring:model")


@require_POST
@manager_required
def activate(request, pk: int):
    mv = get_object_or_404(ModelVersion.objects.defer("artifact"), pk=pk)
    version_services.model_activate(actor=request.user, version_id=mv.pk)
    messages.success(
        request, _("Model %(version)s is now active. Rescore everyone to apply it.") % {"version": mv.version}
    )
    return redirect("scoring:model")
