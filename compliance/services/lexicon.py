"""The lexicon: rules (phrases or patterns) and their versioned changelog. Changes are
not retroactive: flags keep the rule version they were raised with (a rescan applies
today's lexicon to earlier texts)."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..access import can_edit_lexicon
from ..lexicon_data import CODE_PREFIX
from ..models import LexiconRule, LexiconRuleVersion


def _require_lexicon_editor(actor) -> None:
    if not can_edit_lexicon(actor):
        raise PermissionDenied(_("Only compliance officers may do this."))


RULE_FIELDS = LexiconRule.SNAPSHOT_FIELDS


def _validate_rule(data: dict) -> None:
    errors = {}
    pattern = (data.get("pattern") or "").strip()
    if not pattern:
        errors["pattern"] = _("Enter a phrase or a regular expression.")
    elif data.get("is_regex"):
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            errors["pattern"] = _("This regular expression is not valid: %(error)s") % {"error": exc}
        else:
            if compiled.search(""):
                errors["pattern"] = _("This regular expression matches empty text; it would flag everything.")
    start, end = data.get("active_from"), data.get("active_until")
    if start and end and end < start:
        errors["active_until"] = _("The end date is before the start date.")
    if errors:
        raise ValidationError(errors)


def _next_code(language: str, category: str) -> str:
    prefix = f"{language.upper()}-{CODE_PREFIX.get(category, 'MISC')}-"
    codes = LexiconRule.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


@transaction.atomic
def lexicon_rule_create(*, actor, data: dict, note: str = "") -> LexiconRule:
    _require_lexicon_editor(actor)
    _validate_rule(data)
    values = {k: data[k] for k in RULE_FIELDS if k in data and k != "owner_id"}
    values["pattern"] = values["pattern"].strip()
    owner = data.get("owner") or actor
    rule = LexiconRule.objects.create(
        code=_next_code(values["language"], values["category"]), owner=owner, version=1, **values
    )
    LexiconRuleVersion.objects.create(
        rule=rule, version=1, snapshot=rule.snapshot(), changes={}, note=note or _("created"), changed_by=actor
    )
    audit_record(actor=actor, verb="lexicon.create", target=rule, details={"snapshot": rule.snapshot(), "note": note})
    return rule


@transaction.atomic
def lexicon_rule_update(*, actor, rule: LexiconRule, data: dict, note: str = "") -> LexiconRule:
    """Save a new version of a rule with its changelog row. Not retroactive: flags stay as they were."""
    _require_lexicon_editor(actor)
    rule = LexiconRule.objects.select_for_update().get(pk=rule.pk)
    _validate_rule({**{n: getattr(rule, n) for n in RULE_FIELDS if n != "owner_id"}, **data})
    before = rule.snapshot()
    for name in RULE_FIELDS:
        if name == "owner_id":
            if "owner" in data and data["owner"] is not None:
                rule.owner = data["owner"]
            continue
        if name in data:
            setattr(rule, name, data[name].strip() if name == "pattern" else data[name])
    after = rule.snapshot()
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return rule
    rule.version += 1
    rule.save()
    LexiconRuleVersion.objects.create(
        rule=rule, version=rule.version, snapshot=after, changes=changes, note=note, changed_by=actor
    )
    audit_record(actor=actor, verb="lexicon.update", target=rule, details={"changes": changes, "note": note})
    return rule
