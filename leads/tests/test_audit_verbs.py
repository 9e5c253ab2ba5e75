"""Every audit verb leads records is declared on its AppConfig, with a Chinese label."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.utils import translation

APP = Path(__file__).resolve().parents[1]
VERB = re.compile(r'verb="([a-z_.]+)"')


def test_every_recorded_verb_is_declared_and_translated():
    code = [p for p in APP.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]
    recorded = {v for p in code for v in VERB.findall(p.read_text(encoding="utf-8"))}
    declared = apps.get_app_config("leads").audit_verbs
    assert recorded == set(declared), sorted(recorded ^ set(declared))
    with translation.override("en"):
        english = {verb: str(label) for verb, label in declared.items()}
    with translation.override("zh-hans"):
        untranslated = [verb for verb, label in declared.items() if str(label) == english[verb]]
    assert untranslated == []
