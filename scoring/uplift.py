"""The uplift model: who converts *because* they were contacted.

A two-model learner ("T-learner"): one ``HistGradientBoostingClassifier`` on the treated
enrolments, one on the control group's, both on the scoring features as they were at
entry. A customer's predicted uplift is P(convert | contacted) − P(convert | not
contacted). Two models rather than one with the arm as a feature, because a single
boosted model can ignore a weak arm column altogether and predict no uplift anywhere.

Beside it an **X-learner** (Künzel et al.): the same two models, then each group's
imputed effects (y − μ₀(x) for the treated, μ₁(x) − y for the control group) regressed on
its features, the two effect models mixed by the treated share g: τ(x) = g·τ₀(x) + (1 − g)·τ₁(x).
With a small control group (10 %) μ₀ is the weak model, and the X-learner leans on the
effect learned from the large treated group. Both are fitted on the same training
customers and judged on the same held-out ones in every run; the X-learner is adopted
only when its Qini coefficient there is at least the T-learner's (``metrics["learners"]``).

Evaluation is on held-out enrolments: the split is by customer (``GroupShuffleSplit``),
so the same customer is never on both sides (a customer entering two campaigns would
otherwise let the model recognise them). On the held-out part:

- the **Qini curve**: rows sorted by predicted uplift, best first; at each depth k,
  Q(k) = conversions of the treated among the first k − conversions of the control group
  among them × (treated ÷ control among them): the extra conversions contacting the first k
  would have caused. Random targeting is the straight line from 0 to Q(N).
- the **Qini coefficient**: the mean height of the curve above that line over all depths,
  per treated customer of the held-out part (0 for random targeting, > 0 when the ranking
  puts the persuadable first), with a 95 % interval from a bootstrap over customers
  (the held-out customers drawn with replacement, the model's predictions kept);
- **uplift at the top decile**: conversion rate of the treated − of the control group among
  the 10 % with the highest predicted uplift, beside the same difference over everyone.

Only this module (with ``scoring.training``) imports scikit-learn; campaigns gathers the
enrolments and calls ``scoring.services.uplift``.
"""

from __future__ import annotations

import io
import math
import pickle
import time
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import GroupShuffleSplit

from .feature_spec import CATEGORY, NUMBER
from .training import Spec, contract_spec, threads

SEED = 0
HELD_OUT_SHARE = 0.3
BOOTSTRAP_ROUNDS = 200
CURVE_POINTS = 20  # the Qini curve is drawn at 5 % steps of the held-out rows
TOP_SHARE = 0.1
# Each group (treated, control) needs this many converted and not converted enrolments.
MIN_ARM_CLASS_ROWS = 40
# A new model is compared with the one in use on held-out customers the latter never saw:
# each group among them needs this many converted and not converted enrolments.
MIN_COMPARE_CLASS_ROWS = 10

HGB_PARAMS = {
    "learning_rate": 0.05,
    "max_iter": 300,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.15,
    "n_iter_no_change": 20,
    "random_state": SEED,
}


class NotEnoughEnrolments(Exception):
    pass


def uplift_spec() -> Spec:
    """The features the uplift model reads: the scoring contract's numbers and its
    categories with a known vocabulary (so the set-based SQL path computes the same)."""
    return [(name, kind, vocab) for name, kind, vocab in contract_spec() if kind == NUMBER or vocab]


def _estimator(spec: Spec, cols: list[int], kind=HistGradientBoostingClassifier):
    mask = [spec[j][1] == CATEGORY for j in cols]
    return kind(categorical_features=mask if any(mask) else None, **HGB_PARAMS)


T_LEARNER, X_LEARNER = "t", "x"


