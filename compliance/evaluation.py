"""How well the scanner generalises: precision, recall and false-positive rate on paraphrase
families that neither the rules nor the classifier saw.

The corpus (``compliance/corpus``) has three files of families. ``heldout.jsonl`` was
written first, before the concept rules, and was not read while the rules were authored
against ``dev.jsonl``; ``heldout_w2.jsonl`` (``W2-``) by a second writer who never saw the
rules, the lexicon or the other files, and is not read by whoever authors rules. So:

- the **rules** are measured on the held-out families only;
- the **classifier** is measured by grouped cross-validation over all families (a family
  is never split across training and test folds), and its out-of-fold predictions on the
  held-out families are the ones that count;
- the **scanner** (a flag is raised when a rule or the classifier finds something) is
  their union on the held-out families.

Figures are per language and per category; the gates (recall ≥ 0.95 and false-positive
rate ≤ 0.05 per language) are checked by ``compliance/tests/test_generalisation.py`` and
written down in ``docs/compliance-scanner.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from .classifier import CLEAN, THRESHOLD, Snippet, fit, load_corpus
from .lexicon_data import default_groups, default_specs
from .scanner import Scanner, classifier_features, normalise

GATE_RECALL = 0.95
GATE_FPR = 0.05
FOLDS = 5
# The held-out families: the first writer's (written before the concept rules) and, since
# the sixth round, a second writer's, who never saw the rules, the lexicon or the corpus.
HELD_OUT_PREFIX = ("H-", "W2-")


@dataclass
class Counts:
    positives: int = 0  # labelled violations
    caught: int = 0  # ... that were flagged at all
    right: int = 0  # ... flagged with their own category
    negatives: int = 0  # clean snippets
    false_positives: int = 0  # ... that were flagged
    predicted: int = 0  # snippets flagged with this category (per-category precision)
    predicted_right: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.positives if self.positives else 1.0

    @property
    def category_recall(self) -> float:
        return self.right / self.positives if self.positives else 1.0

    @property
    def fpr(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0

    @property
    def precision(self) -> float:
        return self.predicted_right / self.predicted if self.predicted else 1.0


@dataclass
class Report:
    # (layer, language) -> Counts, layer in "rules", "model" (alone), "scanner" (their union)
    by_language: dict[tuple[str, str], Counts] = field(default_factory=dict)
    # (layer, language, category) -> Counts
    by_category: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    families: int = 0
    snippets: int = 0
    held_out_families: int = 0
    held_out_snippets: int = 0

    def table(self) -> str:
        """The figures as a plain-text table (test output, docs)."""
        lines = [
            f"corpus: {self.snippets} snippets in {self.families} families; held out: "
            f"{self.held_out_snippets} snippets in {self.held_out_families} families",
            f"{'layer':8} {'lang':4} {'category':20} {'recall':>6} {'cat.rec':>7} {'prec.':>6} {'FPR':>5} "
            f"{'n+':>4} {'n-':>4}",
        ]
        for (layer, lang), c in sorted(self.by_language.items()):
            lines.append(
                f"{layer:8} {lang:4} {'(all)':20} {c.recall:6.2f} {c.category_recall:7.2f} {'':>6} {c.fpr:5.2f} "
                f"{c.positives:4d} {c.negatives:4d}"
            )
        for (layer, lang, cat), c in sorted(self.by_category.items()):
            if layer != "scanner":
                continue
            lines.append(
                f"{layer:8} {lang:4} {cat:20} {c.recall:6.2f} {c.category_recall:7.2f} {c.precision:6.2f} "
                f"{c.fpr:5.2f} {c.positives:4d} {c.negatives:4d}"
            )
        return "\n".join(lines)


def fold_of(family: str, folds: int = FOLDS) -> int:
    """A family's fold: stable across runs and machines (no random state)."""
    return int(hashlib.sha256(family.encode("utf-8")).hexdigest(), 16) % folds


