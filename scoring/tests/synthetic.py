"""Generated outcome data with a known signal (and a planted leaky column)."""

from __future__ import annotations

import csv
import io

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

JOBS = ["admin.", "technician", "services", "management", "retired", "blue-collar", "student", "unknown"]
JOB_EFFECT = {"retired": 0.8, "student": 0.9, "management": 0.3, "blue-collar": -0.4}


def generate(n: int = 4000, seed: int = 7) -> tuple[list[str], list[list[str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 80, n)
    job = rng.choice(JOBS, n)
    balance = np.round(rng.lognormal(7, 1.3, n), 2)
    campaign = rng.poisson(2, n) + 1
    previous = rng.poisson(0.4, n)
    maturity = rng.integers(0, 120, n)
    signal = (
        -1.2
        + 0.9 * np.sin((age - 20) / 12)
        + np.array([JOB_EFFECT.get(j, 0.0) for j in job])
        + 0.45 * np.log1p(balance / 1000)
        - 0.25 * (campaign - 1)
        + 0.6 * np.minimum(previous, 2)
        + 1.3 * (maturity < 20)
    )
    logit = 1.7 * signal - 1.0 + rng.normal(0, 0.6, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    duration = np.round(60 + 400 * y + rng.normal(0, 30, n))  # known only after the call: leaks y
    header = ["age", "job", "balance", "campaign", "previous", "days_to_maturity", "duration", "y"]
    rows = [
        [
            str(age[i]),
            job[i],
            f"{balance[i]:.2f}",
            str(campaign[i]),
            str(previous[i]),
            str(maturity[i]),
            str(int(duration[i])),
            "yes" if y[i] else "no",
        ]
        for i in range(n)
    ]
    return header, rows, y


def to_csv(header, rows, *, delimiter=",", quote_all=False) -> str:
    buf = io.StringIO()
    w = csv.writer(
        buf, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\n"
    )
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def reference_auc(header, rows, y) -> float:
    """An off-the-shelf gradient-boosting model (defaults), 5-fold stratified CV."""
    cols = [c for c in header if c not in ("y", "duration")]
    X = np.zeros((len(rows), len(cols)))
    for j, c in enumerate(cols):
        k = header.index(c)
        if c == "job":
            X[:, j] = [JOBS.index(r[k]) for r in rows]
        else:
            X[:, j] = [float(r[k]) for r in rows]
    est = HistGradientBoostingClassifier(categorical_features=[c == "job" for c in cols], random_state=0)
    with threadpool_limits(limits=1):
        p = cross_val_predict(est, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=1), method="predict_proba")
    return float(roc_auc_score(y, p[:, 1]))