@dataclass
class UpliftModel:
    spec: Spec
    cols: list[int]  # the columns of ``spec`` that vary in the training rows
    treated_model: HistGradientBoostingClassifier
    control_model: HistGradientBoostingClassifier
    # The X-learner's second stage (None for a T-learner; versions from before have neither):
    # regressions of the imputed effects on each group, mixed by the treated share.
    learner: str = T_LEARNER
    effect_treated: HistGradientBoostingRegressor | None = None
    effect_control: HistGradientBoostingRegressor | None = None
    treated_share: float = 0.5

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(uplift, P(convert | contacted), P(convert | not contacted)) per row."""
        if len(X) == 0:
            empty = np.zeros(0)
            return empty, empty, empty
        Z = X[:, self.cols]
        p_t = self.treated_model.predict_proba(Z)[:, 1]
        p_c = self.control_model.predict_proba(Z)[:, 1]
        if self.learner != X_LEARNER or self.effect_treated is None or self.effect_control is None:
            return p_t - p_c, p_t, p_c
        # Weight each group's effect model by the *other* group's share: the effect learned
        # on the treated (y − μ₀) leans on the control model, which is the weaker of the two
        # when the control group is small, so it counts for the treated share's complement.
        g = self.treated_share
        uplift = g * self.effect_control.predict(Z) + (1 - g) * self.effect_treated.predict(Z)
        return uplift, p_t, p_c

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def loads(data: bytes) -> UpliftModel:
        # Artifacts are written only by uplift_fit() into our own database.
        return pickle.loads(bytes(data))  # noqa: S301


def _varying(X: np.ndarray) -> list[int]:
    """Columns with at least two distinct present values (a constant or empty column
    carries nothing, and the binning refuses an empty one)."""
    cols = []
    for j in range(X.shape[1]):
        present = X[:, j][~np.isnan(X[:, j])]
        if len(present) and present.min() != present.max():
            cols.append(j)
    return cols


def _fit_models(X: np.ndarray, treated: np.ndarray, y: np.ndarray, spec: Spec, learner: str = T_LEARNER):
    """A T-learner (two classifiers), or an X-learner: the same two, then the imputed
    effects — y − μ₀(x) for the treated, μ₁(x) − y for the control group — each regressed
    on its group's features. Assignment is a hash of the customer id, independent of the
    features, so the propensity is the treated share (no propensity model)."""
    cols = _varying(X)
    Z = X[:, cols]
    with threads():
        mt = _estimator(spec, cols).fit(Z[treated], y[treated])
        mc = _estimator(spec, cols).fit(Z[~treated], y[~treated])
        model = UpliftModel(spec=spec, cols=cols, treated_model=mt, control_model=mc)
        if learner == X_LEARNER:
            d_t = y[treated] - mc.predict_proba(Z[treated])[:, 1]
            d_c = mt.predict_proba(Z[~treated])[:, 1] - y[~treated]
            model.learner = X_LEARNER
            model.effect_treated = _estimator(spec, cols, HistGradientBoostingRegressor).fit(Z[treated], d_t)
            model.effect_control = _estimator(spec, cols, HistGradientBoostingRegressor).fit(Z[~treated], d_c)
            model.treated_share = float(treated.mean())
    return model


# --- the Qini curve ---------------------------------------------------------------------


def _qini_heights(order: np.ndarray, treated: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Q(k) for k = 1..N (rows in ``order``, weighted by ``w``) and the number treated."""
    t, yy, ww = treated[order], y[order], w[order]
    n_t = np.cumsum(ww * t)
    n_c = np.cumsum(ww * (1 - t))
    y_t = np.cumsum(ww * t * yy)
    y_c = np.cumsum(ww * (1 - t) * yy)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c > 0, y_t - y_c * n_t / np.where(n_c > 0, n_c, 1), y_t)
    return q, float(n_t[-1]) if len(n_t) else 0.0


def _coefficient(q: np.ndarray, total_treated: float, w: np.ndarray, order: np.ndarray) -> float:
    if len(q) == 0 or total_treated <= 0:
        return 0.0
    depth = np.cumsum(w[order])
    random_line = q[-1] * depth / depth[-1]
    # mean over depths, each row weighted by its own weight (the bootstrap's multiplicity)
    gap = (q - random_line) * w[order]
    return float(gap.sum() / depth[-1] / total_treated)


