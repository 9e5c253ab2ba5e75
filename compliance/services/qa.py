"""QA sampling: every week a random share of each advisor's call notes goes to the review
queue, so clean-looking calls get reviewed too."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..access import can_configure_qa
from ..constants import Severity
from ..models import CommSource, Communication, Flag, FlagKind, QASampleRun, QASamplingConfig
from ..selectors import day_bounds


def qa_config() -> QASamplingConfig:
    config, _created = QASamplingConfig.objects.get_or_create(pk=1)
    return config


@transaction.atomic
def qa_config_update(*, actor, share_percent: Decimal, minimum_per_advisor: int) -> QASamplingConfig:
    if not can_configure_qa(actor):
        raise PermissionDenied(_("Only compliance officers may do this."))
    if share_percent is None or not (Decimal("0") <= share_percent <= Decimal("100")):
        raise ValidationError({"share_percent": _("The share must be between 0 and 100 percent.")})
    if minimum_per_advisor is None or minimum_per_advisor < 0:
        raise ValidationError({"minimum_per_advisor": _("The minimum cannot be negative.")})
    config = QASamplingConfig.objects.select_for_update().get_or_create(pk=1)[0]
    before = {"share_percent": str(config.share_percent), "minimum_per_advisor": config.minimum_per_advisor}
    config.share_percent = share_percent
    config.minimum_per_advisor = minimum_per_advisor
    config.updated_by = actor
    config.save()
    audit_record(
        actor=actor,
        verb="compliance.qa_config",
        target=config,
        details={
            "before": before,
            "after": {"share_percent": str(share_percent), "minimum_per_advisor": minimum_per_advisor},
        },
    )
    return config


def _week_start(value: str | dt.date | None) -> dt.date:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if value is None:
        value = timezone.localdate() - dt.timedelta(days=7)
    return value - dt.timedelta(days=value.weekday())


@transaction.atomic
def qa_sample_week(*, week_start: str | dt.date | None = None) -> int:
    """Flag a random share of each advisor's calls of one ISO week for QA. Once per week.

    The draw is seeded by week and advisor, and each week is sampled once (QASampleRun),
    so a re-run or a redelivered task adds nothing.
    """
    monday = _week_start(week_start)
    config = qa_config()
    run, created = QASampleRun.objects.select_for_update().get_or_create(
        week_start=monday, defaults={"share_percent": config.share_percent}
    )
    if not created:
        return 0
    start, end = day_bounds(monday, monday + dt.timedelta(days=6))
    comms = (
        Communication.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, advisor__isnull=False, source=CommSource.CALL_NOTE
        )
        .order_by("advisor_id", "pk")
        .values_list("pk", "advisor_id")
    )
    by_advisor: dict[int, list[int]] = {}
    for pk, advisor_id in comms:
        by_advisor.setdefault(advisor_id, []).append(pk)
    picked: list[int] = []
    for advisor_id, ids in by_advisor.items():
        n = max(config.minimum_per_advisor, math.ceil(len(ids) * float(config.share_percent) / 100))
        rng = random.Random(f"{monday.isoformat()}:{advisor_id}")  # noqa: S311 - sampling, not security
        picked += rng.sample(ids, min(n, len(ids)))
    rows = [
        Flag(
            communication=c,
            kind=FlagKind.QA_SAMPLE,
            source=c.source,
            advisor_id=c.advisor_id,
            team_id=c.team_id,
            occurred_at=c.occurred_at,
            category="",
            severity=Severity.LOW,
            text_snapshot=c.text,
        )
        for c in Communication.objects.filter(pk__in=picked)
    ]
    Flag.objects.bulk_create(rows, ignore_conflicts=True)
    run.sampled = len(rows)
    run.save(update_fields=["sampled"])
    audit_record(
        actor=None, verb="compliance.qa_sample", target=run, details={"week": monday.isoformat(), "sampled": len(rows)}
    )
    return len(rows)
