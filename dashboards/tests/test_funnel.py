"""The funnel's arithmetic on known data, the previous-period change and empty periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dashboards.models import DailyFact, DailyRefresh
from dashboards.selectors import Period, branch_view, funnel, operations, period_for
from dashboards.tasks import refresh_day

from .conftest import PREV_START, WEEK_START

pytestmark = pytest.mark.django_db
WEEK = Period(WEEK_START, WEEK_START + dt.timedelta(days=6), "week")


def _by_metric(stages):
    return {s.metric: s for s in stages}


def test_funnel_counts_conversion_and_drop_off_for_the_advisor(known):
    stages = _by_metric(funnel(user=known.world.advisor_a, period=WEEK, filters={}))
    assert "reached_campaign" not in stages  # messages are HQ's
    assert [stages[m].count for m in ("reached_ai", "proposed", "confirmed", "referred", "accepted", "converted")] == [
        8,
        5,
        3,
        2,
        1,
        1,
    ]
    assert stages["confirmed"].grades == {"high": 2, "mid": 1, "low": 0}
    assert stages["proposed"].conversion == pytest.approx(5 / 8)
    assert stages["proposed"].drop_off == pytest.approx(3 / 8)
    assert stages["referred"].conversion == 1.0  # referred ÷ confirmed high
    assert stages["accepted"].conversion == 0.5
    assert stages["converted"].amount == Decimal("500000.00")


def test_previous_period_change(known):
    stages = _by_metric(funnel(user=known.world.advisor_a, period=WEEK, filters={}))
    assert stages["proposed"].previous == 2
    assert stages["proposed"].change == pytest.approx(1.5)
    assert stages["referred"].previous == 0 and stages["referred"].change is None
    assert WEEK.previous() == Period(PREV_START, PREV_START + dt.timedelta(days=6), "week")
    assert period_for("month", dt.date(2026, 3, 15)).previous() == Period(
        dt.date(2026, 2, 1), dt.date(2026, 2, 28), "month"
    )


def test_empty_period_has_zeros_and_no_rates(known):
    empty = Period(dt.date(2025, 1, 1), dt.date(2025, 1, 7), "custom")
    stages = funnel(user=known.world.admin, period=empty, filters={})
    assert all(s.count == 0 and s.conversion is None and s.change is None for s in stages)
    ops = operations(user=known.world.admin, period=empty, filters={})
    assert ops["total"].kpis.dialled == 0 and ops["total"].kpis.effective_rate is None
    assert branch_view(user=known.world.admin, period=empty, filters={})["total"]["received"] == 0


def test_hq_sees_everything_and_filters_narrow(known):
    w = known.world
    stages = _by_metric(funnel(user=w.admin, period=WEEK, filters={}))
    assert stages["reached_ai"].count == 9 and stages["proposed"].count == 7
    team_b = _by_metric(funnel(user=w.admin, period=WEEK, filters={"team": w.team_b.pk}))
    assert team_b["proposed"].count == 2 and team_b["referred"].count == 0
    branch_x = _by_metric(funnel(user=w.admin, period=WEEK, filters={"branch": w.branch_x.pk}))
    assert branch_x["referred"].count == 2


def test_operations_reuse_the_call_measures(known):
    ops = operations(user=known.world.advisor_a, period=WEEK, filters={})
    k = ops["total"].kpis
    assert (k.dialled, k.connected, k.effective, k.conversions, k.amount) == (10, 9, 8, 1, Decimal("100000.00"))
    assert (k.planned, k.planned_done) == (7, 6)
    assert k.effective_rate == 0.8 and k.effective_on_target is True
    assert ops["total"].callbacks == 2 and ops["total"].callbacks_on_time == 1
    assert ops["total"].decisions == 3 and ops["total"].override_rate == pytest.approx(1 / 3)
    assert ops["total"].overdue_touches == 1  # the nurture touch still planned, at the week's end
    assert [r["counts"] for r in ops["by_hour"]] and sum(ops["by_hour"][0]["counts"]) == 10
    assert [d.kpis.dialled for d in ops["days"]] == [0, 10, 0, 0, 0, 0, 0]


def test_branch_view_sla_and_reasons(known):
    data = branch_view(user=known.world.manager_x, period=WEEK, filters={})
    t = data["total"]
    assert (t["received"], t["reviewed"], t["reviewed_on_time"], t["accepted"], t["rejected"]) == (2, 2, 1, 1, 1)
    assert (t["contacted"], t["contacted_on_time"], t["converted"], t["amount"]) == (1, 1, 1, Decimal("500000.00"))
    assert [(r["code"], r["count"]) for r in data["reasons"]] == [("not_a_fit", 1)]
    rm = next(r for r in data["rms"] if r["key"] == known.world.rm_x.pk)
    assert rm["converted"] == 1 and rm["conversion"] == 1.0


def test_refresh_twice_gives_the_same_rows(known):
    tuesday = WEEK_START + dt.timedelta(days=1)
    before = sorted(DailyFact.objects.filter(day=tuesday).values_list("metric", "detail", "advisor_id", "count"))
    refresh_day(tuesday.isoformat())
    refresh_day(tuesday.isoformat())
    after = sorted(DailyFact.objects.filter(day=tuesday).values_list("metric", "detail", "advisor_id", "count"))
    assert before == after and before
    assert DailyRefresh.objects.filter(day=tuesday).count() == 1
