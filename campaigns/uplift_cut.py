"""A segment's cut by predicted uplift: keep every member, the top N or the top x % of
``scoring.CustomerUplift`` (members without a prediction last), and name the members it
dropped. Apart from the training (``campaigns.uplift``) so that reading a segment never
loads scikit-learn: the customer list's segment condition runs this at every request and
the app registry imports it at start-up."""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.audit import audit_record
from scoring.models import CustomerUplift, UpliftModelVersion

from .access import can_change_segment
from .models import Segment, UpliftKeep

MAX_TOP_N = 10_000_000


def uplift_in_use() -> UpliftModelVersion | None:
    return UpliftModelVersion.objects.filter(is_active=True).defer("artifact").first()


def keep_count(*, keep: str, value: int | None, members: int) -> int:
    """How many members a segment keeps of ``members``."""
    if keep == UpliftKeep.TOP_N:
        return min(members, value or 0)
    if keep == UpliftKeep.TOP_PERCENT:
        return min(members, math.ceil(members * (value or 0) / 100))
    return members


def uplift_cut(*, segment: Segment, members):
    """``members`` narrowed to the segment's most persuadable (highest predicted uplift
    first, members without a prediction last, then by id): one query to count for a top
    x %, the cut itself a sub-select."""
    if segment.uplift_keep == UpliftKeep.ALL:
        return members
    count = members.order_by().count() if segment.uplift_keep == UpliftKeep.TOP_PERCENT else 0
    n = keep_count(keep=segment.uplift_keep, value=segment.uplift_value, members=count or MAX_TOP_N)
    top = members.order_by(F("uplift__uplift").desc(nulls_last=True), "pk").values("pk")[:n]
    return members.model.objects.filter(pk__in=top)


def uplift_dropped(*, members, kept, ids: list[int]) -> tuple[set[int], set[int]]:
    """Of the members (``ids``, the queryset ``members``) not in ``kept`` (a queryset):
    (would convert anyway, would not respond). "Anyway" is a predicted conversion without
    contact at least the model's contacted average. Sub-selects, no id lists sent."""
    kept_ids = set(kept.values_list("pk", flat=True))
    dropped = set(ids) - kept_ids
    version = uplift_in_use()
    threshold = (version.metrics.get("anyway_threshold") if version else None) or 1.0
    anyway = set(
        CustomerUplift.objects.filter(customer_id__in=members.order_by().values("pk"), p_control__gte=threshold)
        .exclude(customer_id__in=kept.order_by().values("pk"))
        .values_list("customer_id", flat=True)
    )
    anyway &= dropped
    return anyway, dropped - anyway


@transaction.atomic
def segment_set_uplift(*, actor, segment: Segment, keep: str, value: int | None) -> Segment:
    """Keep every member, or the top N / top x % by predicted uplift. Refused (nothing
    changed) without an uplift model in use, or with an N or x out of range."""
    if not can_change_segment(actor, segment):
        raise PermissionDenied(_("You may not change this segment."))
    if keep not in UpliftKeep.values:
        raise ValidationError({"uplift_keep": _("Choose whom the segment keeps.")})
    if keep == UpliftKeep.ALL:
        value = None
    else:
        if uplift_in_use() is None:
            raise ValidationError(
                {"uplift_keep": _("There is no uplift model in use yet: train one on the uplift model page first.")}
            )
        if keep == UpliftKeep.TOP_N and (value is None or not 1 <= value <= MAX_TOP_N):
            raise ValidationError({"uplift_value": _("Give N, a whole number from 1 to 10,000,000.")})
        if keep == UpliftKeep.TOP_PERCENT and (value is None or not 1 <= value <= 100):
            raise ValidationError({"uplift_value": _("Give x, a whole percentage from 1 to 100.")})
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    segment.uplift_keep, segment.uplift_value = keep, value
    segment.save(update_fields=["uplift_keep", "uplift_value"])
    audit_record(
        actor=actor,
        verb="segment.uplift",
        target=segment,
        # codes of their own in the audit's words (a bare "all" would collide with others)
        details={"uplift_keep": f"keep_{keep}", "uplift_value": value},
    )
    return segment
