"""Every audit verb scoring records is declared on its AppConfig, with a Chinese label."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.utils import translation

from scoring import tasks

APP = Path(__file__).resolve().parents[1]
NAME = re.compile(r'"(scoring\.[a-z_]+)"')


def test_every_recorded_verb_is_declared_and_translated():
    code = [p for p in APP.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]
    names = {n for p in code for n in NAME.findall(p.read_text(encoding="utf-8"))}
    task_names = {
        t.name
        for t in (
            tasks.rescore_customer,
            tasks.rescore_all,
            tasks.rescore_chunk,
            tasks.train_model,
            tasks.resurface_pool,
        )
    }  # task names, which are also the job kinds
    recorded = names - task_names
    assert {"scoring.outcome_record", "scoring.model_rollback", "scoring.outcomes_import"} <= recorded
    declared = apps.get_app_config("scoring").audit_verbs
    assert recorded == set(declared), sorted(recorded ^ set(declared))
    with translation.override("en"):
        english = {verb: str(label) for verb, label in declared.items()}
    with translation.override("zh-hans"):
        untranslated = [verb for verb, label in declared.items() if str(label) == english[verb]]
    assert untranslated == []
