"""Benchmark the uplift learner (``scoring.uplift.uplift_fit``) at N enrolments, in one run.

    .venv/bin/python bench/uplift_bench.py [N] [treated share, default 0.5]

Synthetic enrolments of the uplift spec (tier, AUM, age, days to the next maturity; half
in the control group, customers entering twice) with a planted persuadable group (base
tier, a maturity within 30 days: +30 points when contacted) and customers who would
convert anyway (wealth and private: +10 points in both groups). Reports the held-out
figures of both learners (T and X, on the same held-out customers, and which was adopted)
and the time of the whole fit (split by customer, both learners' held-out models, the
bootstraps, the adopted learner's final models) against one ``HistGradientBoostingClassifier``
with the same parameters on the same rows (the floor: a lead model's single fit), as a
ratio. No database.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from scoring import uplift as U  # noqa: E402
from scoring.tests.test_uplift import synthetic  # noqa: E402


def main(n: int, treated_share: float) -> None:
    X, treated, y, groups, _p = synthetic(n, effect=0.30, repeat_customers=True, treated_share=treated_share)
    started = time.perf_counter()
    _model, m = U.uplift_fit(X, treated, y, groups)
    fit = time.perf_counter() - started
    cols = U._varying(X)
    started = time.perf_counter()
    U._estimator(U.uplift_spec(), cols).fit(X[:, cols], y)
    floor = time.perf_counter() - started
    print(
        f"enrolments {n:,}  customers {m['customers']:,}  treated share {treated_share:.0%}  "
        f"held out {m['held_out_rows']:,}"
    )
    lr = m["learners"]
    print(
        f"T-learner Qini {lr['t']['qini']:.4f} (95% {lr['t']['qini_interval'][0]:.4f} to "
        f"{lr['t']['qini_interval'][1]:.4f}); X-learner {lr['x']['qini']:.4f} (95% {lr['x']['qini_interval'][0]:.4f} "
        f"to {lr['x']['qini_interval'][1]:.4f}); X − T {lr['difference']:.4f} (95% {lr['difference_interval'][0]:.4f} "
        f"to {lr['difference_interval'][1]:.4f}); adopted: {m['learner'].upper()}-learner"
    )
    print(
        f"Qini {m['qini']:.4f} (95% {m['qini_interval'][0]:.4f} to {m['qini_interval'][1]:.4f}); "
        f"random {m['random_qini']:.4f}"
    )
    print(
        f"top-decile uplift {m['top_decile_uplift']:.3f} (95% {m['top_decile_interval'][0]:.3f} to "
        f"{m['top_decile_interval'][1]:.3f}); overall {m['overall_uplift']:.3f}"
    )
    print(
        f"uplift_fit {fit:.1f} s; one HistGradientBoosting fit on the same rows {floor:.1f} s; ratio {fit / floor:.1f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
