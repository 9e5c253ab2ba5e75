"""The uplift learner on known data: the Qini arithmetic by hand, the split by customer,
uplift found where it was planted and not found where there is none."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import uplift as U

SPEC = U.uplift_spec()
NAMES = [name for name, _k, _v in SPEC]
TIERS = {t: i for i, t in enumerate({n: v for n, _k, v in SPEC}["tier"])}


def synthetic(n: int, *, effect: float, seed: int = 1, repeat_customers: bool = False, treated_share: float = 0.5):
    """Rows of the uplift spec: tier, AUM, age and the days to the next maturity. The
    conversion chance is higher for wealth and private customers in both groups (they
    "would convert anyway"), and ``effect`` higher only for base-tier customers with a
    maturity within 30 days who were contacted (the persuadable)."""
    rng = np.random.default_rng(seed)
    X = np.full((n, len(SPEC)), np.nan)
    col = NAMES.index
    X[:, col("age")] = rng.uniform(25, 75, n)
    X[:, col("tier")] = rng.choice(4, n, p=[0.35, 0.4, 0.2, 0.05])
    X[:, col("days_to_next_maturity")] = np.where(rng.random(n) < 0.8, rng.integers(0, 60, n), np.nan)
    X[:, col("aum")] = rng.lognormal(11, 1, n)
    treated = rng.random(n) < treated_share
    persuadable = (X[:, col("tier")] == TIERS["base"]) & (X[:, col("days_to_next_maturity")] <= 30)
    p = 0.05 + 0.10 * (X[:, col("tier")] >= TIERS["wealth"]) + effect * persuadable * treated
    y = (rng.random(n) < p).astype(int)
    groups = np.arange(n) // 2 if repeat_customers else np.arange(n)
    return X, treated, y, groups, persuadable


def test_qini_by_hand():
    # sorted by predicted uplift: (treated, converted) = (1, 1), (0, 0), (1, 0), (0, 1)
    uplift = np.array([4.0, 3.0, 2.0, 1.0])
    treated = np.array([1, 0, 1, 0], dtype=bool)
    y = np.array([1, 0, 0, 1])
    # Q(1) = 1 (no control yet), Q(2) = 1 − 0, Q(3) = 1 − 0 · 2/1, Q(4) = 1 − 1 · 2/2 = 0;
    # the random line ends at Q(4) = 0: mean gap 3/4, per treated customer (2): 0.375
    assert U.qini_coefficient(uplift, treated, y) == pytest.approx(0.375)
    # the reverse ranking puts the converted control customer first
    assert U.qini_coefficient(-uplift, treated, y) < 0
    assert U.arm_difference(treated, y) == pytest.approx(0.0)
    curve = U.qini_curve(uplift, treated, y, points=4)
    assert [p["model"] for p in curve] == [0.0, 0.5, 0.5, 0.5, 0.0]
    assert curve[-1]["random"] == 0.0


def test_bootstrap_draws_customers_and_brackets_the_estimate():
    X, treated, y, groups, _p = synthetic(2000, effect=0.30, repeat_customers=True)
    rng = np.random.default_rng(0)
    uplift = rng.random(len(y))
    point = U.qini_coefficient(uplift, treated, y)
    interval = U.bootstrap_interval(uplift, treated, y, groups, rounds=100)
    low, high = interval["qini_interval"]
    assert low < point < high
    assert interval["rounds"] == 100


def test_split_keeps_each_customer_on_one_side():
    groups = np.repeat(np.arange(500), 3)
    train, test = U.split_by_customer(groups)
    assert set(groups[train]).isdisjoint(groups[test])
    assert 0.25 < len(test) / len(groups) < 0.35


def test_finds_planted_uplift_on_held_out_customers():
    X, treated, y, groups, persuadable = synthetic(4000, effect=0.30, repeat_customers=True)
    model, m = U.uplift_fit(X, treated, y, groups)
    assert m["qini_interval"][0] > 0  # beats random targeting with 95 % confidence
    assert m["finds_uplift"] is True
    assert m["qini"] > m["random_qini"] + 0.01
    # the top decile is far more persuadable than the held-out customers overall
    assert m["top_decile_uplift"] > m["overall_uplift"] + 0.10
    assert m["top_decile_interval"][0] > 0
    assert m["held_out_customers"] + len(set(groups)) - m["held_out_customers"] == m["customers"]
    uplift, p_t, p_c = model.predict(X)
    assert uplift[persuadable].mean() > uplift[~persuadable].mean() + 0.15
    # a T-learner's uplift is the difference of its two models; an X-learner's is not
    assert np.allclose(uplift, p_t - p_c) == (model.learner == U.T_LEARNER)
    # the artifact round-trips
    again = U.UpliftModel.loads(model.dumps())
    assert np.allclose(again.predict(X[:50])[0], uplift[:50])


def test_finds_no_uplift_where_there_is_none():
    X, treated, y, groups, _p = synthetic(4000, effect=0.0, seed=3)
    model, m = U.uplift_fit(X, treated, y, groups)
    low, high = m["qini_interval"]
    assert low <= 0 <= high
    assert m["finds_uplift"] is False
    # The assertion above has teeth: judged on the rows it learned from, the same learner
    # "finds" uplift in pure noise (it fits the noise of each group) — which is why the
    # figures are taken on held-out customers only.
    uplift, _t, _c = model.predict(X)
    in_sample = U.bootstrap_interval(uplift, treated, y, groups, rounds=100)
    assert in_sample["qini_interval"][0] > 0


def test_too_few_enrolments_are_refused():
    X, treated, y, groups, _p = synthetic(300, effect=0.0)
    with pytest.raises(U.NotEnoughEnrolments) as raised:
        U.uplift_fit(X, treated, y, groups)
    assert raised.value.args[0]["treated_converted"] < U.MIN_ARM_CLASS_ROWS


def test_paired_comparison_of_a_ranking_with_itself_is_zero():
    X, treated, y, groups, _p = synthetic(1000, effect=0.30, repeat_customers=True)
    uplift = np.random.default_rng(2).random(len(y))
    same = U.paired_comparison(uplift, uplift, treated, y, groups, rounds=50)
    assert same["qini_difference"] == 0 and same["qini_difference_interval"] == [0.0, 0.0]
    assert same["current_qini"] == pytest.approx(U.qini_coefficient(uplift, treated, y), abs=1e-5)
    # another ranking: the difference of the two coefficients, inside its interval
    reverse = U.paired_comparison(-uplift, uplift, treated, y, groups, rounds=50)
    assert reverse["qini_difference"] == pytest.approx(
        U.qini_coefficient(-uplift, treated, y) - U.qini_coefficient(uplift, treated, y), abs=1e-5
    )
    low, high = reverse["qini_difference_interval"]
    assert low <= reverse["qini_difference"] <= high


def test_a_new_model_is_compared_with_the_one_in_use_on_customers_it_never_saw():
    X0, t0, y0, g0, _p = synthetic(4000, effect=0.0, seed=3)
    noise, _m = U.uplift_fit(X0, t0, y0, g0, rounds=20)
    X, treated, y, groups, _p = synthetic(4000, effect=0.30, repeat_customers=True)
    _model, m = U.uplift_fit(X, treated, y, groups, current=noise)
    compared = m["compared"]
    assert compared["enough"] and compared["rows"] == m["held_out_rows"]
    # the model that learned the planted group ranks better than the one that learned noise
    assert compared["qini_difference"] > 0.005
    assert compared["qini_difference"] == pytest.approx(m["qini"] - compared["current_qini"], abs=2e-5)
    # a model that saw these very rows would look far better than it is (it fits their
    # noise), so the comparison leaves out every customer it saw
    fitted_here, _m = U.uplift_fit(X, treated, y, groups, rounds=20)
    _model, unfair = U.uplift_fit(X, treated, y, groups, current=fitted_here)
    assert unfair["compared"]["qini_difference"] < -0.01
    _model, fair = U.uplift_fit(X, treated, y, groups, current=fitted_here, seen=np.ones(len(y), dtype=bool))
    assert fair["compared"] == {"rows": 0, "enough": False}
    # a model reading other features cannot be compared
    other = U.UpliftModel(spec=SPEC[:-1], cols=[0], treated_model=None, control_model=None)
    assert U.uplift_fit(X, treated, y, groups, current=other, rounds=20)[1]["compared"] is None


def test_both_learners_are_judged_on_the_same_held_out_customers_and_x_only_if_as_good():
    X, treated, y, groups, persuadable = synthetic(6000, effect=0.30, repeat_customers=True, treated_share=0.9)
    model, m = U.uplift_fit(X, treated, y, groups, rounds=100)
    learners = m["learners"]
    chosen, other = m["learner"], ({U.T_LEARNER, U.X_LEARNER} - {m["learner"]}).pop()
    # the figures shown are the adopted learner's, the other's beside them
    assert learners[chosen]["qini"] == m["qini"] and learners[chosen]["qini_interval"] == m["qini_interval"]
    assert learners[other]["qini"] != m["qini"]
    # adopted only if at least as good on the same customers: X − T ≥ 0 picks X
    assert learners["difference"] == pytest.approx(
        learners[U.X_LEARNER]["qini"] - learners[U.T_LEARNER]["qini"], abs=2e-5
    )
    assert (chosen == U.X_LEARNER) == (learners["difference"] >= 0)
    low, high = learners["difference_interval"]
    assert low <= learners["difference"] <= high
    # the model kept is the adopted learner, fitted on every enrolment, and round-trips
    assert model.learner == chosen
    uplift, _t, _c = model.predict(X)
    assert uplift[persuadable].mean() > uplift[~persuadable].mean() + 0.15
    assert np.allclose(U.UpliftModel.loads(model.dumps()).predict(X[:50])[0], uplift[:50])


def test_the_x_learner_finds_planted_uplift_with_a_small_control_group():
    X, treated, y, groups, persuadable = synthetic(6000, effect=0.30, seed=5, treated_share=0.9)
    train, test = U.split_by_customer(groups)
    x = U._fit_models(X[train], treated[train], y[train], SPEC, U.X_LEARNER)
    assert x.learner == U.X_LEARNER and x.treated_share == pytest.approx(treated[train].mean())
    uplift, _t, _c = x.predict(X[test])
    interval = U.bootstrap_interval(uplift, treated[test], y[test], groups[test], rounds=100)
    assert interval["qini_interval"][0] > 0
    assert uplift[persuadable[test]].mean() > uplift[~persuadable[test]].mean() + 0.15


def test_a_version_from_before_the_x_learner_still_predicts_as_a_t_learner():
    X, treated, y, groups, _p = synthetic(4000, effect=0.30)
    t = U._fit_models(X, treated, y, SPEC)
    state = dict(t.__dict__)
    for name in ("learner", "effect_treated", "effect_control", "treated_share"):
        state.pop(name)
    old = U.UpliftModel.__new__(U.UpliftModel)
    old.__dict__.update(state)  # what unpickling an artifact written before these fields gives
    uplift, p_t, p_c = old.predict(X[:100])
    assert np.allclose(uplift, p_t - p_c) and np.allclose(uplift, t.predict(X[:100])[0])
