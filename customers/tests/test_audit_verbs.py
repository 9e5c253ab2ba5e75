"""Every audit verb this app records is declared on its AppConfig, with a Chinese label."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.utils import translation

SERVICES = Path(__file__).resolve().parents[1] / "services"
# The audit verbs' shape: "<subject>.<what>" (job kinds are "customers.<what>").
VERB = re.compile(r'"((?:customer|interaction|contact|import|api)\.[a-z_]+)"')


def test_every_recorded_verb_is_declared_and_translated():
    recorded = {v for path in SERVICES.glob("*.py") for v in VERB.findall(path.read_text(encoding="utf-8"))}
    assert {"customer.reveal_pii", "interaction.record", "import.start", "customer.update"} <= recorded
    declared = apps.get_app_config("customers").audit_verbs
    assert recorded <= set(declared), sorted(recorded - set(declared))
    with translation.override("en"):
        english = {verb: str(label) for verb, label in declared.items()}
    with translation.override("zh-hans"):
        untranslated = [verb for verb, label in declared.items() if str(label) == english[verb]]
    assert untranslated == []
