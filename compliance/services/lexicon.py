"""The lexicon: rules (phrases, patterns or concept expressions), their versioned
changelog, the concept groups the expressions name, and each rule's review statistics.
Changes are not retroactive: flags keep the rule version they were raised with (a rescan
applies today's lexicon to earlier texts)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..access import can_edit_lexicon
from ..lexicon_data import CODE_PREFIX
from ..models import ConceptGroup, Flag, FlagOutcome, LexiconRule, LexiconRuleStats, LexiconRuleVersion
from ..rule_language import (
    SCANNER_GROUPS,
    RuleSyntaxError,
    check_term,
    is_concept_expression,
    parse_expression,
    parse_terms,
)

GROUP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


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
    elif is_concept_expression(pattern):
        try:
            expression = parse_expression(pattern)
        except RuleSyntaxError as exc:
            errors["pattern"] = _("This concept rule cannot be read: %(error)s") % {"error": exc}
        else:
            known = set(ConceptGroup.objects.filter(name__in=expression.groups()).values_list("name", flat=True))
            missing = sorted(expression.groups() - known)
            if missing:
                errors["pattern"] = _("No concept group is called %(names)s.") % {"names": ", ".join(missing)}
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


def rule_stats_count_hits(counts: Counter[int]) -> None:
    """Add newly flagged findings to their rules' hit counts (one per flag and rule)."""
    if not counts:
        return
    LexiconRuleStats.objects.bulk_create([LexiconRuleStats(rule_id=r) for r in counts], ignore_conflicts=True)
    for rule_id, n in counts.items():
        LexiconRuleStats.objects.filter(rule_id=rule_id).update(hits=F("hits") + n)


def rule_stats_count_outcomes(flags: Iterable[Flag]) -> None:
    """Count the outcome of closed flags for each rule that found something on them:
    confirmed (coaching, complaint risk, violation) or dismissed (no issue)."""
    confirmed: Counter[int] = Counter()
    dismissed: Counter[int] = Counter()
    for flag in flags:
        ids = {f["rule_id"] for f in flag.rule_findings if f.get("rule_id")}
        target = dismissed if flag.outcome == FlagOutcome.NO_ISSUE else confirmed
        target.update(ids)
    rules = set(confirmed) | set(dismissed)
    if not rules:
        return
    existing = set(LexiconRule.objects.filter(pk__in=rules).values_list("pk", flat=True))
    LexiconRuleStats.objects.bulk_create([LexiconRuleStats(rule_id=r) for r in existing], ignore_conflicts=True)
    for rule_id in existing:
        LexiconRuleStats.objects.filter(rule_id=rule_id).update(
            confirmed=F("confirmed") + confirmed[rule_id], dismissed=F("dismissed") + dismissed[rule_id]
        )


@transaction.atomic
def concept_group_save(*, actor, name: str, terms: str, description: str = "", group: ConceptGroup | None = None):
    """Create or change a concept group (the scanner is rebuilt at the next scan)."""
    _require_lexicon_editor(actor)
    name = (name or "").strip()
    errors = {}
    if not GROUP_NAME.match(name):
        errors["name"] = _("Use lower-case letters, digits and underscores, starting with a letter.")
    elif ConceptGroup.objects.filter(name=name).exclude(pk=group.pk if group else None).exists():
        errors["name"] = _("Another concept group has this name.")
    parsed = parse_terms(terms or "")
    if not parsed:
        errors["terms"] = _("Enter at least one term, one per line.")
    for term in parsed:
        try:
            check_term(term)
        except RuleSyntaxError as exc:
            errors["terms"] = _("This regular expression is not valid: %(error)s") % {"error": exc}
            break
    if group is not None and name != group.name:
        in_use = LexiconRule.objects.filter(pattern__contains="{" + group.name + "}").exists()
        if in_use:
            errors["name"] = _("Rules name this group; change them before renaming it.")
        elif group.name in SCANNER_GROUPS:
            errors["name"] = _("The scanner reads this group by its name; it cannot be renamed.")
    if errors:
        raise ValidationError(errors)
    before = {"name": group.name, "terms": group.terms, "description": group.description} if group else {}
    if group is None:
        group = ConceptGroup(owner=actor)
    else:
        group = ConceptGroup.objects.select_for_update().get(pk=group.pk)
        group.version += 1
    group.name, group.terms, group.description = name, "\n".join(parsed), (description or "").strip()[:200]
    group.save()
    after = {"name": group.name, "terms": group.terms, "description": group.description}
    audit_record(
        actor=actor,
        verb="lexicon.group_update",
        target=group,
        details={"changes": {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}},
    )
    return group
