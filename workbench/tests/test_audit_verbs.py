"""The audit verb registry: every verb the code records is declared by exactly one app,
with a label in Chinese (the audit log shows labels, never codes)."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.utils import translation

from core.audit import audit_verbs, verb_label
from core.project import PROJECT_APPS

ROOT = Path(__file__).resolve().parents[2]
RECORDED = re.compile(r'\bverb="([a-z_]+\.[a-z_.]+)"')


def _recorded() -> set[str]:
    verbs = set()
    for app in PROJECT_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                verbs |= set(RECORDED.findall(path.read_text(encoding="utf-8")))
    return verbs


def test_every_recorded_verb_is_declared():
    recorded = _recorded()
    assert {"lead.transition", "call.log", "customer.reveal_pii", "script.approve", "scoring.model_train"} <= recorded
    assert recorded <= set(audit_verbs()), sorted(recorded - set(audit_verbs()))


def test_each_verb_is_declared_by_one_app_and_labelled_in_chinese():
    owners: dict[str, list[str]] = {}
    for config in apps.get_app_configs():
        for verb in getattr(config, "audit_verbs", {}):
            owners.setdefault(verb, []).append(config.label)
    assert {v: o for v, o in owners.items() if len(o) > 1} == {}
    with translation.override("en"):
        english = {verb: verb_label(verb) for verb in audit_verbs()}
    with translation.override("zh-hans"):
        untranslated = sorted(verb for verb in audit_verbs() if verb_label(verb) == english[verb])
    assert untranslated == []
    assert verb_label("no.such_verb") == "no.such_verb"  # undeclared shows as written
