"""Campaign results: the statistics against hand-worked values, attribution at the
window's edges on a fixed clock, control conversions, AUM with CUPED, the query count,
the page in both languages and who may see it."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from calls.models import NextAction
from calls.tests.factories import CallLogFactory, disposition
from campaigns.models import (
    Arm,
    Campaign,
    CampaignStatus,
    Enrolment,
    JourneyEvent,
    JourneyEventKind,
    Message,
    MessageStatus,
)
from campaigns.results import (
    Moments,
    campaign_results,
    cuped_difference,
    minimum_detectable_effect,
    two_proportion_test,
    wilson_interval,
)
from customers.models import AssetSnapshot
from customers.tests.factories import CustomerFactory, HoldingFactory, ProductFactory
from leads.models import PlannedCallStatus
from leads.tests.factories import PlannedCallFactory
from referrals.models import ReferralStatus
from referrals.tests.factories import ReferralFactory

# A fixed clock: every time below is relative to this entry moment (Asia/Shanghai noon).
ENTRY = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)
ENTRY_DAY = dt.date(2026, 3, 2)


# --- statistics, against values worked by hand --------------------------------------------


def test_wilson_interval_matches_the_worked_examples():
    # 10 of 100: centre (0.1 + z²/200) / (1 + z²/100), half-width z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.05523, abs=1e-5)
    assert high == pytest.approx(0.17437, abs=1e-5)
    # 0 of 10: the interval starts at 0 and ends at z²/n / (1 + z²/n) = 0.2775.
    low, high = wilson_interval(0, 10)
    assert low == 0
    assert high == pytest.approx(0.27753, abs=1e-5)
    assert wilson_interval(0, 0) is None


def test_two_proportion_z_test_matches_the_worked_example():
    # 30/200 against 20/200: pooled 0.125, se √(.125·.875·(2/200)) = 0.033072, z = 1.5119.
    result = two_proportion_test(30, 200, 20, 200)
    assert result.estimate == pytest.approx(0.05)
    assert result.p_value == pytest.approx(0.13057, abs=1e-5)
    # The interval from the unpooled se √(.15·.85/200 + .1·.9/200) = 0.032977.
    assert result.low == pytest.approx(0.05 - 1.959964 * 0.0329773, abs=1e-6)
    assert result.high == pytest.approx(0.05 + 1.959964 * 0.0329773, abs=1e-6)
    assert not result.significant
    # Ten times the people, the same rates: now significant (z = 4.78).
    assert two_proportion_test(300, 2000, 200, 2000).significant
    assert two_proportion_test(0, 50, 0, 50).p_value == 1.0
    assert two_proportion_test(1, 10, 0, 0) is None


def test_minimum_detectable_effect_matches_the_worked_example():
    # (1.959964 + 0.841621) · √(0.1 · 0.9 · (1/1000 + 1/1000)) = 2.801585 · 0.0134164.
    assert minimum_detectable_effect(1000, 1000, 0.1) == pytest.approx(0.037587, abs=1e-6)
    # Four times the people: half the effect.
    assert minimum_detectable_effect(4000, 4000, 0.1) == pytest.approx(0.037587 / 2, abs=1e-6)
    assert minimum_detectable_effect(1000, 0, 0.1) is None
    assert minimum_detectable_effect(1000, 1000, 0.0) is None


def test_cuped_removes_the_pre_period_variance_when_the_answer_is_known():
    # Both groups have the same pre-period values; the treated gain exactly 2 more.
    # Pooled θ = cov(y, x) / var(x) = 1, so y − (x − x̄) is constant within each group:
    # the estimate is exactly 2 with no variance left, while the raw difference of means
    # keeps var([1, 2, 3, 4]) = 5/3 per group: se √(2 · (5/3) / 4) = 0.91287.
    control = Moments.of([(x, x) for x in (1, 2, 3, 4)])
    treated = Moments.of([(x + 2, x) for x in (1, 2, 3, 4)])
    result = cuped_difference(treated, control)
    assert result.theta == pytest.approx(1)
    assert result.estimate == pytest.approx(2)
    assert result.high - result.low == pytest.approx(0, abs=1e-9)
    assert result.raw.estimate == pytest.approx(2)
    assert (result.raw.high - result.raw.estimate) / 1.959964 == pytest.approx(0.91287, abs=1e-5)
    assert result.variance_reduction == pytest.approx(1)
    # z = 2 / 0.91287 = 2.1909: two-sided p = 0.02846.
    assert result.raw.p_value == pytest.approx(0.02846, abs=1e-5)
    assert result.significant


def test_cuped_agrees_with_a_unit_by_unit_computation():
    control = [(12.0, 10.0), (19.0, 20.0), (33.0, 30.0), (38.0, 40.0), (55.0, 50.0)]
    treated = [(16.0, 11.0), (24.0, 19.0), (37.0, 31.0), (45.0, 42.0), (53.0, 48.0), (60.0, 52.0)]
    xs, ys = [x for _y, x in control + treated], [y for y, _x in control + treated]
    theta = statistics.covariance(ys, xs) / statistics.variance(xs)
    mean_x = statistics.fmean(xs)
    adj_c = [y - theta * (x - mean_x) for y, x in control]
    adj_t = [y - theta * (x - mean_x) for y, x in treated]
    se = (statistics.variance(adj_t) / len(adj_t) + statistics.variance(adj_c) / len(adj_c)) ** 0.5
    result = cuped_difference(Moments.of(treated), Moments.of(control))
    assert result.theta == pytest.approx(theta)
    assert result.estimate == pytest.approx(statistics.fmean(adj_t) - statistics.fmean(adj_c))
    assert result.high - result.estimate == pytest.approx(1.959964 * se, rel=1e-6)
    assert 0.9 < result.variance_reduction < 1  # the pre-period explains most of y
    assert cuped_difference(Moments.of(treated[:1]), Moments.of(control)) is None


# --- the campaign's figures ------------------------------------------------------------------


def _campaign(world, **fields) -> Campaign:
    fields = {"code": "R1", "name": "到期续投", "status": CampaignStatus.RUNNING, "product": ProductFactory(), **fields}
    return Campaign.objects.create(created_by=world.campaigner, **fields)


def _enrol(campaign, arm=Arm.TREATMENT, *, at=ENTRY, customer=None) -> Enrolment:
    n = Enrolment.objects.count()
    return Enrolment.objects.create(
        campaign=campaign, customer=customer or CustomerFactory(), bucket=n % 10_000, arm=arm, entered_at=at
    )


def _converted(enrolment, at):
    JourneyEvent.objects.create(
        campaign=enrolment.campaign, enrolment=enrolment, kind=JourneyEventKind.CONVERTED, detail="won_call", at=at
    )


def _won_call(world, enrolment, at):
    CallLogFactory(
        customer=enrolment.customer, lead__customer=enrolment.customer, advisor=world.advisor_a,
        started_at=at, next_action=NextAction.WON,
    )  # fmt: skip


@pytest.mark.django_db
def test_attribution_counts_inside_the_window_and_not_at_its_edge(world):
    campaign = _campaign(world)
    window = dt.timedelta(days=settings.WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS)
    inside = _enrol(campaign)
    _converted(inside, ENTRY + window - dt.timedelta(minutes=1))
    at_edge = _enrol(campaign)
    _converted(at_edge, ENTRY + window)
    before_entry = _enrol(campaign)
    _won_call(world, before_entry, ENTRY - dt.timedelta(minutes=1))
    won_call = _enrol(campaign)
    _won_call(world, won_call, ENTRY + dt.timedelta(hours=2))
    # Holdings: day 0 and day 29 count, day 30, the day before entry and another product do not.
    for opened in (ENTRY_DAY, ENTRY_DAY + dt.timedelta(days=29)):
        HoldingFactory(customer=_enrol(campaign).customer, product=campaign.product, opened_on=opened)
    for opened in (ENTRY_DAY + dt.timedelta(days=30), ENTRY_DAY - dt.timedelta(days=1)):
        HoldingFactory(customer=_enrol(campaign).customer, product=campaign.product, opened_on=opened)
    HoldingFactory(customer=_enrol(campaign).customer, opened_on=ENTRY_DAY + dt.timedelta(days=3))

    # Converted referrals: at entry and a second before the window's end count; at the end,
    # a lost one and one closed before entry do not.
    for closed, status in (
        (ENTRY, ReferralStatus.CONVERTED),
        (ENTRY + window - dt.timedelta(seconds=1), ReferralStatus.CONVERTED),
        (ENTRY + window, ReferralStatus.CONVERTED),
        (ENTRY + dt.timedelta(days=1), ReferralStatus.LOST),
        (ENTRY - dt.timedelta(seconds=1), ReferralStatus.CONVERTED),
    ):
        ReferralFactory(lead__customer=_enrol(campaign).customer, status=status, closed_at=closed)

    results = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=60))
    assert results.treatment.entered == 14
    # inside, the won call, the holdings of day 0 and day 29, the referrals at entry and before the end
    assert results.treatment.converted == 6
    campaign.attribution_days = 7
    narrow = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=60))
    assert narrow.window_days == 7
    assert narrow.treatment.converted == 3  # the won call, the holding of day 0, the referral at entry


@pytest.mark.django_db
def test_control_conversions_are_counted_like_the_treated(world):
    campaign = _campaign(world)
    treated = [_enrol(campaign) for _i in range(4)]
    control = [_enrol(campaign, Arm.CONTROL) for _i in range(4)]
    _converted(treated[0], ENTRY + dt.timedelta(days=1))
    _won_call(world, control[0], ENTRY + dt.timedelta(days=2))
    HoldingFactory(customer=control[1].customer, product=campaign.product, opened_on=ENTRY_DAY)
    results = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=5))
    assert (results.control.entered, results.control.converted) == (4, 2)
    assert (results.treatment.entered, results.treatment.converted) == (4, 1)
    assert results.uplift.estimate == pytest.approx(0.25 - 0.5)
    assert results.control.reached == 0


@pytest.mark.django_db
def test_reached_and_responded_per_arm(world):
    campaign = _campaign(world)
    texted, called, queued, silent = (_enrol(campaign) for _i in range(4))
    for enrolment, status, replied in ((texted, MessageStatus.DELIVERED, ENTRY), (queued, MessageStatus.QUEUED, None)):
        Message.objects.create(
            campaign=campaign, enrolment=enrolment, customer=enrolment.customer, channel="sms", body="…",
            key=f"k{enrolment.pk}", send_after=ENTRY, status=status, replied_at=replied,
        )  # fmt: skip
    call = CallLogFactory(
        customer=called.customer, lead__customer=called.customer, advisor=world.advisor_a,
        disposition=disposition("effective"),
    )  # fmt: skip
    PlannedCallFactory(
        customer=called.customer, advisor=world.advisor_a, enrolment_id=called.pk, campaign_id=campaign.pk,
        status=PlannedCallStatus.DONE, call_log_id=call.pk,
    )  # fmt: skip
    results = campaign_results(campaign=campaign, now=ENTRY)
    assert (results.treatment.reached, results.treatment.responded) == (2, 2)
    assert silent.pk  # entered, never reached
    assert results.treatment.entered == 4


def _snapshots(customer, pre: int, post: int, *, days: int = 30):
    AssetSnapshot.objects.create(customer=customer, date=ENTRY_DAY - dt.timedelta(days=1), aum=Decimal(pre))
    # A snapshot on entry day itself is not "before entry": it must not be taken as x.
    AssetSnapshot.objects.create(customer=customer, date=ENTRY_DAY, aum=Decimal(pre + 999))
    AssetSnapshot.objects.create(customer=customer, date=ENTRY_DAY + dt.timedelta(days=days), aum=Decimal(post))


@pytest.mark.django_db
def test_aum_uplift_with_cuped_on_a_known_set(world):
    campaign = _campaign(world)
    # Control customers double their AUM; the treated double it and gain 50 more. The
    # change y = x (+ 50), so CUPED finds exactly 50 with no variance left.
    for pre in (100, 200, 300, 400):
        _snapshots(_enrol(campaign, Arm.CONTROL).customer, pre, 2 * pre)
        _snapshots(_enrol(campaign).customer, pre, 2 * pre + 50)
    _enrol(campaign)  # no snapshots: left out of the AUM figures
    results = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=40))
    thirty, ninety = results.aum
    assert (thirty.days, thirty.treated, thirty.control) == (30, 4, 4)
    assert thirty.result.estimate == pytest.approx(50)
    assert thirty.result.high - thirty.result.low == pytest.approx(0, abs=1e-6)
    assert thirty.result.raw.estimate == pytest.approx(50)
    assert thirty.result.raw.high - thirty.result.raw.low > 100
    # 90 days have not passed since entry: nothing to say yet.
    assert (ninety.treated, ninety.control, ninety.result) == (0, 0, None)


@pytest.mark.django_db
def test_the_horizon_is_fixed_and_figures_before_it_are_interim(world):
    campaign = _campaign(world, ends_on=dt.date(2026, 3, 10))
    _enrol(campaign)
    days = settings.WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS
    final_on = dt.date(2026, 3, 10) + dt.timedelta(days=days)
    before = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=10))
    assert (before.final_on, before.is_final, before.final_is_estimate) == (final_on, False, False)
    after = campaign_results(campaign=campaign, now=dt.datetime.combine(final_on, dt.time(4), tzinfo=dt.UTC))
    assert after.is_final
    open_ended = _campaign(world, code="R2")
    _enrol(open_ended, at=ENTRY + dt.timedelta(days=3))
    moving = campaign_results(campaign=open_ended, now=ENTRY + dt.timedelta(days=400))
    assert moving.final_on == ENTRY_DAY + dt.timedelta(days=3 + days)
    assert moving.final_is_estimate and not moving.is_final  # new entrants may still come


def _traffic(world, campaign, people: int):
    for i in range(people):
        enrolment = _enrol(campaign, Arm.CONTROL if i % 3 == 0 else Arm.TREATMENT, at=ENTRY + dt.timedelta(days=i))
        _converted(enrolment, enrolment.entered_at + dt.timedelta(days=1))
        _won_call(world, enrolment, enrolment.entered_at + dt.timedelta(days=2))
        _snapshots(enrolment.customer, 100 + i, 200 + i)


@pytest.mark.django_db
def test_results_take_two_queries_whatever_the_size(world, django_assert_num_queries):
    campaign = _campaign(world)
    _traffic(world, campaign, 3)
    with django_assert_num_queries(2):
        small = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=100))
    _traffic(world, campaign, 30)
    with django_assert_num_queries(2):
        large = campaign_results(campaign=campaign, now=ENTRY + dt.timedelta(days=100))
    assert small.treatment.entered + small.control.entered == 3
    assert large.treatment.entered + large.control.entered == 33
    assert large.treatment.converted == large.treatment.entered
    assert len(large.weeks) >= 4


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_every_part_and_the_detail_page_links_to_it(world, client):
    """(The page in both languages, with no code-like text: workbench/tests/test_campaign_results_page.py.)"""
    campaign = _campaign(world)
    _traffic(world, campaign, 6)
    client.force_login(world.campaigner)
    response = client.get(reverse("campaigns:results", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for part in ("interim", "arm-treatment", "arm-control", "uplift", "mde", "aum-30", "aum-90", "weeks-chart"):
        assert f'data-testid="{part}"' in html, part
    assert 'id="results-chart-data"' in html
    assert "<script>" not in html  # the data via json_script only, no inline script
    detail = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:results", args=[campaign.pk]) in detail


@pytest.mark.django_db
def test_the_page_says_when_the_difference_is_not_yet_significant(world, client):
    campaign = _campaign(world)
    _traffic(world, campaign, 6)
    client.force_login(world.campaigner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("campaigns:results", args=[campaign.pk])).content.decode()
    translation.activate(settings.LANGUAGE_CODE)
    assert "not yet significant" in html
    assert 'data-testid="interim"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "draft", "running"),
    [
        ("campaigner", 200, 200),
        ("compliance", 200, 200),
        ("admin", 200, 200),
        ("lead_a", 404, 200),
        ("advisor_a", 404, 200),
        ("manager_x", 403, 403),
        ("rm_x", 403, 403),
    ],
)
def test_results_follow_the_campaign_view_rule(world, client, who, draft, running):
    drafted = _campaign(world, status=CampaignStatus.DRAFT)
    live = _campaign(world, code="R2")
    client.force_login(getattr(world, who))
    assert client.get(reverse("campaigns:results", args=[drafted.pk])).status_code == draft
    assert client.get(reverse("campaigns:results", args=[live.pk])).status_code == running


@pytest.mark.django_db
def test_anonymous_users_go_to_the_login_page(world, client):
    campaign = _campaign(world)
    response = client.get(reverse("campaigns:results", args=[campaign.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
