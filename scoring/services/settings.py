"""Writes of the scoring settings team leads edit: grade cutoffs and the cold-start rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..access import require_manage_scoring
from ..models import ScoringSettings
from ..rules import RULES
from ..selectors import settings_get


@transaction.atomic
def cutoffs_update(*, actor, high: float, mid: float) -> ScoringSettings:
    """Set the grade cutoffs (absolute scores 0-100, high above mid)."""
    require_manage_scoring(actor)
    if not (0 <= mid < high <= 100):
        raise ValidationError(_("Cutoffs must satisfy 0 ≤ mid < high ≤ 100."))
    st = settings_get()
    before = {"high": st.high_cutoff, "mid": st.mid_cutoff}
    ScoringSettings.objects.filter(pk=st.pk).update(
        high_cutoff=high, mid_cutoff=mid, updated_by=actor, updated_at=timezone.now()
    )
    st.refresh_from_db()
    audit_record(
        actor=actor,
        verb="scoring.cutoffs_update",
        target=st,
        details={"before": before, "after": {"high": high, "mid": mid}},
    )
    return st


@transaction.atomic
def rules_update(*, actor, rules: dict) -> ScoringSettings:
    """Set the cold-start rules (an intercept and a log-odds weight per rule code), which
    an administrator edits in the admin; validated, audited."""
    require_manage_scoring(actor)
    rules_validate(rules)
    st = settings_get()
    before = st.rules
    ScoringSettings.objects.filter(pk=st.pk).update(rules=rules, updated_by=actor, updated_at=timezone.now())
    st.refresh_from_db()
    audit_record(actor=actor, verb="scoring.rules_update", target=st, details={"before": before, "after": rules})
    return st


def rules_validate(rules) -> None:
    """``{"intercept": number, "weights": {rule code: number}}`` with known codes only."""

    def number(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    weights = rules.get("weights") if isinstance(rules, dict) else None
    if not isinstance(weights, dict) or not number(rules.get("intercept", 0)):
        raise ValidationError(_("The rules need a numeric intercept and a table of weights."))
    unknown = sorted(set(weights) - set(RULES))
    if unknown:
        raise ValidationError(_("Unknown rule codes: %(codes)s.") % {"codes": ", ".join(unknown)})
    if not all(number(w) for w in weights.values()):
        raise ValidationError(_("Every rule weight must be a number."))
