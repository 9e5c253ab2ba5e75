"""Training, evaluation and inference of the lead model.

The model is a scikit-learn ``HistGradientBoostingClassifier`` on the outcome snapshots
(numbers as floats, categories as codes of a frequency-ordered vocabulary, missing as
NaN), calibrated with Platt scaling fitted on out-of-fold predictions (monotone, so the
calibrated score ranks exactly like the model). Evaluation is stratified 5-fold
cross-validation with a fixed seed, so two candidates compared on the same outcomes see
the same folds.

Explanations: for each feature we precompute a centred partial-dependence table on a
sample of the training rows; a row's contribution of feature j is the table's value at
the row's value. This is additive and vectorised (a lookup per feature), so the top
reasons of a million customers cost a few array operations, and the spread of the
contributions is the feature importance shown on the model page.
"""

from __future__ import annotations

import contextlib
import io
import math
import pickle
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from .feature_spec import CATEGORY, FEATURES, NUMBER
from .features import DEFAULT_VOCAB
from .models import MIN_CLASS_ROWS, Outcome

MAX_CATEGORIES = 200
MIN_CATEGORY_COUNT = 5
FOLDS = 5
SEED = 0

HGB_PARAMS = {
    "learning_rate": 0.05,
    "max_iter": 500,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.15,
    "n_iter_no_change": 30,
    "random_state": SEED,
}


_THREADS_SET: list[int] = []


def threads():
    """Limit OpenMP/BLAS threads (see WORKBENCH_SCORING_THREADS) once per process:
    entering threadpoolctl's context costs tens of milliseconds, too much per customer."""
    if not _THREADS_SET:
        threadpool_limits(limits=settings.WORKBENCH_SCORING_THREADS)
        _THREADS_SET.append(settings.WORKBENCH_SCORING_THREADS)
    return contextlib.nullcontext()


class NotEnoughOutcomes(Exception):
    pass


Spec = list[tuple[str, str, list[str]]]  # (name, number|category, vocabulary)


def contract_spec() -> Spec:
    """The spec of the feature contract (for the cold-start rules)."""
    return [(name, kind, list(DEFAULT_VOCAB.get(name, []))) for name, (kind, _d) in FEATURES.items()]


def infer_spec(rows: list[dict], exclude: set[str] | frozenset = frozenset()) -> Spec:
    """Features and types from the snapshots: numbers when every present value is a
    number (or bool), categories otherwise; contract keys keep their declared type."""
    values: dict[str, list] = {}
    for r in rows:
        for k, v in r.items():
            if k in exclude or v is None or v == "":
                continue
            values.setdefault(k, []).append(v)
    spec: Spec = []
    for name in sorted(values, key=lambda k: (k not in FEATURES, list(FEATURES).index(k) if k in FEATURES else 0, k)):
        vals = values[name]
        if name in FEATURES:
            kind = FEATURES[name][0]
        else:
            kind = NUMBER if all(isinstance(v, int | float) for v in vals) else CATEGORY
        vocab: list[str] = []
        if kind == CATEGORY:
            counts = Counter(str(v) for v in vals)
            vocab = [c for c, n in counts.most_common(MAX_CATEGORIES) if n >= MIN_CATEGORY_COUNT]
            if not vocab:
                continue
        elif len(set(vals)) < 2:
            continue  # a constant column carries nothing
        spec.append((name, kind, vocab))
    return spec


def encode(rows: list[dict], spec: Spec) -> np.ndarray:
    X = np.full((len(rows), len(spec)), np.nan)
    lookups = [({v: i for i, v in enumerate(vocab)} if kind == CATEGORY else None) for _n, kind, vocab in spec]
    for i, r in enumerate(rows):
        for j, (name, kind, _vocab) in enumerate(spec):
            v = r.get(name)
            if v is None or v == "":
                continue
            if kind == CATEGORY:
                code = lookups[j].get(str(v))
                if code is not None:
                    X[i, j] = code
            else:
                with contextlib.suppress(TypeError, ValueError):
                    X[i, j] = float(v)
    return X