def qini_coefficient(uplift: np.ndarray, treated: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """The Qini coefficient of a ranking (see the module docstring): 0 for random
    targeting, positive when the persuadable come first."""
    treated = treated.astype(float)
    y = y.astype(float)
    w = np.ones(len(y)) if w is None else w
    order = np.argsort(-uplift, kind="stable")
    q, n_t = _qini_heights(order, treated, y, w)
    return _coefficient(q, n_t, w, order)


def qini_curve(uplift: np.ndarray, treated: np.ndarray, y: np.ndarray, points: int = CURVE_POINTS) -> list[dict]:
    """The curve at ``points`` depths (share of rows targeted, extra conversions per
    treated customer, the random line's height there)."""
    order = np.argsort(-uplift, kind="stable")
    q, n_t = _qini_heights(order, treated.astype(float), y.astype(float), np.ones(len(y)))
    n = len(q)
    out = [{"share": 0.0, "model": 0.0, "random": 0.0}]
    if n == 0 or n_t <= 0:
        return out
    for i in range(1, points + 1):
        k = max(1, round(n * i / points))
        out.append(
            {
                "share": round(i / points, 4),
                "model": round(float(q[k - 1]) / n_t, 5),
                "random": round(float(q[-1]) * k / n / n_t, 5),
            }
        )
    return out


def arm_difference(treated: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float | None:
    """Conversion rate of the treated − of the control group (None when a group is empty)."""
    w = np.ones(len(y)) if w is None else w
    t = treated.astype(bool)
    n_t, n_c = w[t].sum(), w[~t].sum()
    if n_t <= 0 or n_c <= 0:
        return None
    return float((w[t] * y[t]).sum() / n_t - (w[~t] * y[~t]).sum() / n_c)


def top_uplift(uplift: np.ndarray, treated: np.ndarray, y: np.ndarray, w=None, share: float = TOP_SHARE):
    """Observed uplift among the ``share`` with the highest predicted uplift."""
    n = max(1, int(math.ceil(len(y) * share)))
    top = np.argsort(-uplift, kind="stable")[:n]
    return arm_difference(treated[top], y[top], None if w is None else w[top])


def _customer_weights(groups: np.ndarray, *, rounds: int, seed: int):
    """Each bootstrap round's row weights: customers (``groups``) drawn with replacement,
    a customer's rows weighted together (they are not independent)."""
    rng = np.random.default_rng(seed)
    _keys, inverse = np.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1 if len(inverse) else 0
    for _ in range(rounds):
        yield np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups).astype(float)[inverse]


def _interval(values) -> list[float] | None:
    """The 95 % percentile interval of bootstrap values (None without any)."""
    if not values:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [round(float(lo), 5), round(float(hi), 5)]


def bootstrap_interval(
    uplift: np.ndarray,
    treated: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = SEED,
) -> dict:
    """95 % percentile intervals of the Qini coefficient and of the top-decile uplift,
    resampling customers (``groups``) with replacement: a customer's enrolments move
    together, as they are not independent."""
    treated = treated.astype(float)
    y = y.astype(float)
    order = np.argsort(-uplift, kind="stable")
    top_n = max(1, int(math.ceil(len(y) * TOP_SHARE)))
    top = order[:top_n]
    qinis, tops = [], []
    for w in _customer_weights(groups, rounds=rounds, seed=seed):
        q, n_t = _qini_heights(order, treated, y, w)
        qinis.append(_coefficient(q, n_t, w, order))
        d = arm_difference(treated[top].astype(bool), y[top], w[top])
        if d is not None:
            tops.append(d)
    return {"qini_interval": _interval(qinis), "top_decile_interval": _interval(tops), "rounds": rounds}


def paired_comparison(
    new_uplift: np.ndarray,
    current_uplift: np.ndarray,
    treated: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = SEED,
) -> dict:
    """Two rankings of the same held-out rows: the current one's Qini coefficient with
    its 95 % interval, and the difference new − current with its interval, each bootstrap
    round drawing the same customers for both (a paired comparison: the noise the two
    share cancels out of the difference)."""
    treated = treated.astype(float)
    y = y.astype(float)
    new_order = np.argsort(-new_uplift, kind="stable")
    current_order = np.argsort(-current_uplift, kind="stable")
    currents, differences = [], []
    for w in _customer_weights(groups, rounds=rounds, seed=seed):
        q_new, n_t = _qini_heights(new_order, treated, y, w)
        q_cur, _n = _qini_heights(current_order, treated, y, w)
        current = _coefficient(q_cur, n_t, w, current_order)
        currents.append(current)
        differences.append(_coefficient(q_new, n_t, w, new_order) - current)
    current_qini = qini_coefficient(current_uplift, treated, y)
    return {
        "current_qini": round(current_qini, 5),
        "current_qini_interval": _interval(currents),
        "qini_difference": round(qini_coefficient(new_uplift, treated, y) - current_qini, 5),
        "qini_difference_interval": _interval(differences),
    }


def comparable(model: UpliftModel | None, spec: Spec) -> bool:
    """Whether ``model`` reads the features of ``spec`` in the same columns (a version
    trained before the feature contract changed cannot predict on today's rows)."""
    return model is not None and [name for name, _k, _v in model.spec] == [name for name, _k, _v in spec]


# --- training and evaluation ----------------------------------------------------------


def split_by_customer(groups: np.ndarray, *, share: float = HELD_OUT_SHARE, seed: int = SEED):
    """Training and held-out row indices; a customer's rows all fall on one side."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return train, test


def _class_counts(treated: np.ndarray, y: np.ndarray) -> dict[str, int]:
    return {
        "treated_converted": int((treated & (y == 1)).sum()),
        "treated_not": int((treated & (y == 0)).sum()),
        "control_converted": int((~treated & (y == 1)).sum()),
        "control_not": int((~treated & (y == 0)).sum()),
    }


def has_enough(treated: np.ndarray, y: np.ndarray, minimum: int) -> bool:
    return min(_class_counts(treated, y).values()) >= minimum


def check_enough(treated: np.ndarray, y: np.ndarray) -> None:
    counts = _class_counts(treated, y)
    if min(counts.values()) < MIN_ARM_CLASS_ROWS:
        raise NotEnoughEnrolments(counts)


def evaluate(uplift: np.ndarray, treated: np.ndarray, y: np.ndarray, groups: np.ndarray, *, rounds: int) -> dict:
    """The held-out figures of a ranking (a model's predicted uplift, or random numbers)."""
    interval = bootstrap_interval(uplift, treated, y, groups, rounds=rounds)
    overall = arm_difference(treated, y)
    top = top_uplift(uplift, treated, y)
    return {
        "qini": round(qini_coefficient(uplift, treated, y), 5),
        "qini_interval": interval["qini_interval"],
        "top_decile_uplift": None if top is None else round(top, 5),
        "top_decile_interval": interval["top_decile_interval"],
        "overall_uplift": None if overall is None else round(overall, 5),
        "curve": qini_curve(uplift, treated, y),
        "bootstrap_rounds": rounds,
    }


def uplift_fit(
    X: np.ndarray,
    treated: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    spec: Spec | None = None,
    rounds: int = BOOTSTRAP_ROUNDS,
    current: UpliftModel | None = None,
    seen: np.ndarray | None = None,
) -> tuple[UpliftModel, dict]:
    """Evaluate on held-out customers, then train the model kept on every enrolment.

    ``X``: features at entry (columns of ``spec``), ``treated``: True for the treated
    arm, ``y``: 1 when the enrolment converted within the attribution window, ``groups``:
    the customer of each row. Raises NotEnoughEnrolments below the bar.

    ``current``: the model in use now, for a paired comparison on held-out rows
    (``metrics["compared"]``; None when there is none or it reads other features).
    ``seen``: True for the rows ``current`` learned from. It was fitted on every
    enrolment of its day, and judged on those it would look far better than it is (it
    fits their noise), so the comparison takes only the held-out customers none of whose
    enrolments it saw; with fewer than ``MIN_COMPARE_CLASS_ROWS`` converted and not
    converted in each group among them, ``compared["enough"]`` is False."""
    spec = spec or uplift_spec()
    treated = np.asarray(treated, dtype=bool)
    y = np.asarray(y, dtype=int)
    groups = np.asarray(groups)
    check_enough(treated, y)
    started = time.perf_counter()
    train, test = split_by_customer(groups)
    # Both learners on the same held-out customers; the X-learner is adopted only when it
    # ranks them at least as well as the T-learner (paired: the same bootstrap draws).
    held_t = _fit_models(X[train], treated[train], y[train], spec)
    held_x = _fit_models(X[train], treated[train], y[train], spec, X_LEARNER)
    uplift_t, _p_t, _p_c = held_t.predict(X[test])
    uplift_x, _p_t, _p_c = held_x.predict(X[test])
    versus = paired_comparison(uplift_x, uplift_t, treated[test], y[test], groups[test], rounds=rounds)
    learner = X_LEARNER if versus["qini_difference"] >= 0 else T_LEARNER
    uplift, rest = (uplift_x, uplift_t) if learner == X_LEARNER else (uplift_t, uplift_x)
    metrics = evaluate(uplift, treated[test], y[test], groups[test], rounds=rounds)
    other = bootstrap_interval(rest, treated[test], y[test], groups[test], rounds=rounds)
    metrics["learner"] = learner
    metrics["learners"] = {
        learner: {"qini": metrics["qini"], "qini_interval": metrics["qini_interval"]},
        (T_LEARNER if learner == X_LEARNER else X_LEARNER): {
            "qini": round(qini_coefficient(rest, treated[test], y[test]), 5),
            "qini_interval": other["qini_interval"],
        },
        # X-learner − T-learner on the same customers, with its paired 95 % interval
        "difference": versus["qini_difference"],
        "difference_interval": versus["qini_difference_interval"],
    }
    rng = np.random.default_rng(SEED)
    random_qini = qini_coefficient(rng.random(len(test)), treated[test], y[test])
    compared = None
    if comparable(current, spec):
        seen = np.zeros(len(y), dtype=bool) if seen is None else np.asarray(seen, dtype=bool)
        new_to_current = ~np.isin(groups[test], groups[seen])
        rows = test[new_to_current]
        compared = {"rows": len(rows), "enough": has_enough(treated[rows], y[rows], MIN_COMPARE_CLASS_ROWS)}
        if compared["enough"]:
            current_uplift, _t, _c = current.predict(X[rows])
            compared.update(
                paired_comparison(
                    uplift[new_to_current], current_uplift, treated[rows], y[rows], groups[rows], rounds=rounds
                )
            )
    model = _fit_models(X, treated, y, spec, learner)
    _u, p_t_all, _p_c_all = model.predict(X)
    metrics.update(
        {
            "rows": len(y),
            "customers": len(np.unique(groups)),
            "treated": int(treated.sum()),
            "control": int((~treated).sum()),
            "converted": int(y.sum()),
            "held_out_rows": len(test),
            "held_out_customers": len(np.unique(groups[test])),
            "random_qini": round(random_qini, 5),
            # "would convert anyway": predicted to convert without contact at least as
            # often as the average contacted customer does
            "anyway_threshold": round(float(p_t_all[treated].mean()) if treated.any() else 0.0, 5),
            "finds_uplift": bool(metrics["qini_interval"] and metrics["qini_interval"][0] > 0),
            "compared": compared,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return model, metrics
