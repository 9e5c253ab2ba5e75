"""Results per arm: each variant against control with hand-worked interval arithmetic,
the stored aggregates equal to the live figures and refreshed idempotently, the page's
"as of", arms, funnel and promotion buttons, and its query count constant in the size."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.journeys.enrol import enrol_customers
from campaigns.journeys.runner import journey_advance
from campaigns.models import (
    Arm,
    Campaign,
    CampaignStatus,
    Enrolment,
    JourneyEvent,
    JourneyEventKind,
    ResultsDay,
    ResultsRefresh,
    StepKind,
    Variant,
)
from campaigns.results import (
    DayRow,
    Moments,
    campaign_results,
    campaign_results_stored,
    results_build,
    results_refresh,
    results_refresh_all,
)
from campaigns.tasks import refresh_results
from campaigns.tests.factories import approved_script
from campaigns.tests.test_journeys import NOW, customers, running
from campaigns.variants import variant_add
from customers.models import AssetSnapshot, Channel

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


def test_each_variant_against_control_matches_the_hand_worked_values():
    campaign = Campaign(code="X", name="x", status=CampaignStatus.ENDED, ends_on=DAY)
    a, b = Variant(pk=1, label="A", position=1), Variant(pk=2, label="B", position=2)
    rows = [
        DayRow(Arm.TREATMENT, 1, DAY, entered=100, converted=30),
        DayRow(Arm.TREATMENT, 2, DAY, entered=100, converted=12),
        DayRow(Arm.CONTROL, None, DAY, entered=100, converted=10),
    ]
    results = results_build(campaign=campaign, rows=rows, variants=[a, b], now=NOW)
    arm_a, arm_b = results.arms
    # A: 30/100 against 10/100. Difference 0.20; unpooled SE √(.3·.7/100 + .1·.9/100) = √.003
    # = 0.0547723, so the interval is 0.20 ± 1.959964 × 0.0547723 = 0.20 ± 0.107352.
    # Pooled p = 40/200 = 0.2, SE √(.2·.8·(2/100)) = 0.0565685, z = 3.535534, two-sided
    # p = 0.000407 (normal tables: P(Z > 3.5355) = 0.0002035).
    assert arm_a.uplift.estimate == pytest.approx(0.20)
    assert (arm_a.uplift.low, arm_a.uplift.high) == (
        pytest.approx(0.092648, abs=1e-6),
        pytest.approx(0.307352, abs=1e-6),
    )
    assert arm_a.uplift.p_value == pytest.approx(0.000407, abs=2e-6)
    assert arm_a.better
    # Wilson 95 % for 30/100: centre (0.3 + 3.841459/200)/(1 + 3.841459/100) = 0.307398,
    # half 1.959964·√(.3·.7/100 + 3.841459/40000)/1.038415 = 0.088449 → 0.218949 to 0.395848
    # (scipy's norm.ppf(0.975) in the same formula agrees to 1e-9).
    low, high = arm_a.figures.interval
    assert (low, high) == (pytest.approx(0.218949, abs=1e-5), pytest.approx(0.395848, abs=1e-5))
    # B: 12/100 against 10/100. Difference 0.02; SE √(.12·.88/100 + .09/100) = √.001956 =
    # 0.0442267 → −0.066683 to 0.106683; pooled p = .11, SE √(.11·.89·.02) = 0.0442493,
    # z = 0.451985, p = 0.651281: not significant.
    assert (arm_b.uplift.low, arm_b.uplift.high) == (
        pytest.approx(-0.066683, abs=1e-6),
        pytest.approx(0.106683, abs=1e-6),
    )
    assert arm_b.uplift.p_value == pytest.approx(0.651281, abs=1e-5)
    assert not arm_b.better and not arm_b.uplift.significant
    # All treated together: 42/200 against 10/100.
    assert (results.treatment.entered, results.treatment.converted) == (200, 42)
    assert results.is_final


def test_cuped_per_variant_uses_that_variant_and_the_control_group_only():
    campaign = Campaign(code="X", name="x", status=CampaignStatus.ENDED, ends_on=DAY)
    a, b = Variant(pk=1, label="A", position=1), Variant(pk=2, label="B", position=2)
    pairs_a = [(10.0 + x * 0.5, x) for x in (100.0, 200.0, 300.0, 400.0)]  # y = 10 + x/2
    pairs_b = [(x * 0.5, x) for x in (100.0, 200.0, 300.0, 400.0)]
    pairs_c = [(x * 0.5, x) for x in (150.0, 250.0, 350.0, 450.0)]
    rows = [
        DayRow(Arm.TREATMENT, 1, DAY, entered=4, aum={30: Moments.of(pairs_a)}),
        DayRow(Arm.TREATMENT, 2, DAY, entered=4, aum={30: Moments.of(pairs_b)}),
        DayRow(Arm.CONTROL, None, DAY, entered=4, aum={30: Moments.of(pairs_c)}),
    ]
    results = results_build(campaign=campaign, rows=rows, variants=[a, b], now=NOW)
    # y − θ(x − x̄) with θ = 1/2 fitted on A and control: A's uplift is exactly 10, B's 0,
    # and with the pre-period explaining all the variance the interval closes on them.
    aum_a, aum_b = results.arms[0].aum[0].result, results.arms[1].aum[0].result
    assert aum_a.estimate == pytest.approx(10.0, abs=0.5)
    assert aum_b.estimate == pytest.approx(0.0, abs=1e-6)
    assert aum_b.variance_reduction == pytest.approx(1.0)
    assert not math.isclose(results.arms[0].aum[0].result.raw.estimate, aum_a.estimate)


def _ab(world):
    first = approved_script(world, title="模板甲")
    campaign = running(
        world, steps=[{"kind": StepKind.SEND, "channel": Channel.SMS, "script": first}], control_percent=20
    )
    a = variant_add(actor=world.campaigner, campaign=campaign, label="A", weight=1)
    b = variant_add(actor=world.campaigner, campaign=campaign, label="B", weight=1)
    return campaign, a, b


def _traffic(world, campaign, n, *, occurrence="", per_group=False):
    """``n`` entrants, every third one converted: in entry order, or with ``per_group``
    every third of each group (arm and variant), so no group differs from another by
    more than one conversion whichever way the hashed split falls."""
    people = customers(world, n)
    entry = enrol_customers(campaign=campaign, entrants=[(c.pk, occurrence) for c in people], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    seen: dict = {}
    for i, e in enumerate(Enrolment.objects.filter(pk__in=entry.entered).order_by("pk")):
        group = (e.arm, e.variant_id)
        nth = seen.get(group, 0) if per_group else i
        seen[group] = seen.get(group, 0) + 1
        if nth % 3 == 0:
            JourneyEvent.objects.create(campaign=campaign, enrolment=e, kind=JourneyEventKind.CONVERTED, at=NOW)
        day = timezone.localdate(e.entered_at)
        AssetSnapshot.objects.create(customer_id=e.customer_id, date=day - dt.timedelta(days=1), aum=Decimal(1000 + i))
        AssetSnapshot.objects.create(
            customer_id=e.customer_id, date=day + dt.timedelta(days=30), aum=Decimal(1100 + 2 * i)
        )


def test_the_stored_aggregates_equal_the_live_figures_and_a_second_refresh_changes_nothing(world):
    campaign, a, b = _ab(world)
    _traffic(world, campaign, 30)
    later = NOW + dt.timedelta(days=40)
    results_refresh(campaign_id=campaign.pk, now=later)
    first = sorted(
        ResultsDay.objects.filter(campaign=campaign).values_list("arm", "variant", "day", "entered", "converted", "aum")
    )
    results_refresh(campaign_id=campaign.pk, now=later)
    assert (
        sorted(
            ResultsDay.objects.filter(campaign=campaign).values_list(
                "arm", "variant", "day", "entered", "converted", "aum"
            )
        )
        == first
    )
    live = campaign_results(campaign=campaign, now=later)
    stored = campaign_results_stored(campaign=campaign, now=later)
    assert stored.refreshed_at == later
    for lv, st in zip(live.arms, stored.arms, strict=True):
        assert (lv.figures.entered, lv.figures.converted, lv.figures.reached) == (
            st.figures.entered,
            st.figures.converted,
            st.figures.reached,
        )
        assert lv.uplift == st.uplift
        assert lv.aum[0].result.estimate == pytest.approx(st.aum[0].result.estimate)
    assert (live.control.entered, live.control.converted) == (stored.control.entered, stored.control.converted)
    assert stored.funnel and stored.funnel[0]["arms"]["control"] == live.control.entered


def test_the_refresh_task_covers_running_campaigns_and_runs_twice_with_one_effect(world):
    campaign, _a, _b = _ab(world)
    _traffic(world, campaign, 6)
    assert results_refresh_all(now=NOW) >= 1
    assert refresh_results() >= 1 and refresh_results(campaign.pk) == refresh_results(campaign.pk)
    assert ResultsRefresh.objects.filter(campaign=campaign).count() == 1


def _page(client, campaign):
    return client.get(reverse("campaigns:results", args=[campaign.pk]))


def test_the_page_shows_each_arm_the_time_of_the_refresh_the_funnel_and_promotion(world, client):
    campaign, a, b = _ab(world)
    _traffic(world, campaign, 30, per_group=True)  # "not yet significant" whatever the split
    results_refresh(campaign_id=campaign.pk, now=NOW)
    client.force_login(world.campaigner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = _page(client, campaign).content.decode()
    translation.activate(settings.LANGUAGE_CODE)
    local = timezone.localtime(NOW)
    assert f"Figures as of {local:%H:%M}" in html
    for part in ("arm-variant-1", "arm-variant-2", "arm-control", "funnel-chart", "funnel-table", "aum-variant-1-30"):
        assert f'data-testid="{part}"' in html, part
    assert "not yet significant: may be chance" in html
    assert 'data-testid="promote-anyway-1"' in html and "<script>" not in html
    client.force_login(world.lead_a)
    assert "promote-anyway" not in _page(client, campaign).content.decode()


def test_the_results_page_takes_the_same_queries_for_few_or_many_enrolments(world, client):
    campaign, _a, _b = _ab(world)
    _traffic(world, campaign, 5)
    results_refresh(campaign_id=campaign.pk, now=NOW)
    client.force_login(world.campaigner)
    _page(client, campaign)
    with CaptureQueriesContext(connection) as few:
        assert _page(client, campaign).status_code == 200
    _traffic(world, campaign, 60, occurrence="more")
    variant_add(actor=world.campaigner, campaign=campaign, label="C", weight=1)
    results_refresh(campaign_id=campaign.pk, now=NOW + dt.timedelta(days=3))
    with CaptureQueriesContext(connection) as many:
        assert _page(client, campaign).status_code == 200
    assert len(few) == len(many)
    assert len(many) <= 12, [q["sql"] for q in many.captured_queries]
