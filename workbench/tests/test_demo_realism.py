"""A fresh demo reads like a bank's: contacts in working hours, people's names, one
consistent picture of each customer's assets (the fund flows explain the AUM moves that
the market does not), products bought while on sale, a customer
who said "别再给我推销了" left alone, and work on every role's first screen."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Max

from calls.models import CallLog
from calls.selectors import team_kpis
from compliance.models import Flag
from customers.models import AssetSnapshot, ContactPreference, Customer, FundFlow, Holding, Interaction
from leads.models import OPEN_LEAD_STATUSES, Lead
from org.models import StaffProfile
from scoring.models import Outcome

from .walk import code_like

SH = ZoneInfo("Asia/Shanghai")
PART = {"wealth": "wealth", "fund": "funds", "insurance": "insurance", "metal": "other", "deposit": "deposits"}


@pytest.fixture
def demo(db):
    call_command("seed_demo", customers=600, seed=11, today=dt.date(2026, 6, 30), stdout=StringIO())


@pytest.mark.slow
def test_demo_contacts_fall_in_working_hours_and_staff_have_names(demo):
    for when in Interaction.objects.exclude(channel="ai_bot").values_list("occurred_at", flat=True):
        local = when.astimezone(SH).time()
        assert dt.time(9) <= local <= dt.time(20, 30), when
    for when in Interaction.objects.filter(channel="ai_bot").values_list("occurred_at", flat=True):
        assert dt.time(7) <= when.astimezone(SH).time() <= dt.time(23), when
    for when in Outcome.objects.values_list("contacted_at", flat=True):
        assert dt.time(9) <= when.astimezone(SH).time() <= dt.time(20, 30), when
    names = list(StaffProfile.objects.exclude(user__username="admin").values_list("display_name", flat=True))
    assert len(names) == len(set(names))
    for name in names:
        assert 2 <= len(name) <= 4 and not any(ch.isdigit() for ch in name), name
        assert not any(word in name for word in ("顾问", "组长", "行长", "客户经理", "合规")), name


@pytest.mark.slow
def test_demo_assets_are_one_picture_and_products_were_on_sale(demo):
    latest = {
        row["customer_id"]: row["d"] for row in AssetSnapshot.objects.values("customer_id").annotate(d=Max("date"))
    }
    held: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for h in Holding.objects.select_related("product"):
        held[h.customer_id][PART[h.product.type]] += h.amount
        assert h.product.sale_start is None or h.opened_on >= h.product.sale_start, h
    aum = dict(Customer.objects.values_list("id", "aum"))
    for s in AssetSnapshot.objects.all():
        parts = s.deposits + s.wealth + s.funds + s.insurance + s.other
        assert abs(parts - s.aum) <= Decimal("0.05"), s
        if s.date == latest[s.customer_id]:
            h = held[s.customer_id]
            assert s.aum == aum[s.customer_id]
            for part in ("wealth", "funds", "insurance", "other"):
                assert abs(getattr(s, part) - h[part]) <= Decimal("0.01"), (s, part)
            assert s.deposits + Decimal("0.01") >= h["deposits"]
            assert sum(h.values(), Decimal("0")) <= s.aum


@pytest.mark.slow
def test_a_customer_who_said_stop_is_a_negative_signal_and_left_alone(demo):
    said_stop = {
        i.customer_id
        for i in Interaction.objects.filter(channel="ai_bot")
        if any(t.get("text") == "别再给我推销了" for t in i.transcript or [])
    }
    assert said_stop
    prefs = ContactPreference.objects.filter(customer_id__in=said_stop, channel="phone")
    assert prefs.count() == len(said_stop)
    assert all(not p.consent and p.dnd_until for p in prefs)
    assert not Lead.objects.filter(
        customer_id__in=said_stop, status__in=OPEN_LEAD_STATUSES, proposed_grade="high"
    ).exists()


@pytest.mark.slow
def test_a_fresh_demo_has_work_on_every_first_screen(demo):
    assert Flag.objects.filter(status="open").exists()  # the surveillance queue
    assert Outcome.objects.exists()


@pytest.mark.slow
def test_a_fresh_demo_has_call_measures(demo):
    calls = CallLog.objects.all()
    assert calls.exists()
    for when in calls.values_list("started_at", flat=True):
        local = when.astimezone(SH)
        assert dt.time(9) <= local.time() <= dt.time(20, 30) and local.weekday() < 5, when
    stopped = ContactPreference.objects.filter(channel="phone", consent=False, opted_out_at__isnull=False)
    assert not calls.filter(customer_id__in=stopped.values("customer_id")).exists()
    lead = StaffProfile.objects.filter(role="team_lead").select_related("user").first().user
    total = team_kpis(user=lead, start=dt.date(2026, 6, 17), end=dt.date(2026, 6, 30))["total"].kpis
    assert total.dialled > 0 and total.effective > 0  # the team measures page is not empty


@pytest.mark.slow
def test_what_the_bank_systems_wrote_has_no_codes(demo):
    """The AI bot's summaries read "ask_wealth_product、ask_maturity" on every page."""
    summaries = set(Interaction.objects.filter(channel="ai_bot").values_list("summary", flat=True))
    assert summaries
    assert not [s for s in summaries if code_like(s)], sorted(summaries)[:5]


@pytest.mark.slow
def test_demo_fund_flows_explain_the_snapshots_moves(demo):
    """Between two of the last six monthly snapshots, AUM after = AUM before + the net of
    the flows in between + a market move of a few percent at most."""
    snapshots = defaultdict(list)
    for cid, day, aum in AssetSnapshot.objects.order_by("customer_id", "date").values_list(
        "customer_id", "date", "aum"
    ):
        snapshots[cid].append((day, aum))
    flows = defaultdict(list)
    for f in FundFlow.objects.all():
        flows[f.customer_id].append((f.occurred_at.astimezone(SH).date(), f.signed_amount))
        assert dt.time(9) <= f.occurred_at.astimezone(SH).time() <= dt.time(20, 30), f
    assert FundFlow.objects.filter(direction="in").exists() and FundFlow.objects.filter(direction="out").exists()
    checked = 0
    for cid, points in snapshots.items():
        assert all(day > points[-7][0] for day, _ in flows[cid]), cid  # only the last six months
        for (d0, before), (d1, after) in zip(points[-7:-1], points[-6:], strict=True):
            net = sum((a for day, a in flows[cid] if d0 < day < d1), Decimal("0"))
            market = after - before - net
            assert abs(market) <= max(Decimal("500"), before * Decimal("0.005")) + before * Decimal("0.04"), (
                cid,
                d0,
                before,
                after,
                net,
            )
            checked += 1
    assert checked == 600 * 6
