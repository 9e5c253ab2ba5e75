"""Turning feature rows into scores, grades and reasons, with the active model or the
cold-start rules (whichever is in force)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .feature_spec import CATEGORY
from .models import ModelVersion
from .reasons import _templates, reasons_json_rows, top_reasons
from .rules import RULES, rules_predict
from .selectors import settings_get
from .training import Spec, TrainedModel, contract_spec, encode, threads

_MODEL_CACHE: dict[int, TrainedModel] = {}

# Rule codes whose reason reads better from another feature ("matures in 12 days").
_RULE_PHRASE_FEATURE = {"maturity_30d": "days_to_next_maturity"}


def grades_for(scores: np.ndarray, *, high: float, mid: float) -> np.ndarray:
    return np.where(scores >= high, "high", np.where(scores >= mid, "mid", "low"))


@dataclass
class Scorer:
    method: str  # "model" | "rules"
    version: str
    spec: Spec
    high: float
    mid: float
    model: TrainedModel | None = None
    rules: dict | None = None

    @classmethod
    def current(cls, *, version_id: int | None = None) -> Scorer:
        """The scorer in force: the active model (or ``version_id``), else the rules."""
        st = settings_get()
        mv = None
        if version_id is not None:
            mv = ModelVersion.objects.filter(pk=version_id).first()
        if mv is None:
            mv = ModelVersion.objects.filter(is_active=True).first()
        if mv is not None:
            model = _MODEL_CACHE.get(mv.pk)
            if model is None:
                model = TrainedModel.loads(mv.artifact)
                _MODEL_CACHE.clear()
                _MODEL_CACHE[mv.pk] = model
            return cls("model", mv.version, model.spec, st.high_cutoff, st.mid_cutoff, model=model)
        return cls("rules", "rules", contract_spec(), st.high_cutoff, st.mid_cutoff, rules=st.rules)

    @property
    def vocabs(self) -> dict[str, list[str]]:
        return {name: vocab for name, kind, vocab in self.spec if kind == CATEGORY}

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Probabilities, contributions (log-odds, one column per code) and the codes."""
        if self.model is not None:
            with threads():
                p = self.model.predict(X)
            return p, self.model.explainer.contributions(X), [n for n, _k, _v in self.spec]
        index = {name: j for j, (name, _k, _v) in enumerate(self.spec)}
        return rules_predict(X, index, self.vocabs, self.rules or {})

    def _reason_items(self, codes: list[str]) -> list[tuple[str, str, str]]:
        """(code, phrase code, feature) of each contribution column."""
        if self.method == "rules":
            return [(c, _RULE_PHRASE_FEATURE.get(c, c), _RULE_PHRASE_FEATURE.get(c, RULES[c][1])) for c in codes]
        return [(c, c, c) for c in codes]

    def _graded(self, X: np.ndarray):
        """Scores 0-100, grades, contributions, the reason items and the feature index."""
        p, contrib, codes = self.predict(X)
        scores = np.round(p * 100, 2)
        grades = grades_for(scores, high=self.high, mid=self.mid)
        index = {name: j for j, (name, _k, _v) in enumerate(self.spec)}
        return scores, grades, contrib, self._reason_items(codes), index

    def score_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[list[dict]]]:
        """Scores 0-100, grades and reasons for the rows of ``X``."""
        scores, grades, contrib, items, index = self._graded(X)
        templates, templates_en = _templates(), _templates("en")
        vocabs = self.vocabs
        reasons = []
        for i in range(X.shape[0]):
            row = X[i]

            def value_of(feature, row=row):
                j = index.get(feature)
                return None if j is None else float(row[j])

            reasons.append(top_reasons(contrib[i], items, value_of, templates, vocabs, templates_en))
        return scores, grades, reasons

    def score_matrix_json(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The same for a batch, with each row's reasons as their stored JSON (full rescoring)."""
        scores, grades, contrib, items, index = self._graded(X)
        reasons = reasons_json_rows(contrib, X, items, index, _templates(), self.vocabs, _templates("en"))
        return scores, grades, reasons

    def score_features(self, features: dict) -> tuple[float, str, list[dict]]:
        X = encode([features], self.spec)
        scores, grades, reasons = self.score_matrix(X)
        return float(scores[0]), str(grades[0]), reasons[0]
