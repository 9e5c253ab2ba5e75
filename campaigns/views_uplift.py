"""The uplift model's page (its held-out evaluation, versions and training) and a
segment's choice to keep its most persuadable members. Campaign managers and
administrators (``scoring.access.can_manage_uplift``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import require
from core.forms import id_or_none
from scoring.access import can_manage_uplift
from scoring.models import UpliftModelVersion

from . import access, selectors
from .models import UpliftKeep
from .uplift import uplift_next_training, uplift_train_job_create
from .uplift_cut import segment_set_uplift

VERSIONS_SHOWN = 10


def _chart(version) -> dict:
    curve = (version.metrics or {}).get("curve") or [] if version else []
    return {
        "labels": [f"{round(100 * p['share'])}%" for p in curve],
        "model": [round(100 * p["model"], 3) for p in curve],
        "random": [round(100 * p["random"], 3) for p in curve],
    }


@require(can_manage_uplift)
def uplift_page(request):
    versions = list(
        UpliftModelVersion.objects.defer("artifact").select_related("trained_by__staff_profile")[:VERSIONS_SHOWN]
    )
    in_use = next((v for v in versions if v.is_active), None)
    if in_use is None:
        in_use = UpliftModelVersion.objects.defer("artifact").filter(is_active=True).first()
    latest = versions[0] if versions else None
    job, next_training = uplift_next_training()
    context = {
        "next_training": next_training,
        "retrain_days": settings.WORKBENCH_UPLIFT_RETRAIN_DAYS,
        "in_use": in_use,
        "latest": latest,
        "shown": in_use or latest,
        "versions": versions,
        "job": job,
        "chart": _chart(in_use or latest),
    }
    return render(request, "campaigns/uplift.html", context)


@require_POST
@require(can_manage_uplift)
def uplift_train(request):
    job = uplift_train_job_create(actor=request.user)
    if request.htmx:
        return render(request, "core/_job_progress.html", {"job": job})
    messages.info(request, _("Training of the uplift model started."))
    return redirect("campaigns:uplift")


@require_POST
@require(access.can_change_campaigns)
def segment_uplift(request, pk: int):
    segment = selectors.segment_get_for_user(user=request.user, pk=pk, action="change")
    keep = request.POST.get("uplift_keep", "")
    raw = (request.POST.get("uplift_value") or "").strip()
    value = id_or_none(raw) if raw else None
    try:
        if raw and value is None:
            raise ValidationError({"uplift_value": _("Give a whole number.")})
        segment_set_uplift(actor=request.user, segment=segment, keep=keep, value=value)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        if keep == UpliftKeep.ALL:
            messages.success(request, _("The segment keeps every member."))
        else:
            messages.success(request, _("The segment keeps its most persuadable members by predicted uplift."))
    return redirect("campaigns:segment_detail", segment.pk)