def _tally(report: Report, layer: str, snippet: Snippet, categories: set[str], all_categories: Sequence[str]) -> None:
    lang_counts = report.by_language.setdefault((layer, snippet.lang), Counts())
    flagged = bool(categories)
    if snippet.label == CLEAN:
        lang_counts.negatives += 1
        lang_counts.false_positives += flagged
    else:
        lang_counts.positives += 1
        lang_counts.caught += flagged
        lang_counts.right += snippet.label in categories
    for category in all_categories:
        c = report.by_category.setdefault((layer, snippet.lang, category), Counts())
        if snippet.label == category:
            c.positives += 1
            c.caught += flagged
            c.right += category in categories
        elif snippet.label == CLEAN:
            c.negatives += 1
            c.false_positives += category in categories
        if category in categories:
            c.predicted += 1
            c.predicted_right += snippet.label == category


def evaluate(
    snippets: Sequence[Snippet] | None = None,
    *,
    folds: int = FOLDS,
    measured_prefix: str | tuple[str, ...] = HELD_OUT_PREFIX,
    threshold: float = THRESHOLD,
) -> Report:
    """Measure rules, classifier and scanner on the held-out families (see the module doc).

    With ``snippets`` of the development families only and ``measured_prefix="D"``, the
    same protocol is grouped cross-validation over development families: what the
    classifier's settings and threshold are chosen on (never on the held-out families)."""
    snippets = list(snippets if snippets is not None else load_corpus())
    rules = Scanner(default_specs(), default_groups())
    texts, extras, rule_categories = [], [], []
    for s in snippets:
        extra, result = classifier_features(rules, s.text)
        texts.append(normalise(s.text))
        extras.append(extra)
        rule_categories.append({f.category for f in result.findings})
    model_categories: list[set[str]] = [set() for _ in snippets]
    fold = [fold_of(s.family, folds) for s in snippets]
    for k in range(folds):
        train = [i for i in range(len(snippets)) if fold[i] != k]
        test = [i for i in range(len(snippets)) if fold[i] == k]
        if not test:
            continue
        model = fit([snippets[i] for i in train], [texts[i] for i in train], [extras[i] for i in train])
        for i in test:
            model_categories[i] = {m.category for m in model.predict(texts[i], tuple(extras[i]), threshold=threshold)}
    all_categories = sorted({s.label for s in snippets if s.label != CLEAN})
    report = Report(families=len({s.family for s in snippets}), snippets=len(snippets))
    held_out = [i for i, s in enumerate(snippets) if s.family.startswith(measured_prefix)]
    report.held_out_snippets = len(held_out)
    report.held_out_families = len({snippets[i].family for i in held_out})
    for i in held_out:
        s = snippets[i]
        _tally(report, "rules", s, rule_categories[i], all_categories)
        _tally(report, "model", s, model_categories[i], all_categories)
        _tally(report, "scanner", s, rule_categories[i] | model_categories[i], all_categories)
    return report


def evaluate_fresh(prefix: str, snippets: Sequence[Snippet] | None = None, *, threshold: float = THRESHOLD) -> Report:
    """The first measurement of new families (``prefix``, e.g. "D4-"), before any rule is
    changed for them: the rules as they are, the classifier trained on every *other*
    snippet (what the shipped scanner would have had), both measured on those families only.
    Run it once, right after writing the families: after that they are fitted."""
    snippets = list(snippets if snippets is not None else load_corpus())
    rules = Scanner(default_specs(), default_groups())
    measured = [s for s in snippets if s.family.startswith(prefix)]
    train = [s for s in snippets if not s.family.startswith(prefix)]
    model = fit(train, [normalise(s.text) for s in train], [classifier_features(rules, s.text)[0] for s in train])
    all_categories = sorted({s.label for s in snippets if s.label != CLEAN})
    report = Report(families=len({s.family for s in snippets}), snippets=len(snippets))
    report.held_out_snippets = len(measured)
    report.held_out_families = len({s.family for s in measured})
    for s in measured:
        extra, result = classifier_features(rules, s.text)
        rule_categories = {f.category for f in result.findings}
        predicted = model.predict(normalise(s.text), tuple(extra), threshold=threshold)
        model_categories = {m.category for m in predicted}
        _tally(report, "rules", s, rule_categories, all_categories)
        _tally(report, "model", s, model_categories, all_categories)
        _tally(report, "scanner", s, rule_categories | model_categories, all_categories)
    return report