def _estimator(spec: Spec, params: dict | None = None) -> HistGradientBoostingClassifier:
    mask = [kind == CATEGORY for _n, kind, _v in spec]
    p = {**HGB_PARAMS, **(params or {})}
    if not any(mask):
        mask = None
    return HistGradientBoostingClassifier(categorical_features=mask, **p)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class Calibrator:
    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> Calibrator:
        lr = LogisticRegression(C=1e6)
        lr.fit(_logit(raw).reshape(-1, 1), y)
        return cls(a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * _logit(raw) + self.b)))


def lift_top(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    n = max(1, int(math.ceil(len(y) * share)))
    top = np.argsort(-p, kind="stable")[:n]
    overall = y.mean()
    return float(y[top].mean() / overall) if overall > 0 else 0.0


def cross_validate(X: np.ndarray, y: np.ndarray, spec: Spec, params: dict | None = None) -> dict:
    """Stratified 5-fold CV: out-of-fold raw and calibrated probabilities and metrics.

    Calibration inside the CV is itself out of fold (fitted on the other folds' raw
    predictions), so the Brier score is honest.
    """
    folds = list(StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(X, y))
    raw = np.zeros(len(y))
    for train, test in folds:
        est = _estimator(spec, params).fit(X[train], y[train])
        raw[test] = est.predict_proba(X[test])[:, 1]
    cal = np.zeros(len(y))
    for train, test in folds:
        cal[test] = Calibrator.fit(raw[train], y[train])(raw[test])
    return {
        "raw": raw,
        "calibrated": cal,
        "auc": float(roc_auc_score(y, cal)),
        "lift_top10": lift_top(y, cal),
        "brier": float(brier_score_loss(y, cal)),
    }


def _charts(y: np.ndarray, p: np.ndarray) -> dict:
    order = np.argsort(-p, kind="stable")
    deciles = np.array_split(order, 10)
    overall = y.mean() or 1.0
    lift = [round(float(y[d].mean() / overall), 3) if len(d) else 0.0 for d in deciles]
    by_pred = np.array_split(np.argsort(p, kind="stable"), 10)
    calibration = [
        {"predicted": round(float(p[b].mean()), 4), "observed": round(float(y[b].mean()), 4), "n": len(b)}
        for b in by_pred
        if len(b)
    ]
    bins = np.clip((p * 100).astype(int), 0, 99)
    n = np.bincount(bins, minlength=100)
    pos = np.bincount(bins, weights=y, minlength=100)
    return {
        "lift": lift,
        "calibration": calibration,
        "score_bins": [[int(a), int(b)] for a, b in zip(n, pos, strict=True)],
    }


@dataclass
class Explainer:
    """Centred partial-dependence tables, one per feature (see the module docstring)."""

    grids: list[np.ndarray] = field(default_factory=list)  # sorted grid values (numbers) or codes
    values: list[np.ndarray] = field(default_factory=list)  # contribution at each grid value
    nan_values: list[float] = field(default_factory=list)  # contribution when missing
    kinds: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, estimator, X: np.ndarray, spec: Spec, sample: int = 1500) -> Explainer:
        rng = np.random.default_rng(SEED)
        S = X[rng.choice(len(X), size=min(sample, len(X)), replace=False)]
        ex = cls()
        for j, (_name, kind, vocab) in enumerate(spec):
            col = S[:, j]
            present = col[~np.isnan(col)]
            if kind == CATEGORY:
                grid = np.arange(len(vocab), dtype=float)
            else:
                qs = np.unique(np.quantile(present, np.linspace(0, 1, 17))) if len(present) else np.array([0.0])
                grid = qs
            points = list(grid) + [np.nan]
            Z = np.repeat(S[None, :, :], len(points), axis=0)
            for g, v in enumerate(points):
                Z[g, :, j] = v
            pd = _logit(estimator.predict_proba(Z.reshape(-1, S.shape[1]))[:, 1]).reshape(len(points), -1).mean(axis=1)
            table, nan_value = pd[:-1], pd[-1]
            # centre on the sample's own distribution: the average contribution is 0
            here = ex_lookup(col, grid, table, nan_value, kind)
            centre = float(here.mean())
            ex.grids.append(grid)
            ex.values.append(table - centre)
            ex.nan_values.append(float(nan_value - centre))
            ex.kinds.append(kind)
        return ex

    def contributions(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros(X.shape, dtype=float)
        for j in range(X.shape[1]):
            out[:, j] = ex_lookup(X[:, j], self.grids[j], self.values[j], self.nan_values[j], self.kinds[j])
        return out


def ex_lookup(col: np.ndarray, grid: np.ndarray, table: np.ndarray, nan_value: float, kind: str) -> np.ndarray:
    nan = np.isnan(col)
    if len(grid) == 0:
        return np.where(nan, nan_value, 0.0)
    if kind == CATEGORY:
        idx = np.where(nan, 0, col).astype(int)
        idx = np.clip(idx, 0, len(grid) - 1)
    else:
        mids = (grid[1:] + grid[:-1]) / 2
        idx = np.searchsorted(mids, np.where(nan, 0, col))
    return np.where(nan, nan_value, table[idx])


@dataclass
class TrainedModel:
    spec: Spec
    estimator: HistGradientBoostingClassifier
    calibrator: Calibrator
    explainer: Explainer
    params: dict

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.calibrator(self.estimator.predict_proba(X)[:, 1])

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def loads(data: bytes) -> TrainedModel:
        # Artifacts are written only by train_model() into our own database.
        return pickle.loads(bytes(data))  # noqa: S301


def training_rows():
    rows, labels = [], []
    for features, converted in (
        Outcome.objects.order_by("id").values_list("features", "converted").iterator(chunk_size=5000)
    ):
        rows.append(features if isinstance(features, dict) else {})
        labels.append(1 if converted else 0)
    return rows, np.array(labels, dtype=int)


def fit(
    rows: list[dict], y: np.ndarray, *, exclude=frozenset(), params: dict | None = None
) -> tuple[TrainedModel, dict]:
    """Train on ``rows``/``y``; returns the model and its cross-validated metrics."""
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives < MIN_CLASS_ROWS or negatives < MIN_CLASS_ROWS:
        raise NotEnoughOutcomes(f"{positives} positive / {negatives} negative outcomes (need {MIN_CLASS_ROWS} each)")
    spec = infer_spec(rows, set(exclude))
    X = encode(rows, spec)
    with threads():
        cv = cross_validate(X, y, spec, params)
        estimator = _estimator(spec, params).fit(X, y)
        calibrator = Calibrator.fit(cv["raw"], y)
        explainer = Explainer.fit(estimator, X, spec)
    model = TrainedModel(
        spec=spec,
        estimator=estimator,
        calibrator=calibrator,
        explainer=explainer,
        params={**HGB_PARAMS, **(params or {})},
    )
    contrib = explainer.contributions(X[: min(len(X), 5000)])  # (pure numpy)
    importance = sorted(
        (
            {"feature": name, "importance": round(float(np.abs(contrib[:, j]).mean()), 4)}
            for j, (name, _k, _v) in enumerate(spec)
        ),
        key=lambda d: -d["importance"],
    )
    metrics = {
        "rows": len(y),
        "positives": positives,
        "auc": round(cv["auc"], 4),
        "lift_top10": round(cv["lift_top10"], 3),
        "brier": round(cv["brier"], 4),
        "base_rate": round(positives / len(y), 4),
        "importance": importance,
        **_charts(y, cv["calibrated"]),
    }
    return model, metrics


def evaluate_spec(rows: list[dict], y: np.ndarray, spec: Spec, params: dict | None = None) -> float:
    """CV AUC of a recipe (feature spec + parameters) on these outcomes: how the active
    model's recipe does on the same folds as a new candidate."""
    X = encode(rows, spec)
    with threads():
        return cross_validate(X, y, spec, params)["auc"]
