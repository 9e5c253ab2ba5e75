"""The gates of issue 16: the scanner generalises to paraphrase families it never saw.

Rules are measured on the held-out families (written before the concept rules and not read
while authoring them); the classifier by grouped cross-validation over families; the
scanner is their union. The table is printed in the test output and copied into
docs/compliance-scanner.md.
"""

from __future__ import annotations

import json

import pytest

from compliance import evaluation
from compliance.classifier import CLEAN, CORPUS_DIR, load_corpus
from compliance.evaluation import GATE_FPR, GATE_RECALL, evaluate, evaluate_fresh, fold_of


@pytest.fixture(scope="module")
def report():
    return evaluate()


def test_corpus_is_large_enough_grouped_in_families_and_covers_every_category_and_both_languages():
    snippets = load_corpus()
    assert len(snippets) >= 1500
    assert len({s.id for s in snippets}) == len(snippets)
    families: dict[str, set] = {}
    for s in snippets:
        families.setdefault(s.family, set()).add((s.label, s.lang))
    assert all(len(v) == 1 for v in families.values()), "a family has one label and one language"
    labels = {(s.label, s.lang) for s in snippets}
    categories = {s.label for s in snippets} - {CLEAN}
    assert len(categories) == 12
    assert all((c, lang) in labels for c in categories for lang in ("zh", "en"))
    assert sum(1 for s in snippets if s.label == CLEAN) >= 400  # hard negatives
    held_out = {s.family for s in snippets if s.family.startswith(evaluation.HELD_OUT_PREFIX)}
    assert len(held_out) >= 60
    for path in CORPUS_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) >= {"id", "family", "lang", "label", "text"}


def test_folds_never_split_a_family():
    snippets = load_corpus()
    folds: dict[str, set] = {}
    for s in snippets:
        folds.setdefault(s.family, set()).add(fold_of(s.family))
    assert all(len(f) == 1 for f in folds.values())
    assert len({fold_of(f) for f in folds}) == 5


def test_print_the_held_out_figures(report, capsys):
    with capsys.disabled():
        print("\n" + report.table())
    assert report.held_out_snippets > 400


@pytest.mark.parametrize(
    "language",
    [
        pytest.param(
            language,
            marks=pytest.mark.xfail(
                strict=True,
                reason={
                    "en": "held-out families of both writers after round seven: 0.88 recall / 0.04 false-positive "
                    "rate (gates 0.95 / 0.05; the second writer's English 0.71 / 0.12): see docs/compliance-scanner.md",
                    "zh": "held-out families of both writers after round seven: 0.91 recall / 0.09 false-positive "
                    "rate (gates 0.95 / 0.05; the second writer's Chinese 0.85 / 0.15): see docs/compliance-scanner.md",
                }[language],
            ),
        )
        for language in ("en", "zh")
    ],
)
def test_gates_on_held_out_families(report, language):
    scanner = report.by_language[("scanner", language)]
    assert scanner.recall >= GATE_RECALL, report.table()
    assert scanner.fpr <= GATE_FPR, report.table()


def test_the_union_is_never_worse_than_the_rules_alone(report):
    for language in ("zh", "en"):
        assert report.by_language[("scanner", language)].recall >= report.by_language[("rules", language)].recall


def test_fresh_families_are_measured_with_a_classifier_that_never_saw_them(monkeypatch):
    snippets = [s for s in load_corpus() if s.family.startswith(("D3-", "D4-"))]
    trained_on = []
    real_fit = evaluation.fit

    def spy(train, *args, **kwargs):
        trained_on.extend(train)
        return real_fit(train, *args, **kwargs)

    monkeypatch.setattr(evaluation, "fit", spy)
    report = evaluate_fresh("D4-", snippets)
    assert trained_on and not any(s.family.startswith("D4-") for s in trained_on)
    d4 = [s for s in snippets if s.family.startswith("D4-")]
    assert report.held_out_snippets == len(d4)
    zh = report.by_language[("scanner", "zh")]
    assert zh.positives + zh.negatives == sum(1 for s in d4 if s.lang == "zh")
