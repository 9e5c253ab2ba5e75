"""Queue pages, the call screen and metrics: access per role and row, htmx, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from calls.models import CallLog
from calls.tests.factories import CallLogFactory, disposition
from compliance.tests.factories import approved_script
from core.models import AuditEvent
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, InteractionFactory, ProductFactory
from leads import models as m
from leads.tests.factories import LeadFactory, PlannedCallFactory
from referrals.tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dispositions(db):
    disposition("effective")


@pytest.fixture
def open_hours(settings):
    """Tests run at any hour: widen the call hours so the marketing rules under test decide."""
    settings.WORKBENCH_CALL_HOURS_START = "00:00"
    settings.WORKBENCH_CALL_HOURS_END = "23:59"


def _team_a_leads(world, n: int):
    for i in range(n):
        LeadFactory(team=world.team_a, score=float(i))
        LeadFactory(team=world.team_a, status="pooled", confirmed_grade="low")
        lead = LeadFactory(team=world.team_a, owner=world.advisor_a, status="nurturing")
        m.NurturePlan.objects.create(
            lead=lead, advisor=world.advisor_a, touches_planned=3, period_days=14, started_at=timezone.now()
        )
        PlannedCallFactory(lead=lead, advisor=world.advisor_a, kind="nurture")
        ReferralFactory(lead__team=world.team_a, from_advisor=world.advisor_a)
        CallLogFactory(lead=lead, advisor=world.advisor_a)  # completed today


@pytest.mark.parametrize("tab", ["confirm", "today", "done", "nurturing", "pool", "referred"])
def test_queue_tabs_have_constant_query_counts(world, client_for, django_assert_num_queries, tab):
    client = client_for(world.advisor_a)
    _team_a_leads(world, 2)
    url = reverse("calls:queue") + f"?tab={tab}"
    client.get(url)  # warm the session and translation caches
    # session + user + profile, 6 tab counts (the table's page count is its tab's), the
    # rows; the Referred tab's customers in one more.
    with django_assert_num_queries(11 if tab == "referred" else 10) as small:
        r = client.get(url)
    assert r.status_code == 200
    _team_a_leads(world, 6)
    with django_assert_num_queries(len(small.captured_queries)):
        r = client.get(url)
    assert r.status_code == 200


def test_queue_table_htmx_swap_carries_counts_out_of_band(world, client_for):
    LeadFactory(team=world.team_a, score=50)
    r = client_for(world.advisor_a).get(
        reverse("calls:queue") + "?tab=confirm&sort=-score", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table"
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert '<ul class="nav nav-tabs mb-2" id="queue-tabs" hx-swap-oob="true">' in html
    assert 'data-count="confirm">1<' in html
    assert "<html" not in html


def test_queue_tab_switch_by_htmx(world, client_for):
    r = client_for(world.advisor_a).get(
        reverse("calls:queue") + "?tab=pool", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-body"
    )
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="queue-body">')
    assert 'hx-swap-oob="true"' in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("advisor_a", 200), ("lead_a", 200), ("admin", 200), ("manager_x", 403), ("rm_x", 403), ("compliance", 403)],
)
def test_queue_access_by_role(world, client_for, who, status):
    assert client_for(getattr(world, who)).get(reverse("calls:queue")).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("lead_a", 200), ("admin", 200), ("advisor_a", 403), ("manager_x", 403), ("compliance", 403)]
)
def test_metrics_access_by_role(world, client_for, who, status):
    assert client_for(getattr(world, who)).get(reverse("calls:kpis")).status_code == status


def test_metrics_page_renders_chart_and_bad_dates_say_so(world, client_for):
    client = client_for(world.lead_a)
    r = client.get(reverse("calls:kpis") + "?period=week")
    html = r.content.decode()
    assert 'id="kpi-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "有效通联率" in html and "等级调整率" in html
    r = client.get(reverse("calls:kpis") + "?start=yesterday")
    assert "日期格式应为 2026-01-31。" in r.content.decode()


def test_call_screen_row_scope(world, client_for):
    lead = LeadFactory(team=world.team_a)
    url = reverse("calls:call", args=[lead.pk])
    assert client_for(world.advisor_a).get(url).status_code == 200
    assert client_for(world.lead_a).get(url).status_code == 200
    assert client_for(world.compliance).get(url).status_code == 200  # read-only
    assert client_for(world.advisor_b).get(url).status_code == 404
    assert client_for(world.manager_x).get(url).status_code == 404


def test_call_screen_escapes_transcript_and_shows_policy(world, client_for):
    customer = CustomerFactory()
    InteractionFactory(
        customer=customer,
        channel="ai_bot",
        transcript=[
            {"speaker": "bot", "text": "您好，您的理财即将到期"},
            {"speaker": "customer", "text": "<script>alert(1)</script>想了解一下"},
        ],
    )
    lead = LeadFactory(customer=customer, team=world.team_a)
    html = client_for(world.advisor_a).get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;想了解一下" in html
    assert "<script>alert(1)</script>" not in html
    assert "客户未同意接收电话营销，不能拨打营销电话。" in html
    assert 'data-testid="confirm-form"' in html


def test_call_screen_query_count_is_constant(world, client_for, django_assert_num_queries):
    customer = CustomerFactory()
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    url = reverse("calls:call", args=[lead.pk])
    client.get(url)
    # 21: the predicates of the page's actions read the customer's team grant once
    # (a lead is seen only where its customer is), and the customer's current score
    # beside the lead's score at proposal is one more, and its open campaign call task one more;
    # the products on shelf are read once for the page's three product lists.
    with django_assert_num_queries(21) as first:
        client.get(url)
    for _ in range(5):
        InteractionFactory(customer=customer, channel="ai_bot", transcript=[{"speaker": "bot", "text": "您好"}])
        InteractionFactory(customer=customer)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


def test_claim_next_redirects_to_call_screen(world, client_for):
    lead = LeadFactory(team=world.team_a, score=99)
    r = client_for(world.advisor_a).post(reverse("calls:claim_next"))
    assert r.status_code == 302 and r["Location"] == reverse("calls:call", args=[lead.pk])
    lead.refresh_from_db()
    assert lead.owner == world.advisor_a
    r = client_for(world.advisor_a).post(reverse("calls:claim_next"), HTTP_HX_REQUEST="true")
    assert r["HX-Redirect"] == reverse("calls:queue")
    assert client_for(world.lead_a).post(reverse("calls:claim_next")).status_code == 403


def test_confirm_override_without_reason_shows_message_and_changes_nothing(world, client_for):
    lead = LeadFactory(team=world.team_a, proposed_grade="mid")
    r = client_for(world.advisor_a).post(
        reverse("calls:confirm", args=[lead.pk]), {"grade": "high"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200
    assert "您调整了建议等级，请选择调整理由。" in r.content.decode()
    lead.refresh_from_db()
    assert lead.status == "new" and not m.GradeDecision.objects.exists()


def test_confirm_mid_by_post(world, client_for):
    lead = LeadFactory(team=world.team_a, proposed_grade="mid")
    r = client_for(world.advisor_a).post(reverse("calls:confirm", args=[lead.pk]), {"grade": "mid"})
    assert r.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "nurturing"


def _call_post(**overrides):
    data = {
        "idempotency_key": "form-key-1",
        "purpose": "marketing",
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "3",
        "disposition": str(disposition("callback").pk),
        "interest": "medium",
        "notes": "客户希望明天上午再聊",
        "next_action": "callback",
        "callback_at": (timezone.localtime() + dt.timedelta(days=1))
        .replace(hour=10, minute=0)
        .strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(overrides)
    return data


def test_log_call_double_submit_creates_one_call(world, client_for, open_hours):
    customer = CustomerFactory()
    ContactPreferenceFactory(customer=customer, consent=True)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    url = reverse("calls:log_call", args=[lead.pk])
    first = client.post(url, _call_post())
    second = client.post(url, _call_post())
    assert first.status_code == second.status_code == 302
    assert CallLog.objects.count() == 1
    assert m.PlannedCall.objects.filter(lead=lead, kind="callback").count() == 1
    page = client.get(second["Location"]).content.decode()
    assert "这次外呼已经登记过，未重复添加。" in page


def test_the_grade_panel_stays_after_a_call_while_the_lead_is_unconfirmed(world, client_for, open_hours):
    """Logging the first call moves a new lead to contacting; the advisor who just spoke
    to the customer still grades it from the call screen, once."""
    customer = CustomerFactory()
    ContactPreferenceFactory(customer=customer, consent=True)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a, proposed_grade="mid")
    client = client_for(world.advisor_a)
    assert client.post(reverse("calls:log_call", args=[lead.pk]), _call_post()).status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.confirmed_grade) == ("contacting", "")
    assert 'data-testid="confirm-form"' in client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert client.post(reverse("calls:confirm", args=[lead.pk]), {"grade": "mid"}).status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.confirmed_grade) == ("nurturing", "mid")
    assert m.GradeDecision.objects.filter(lead=lead).count() == 1
    assert 'data-testid="confirm-form"' not in client.get(reverse("calls:call", args=[lead.pk])).content.decode()


def test_log_call_blocked_by_policy_shows_chinese_reason(world, client_for, open_hours):
    lead = LeadFactory(customer=CustomerFactory(), team=world.team_a, owner=world.advisor_a)
    r = client_for(world.advisor_a).post(
        reverse("calls:log_call", args=[lead.pk]), _call_post(), HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200
    assert "客户未同意接收电话营销，不能拨打营销电话。" in r.content.decode()
    assert not CallLog.objects.exists()
    # the blocked attempt is on the audit trail, with the rule that blocked it
    refused = AuditEvent.objects.get(verb="call.refused_by_policy")
    assert refused.actor == world.advisor_a and refused.target_id == str(lead.pk)
    assert refused.details["refused"] is True and "no_consent" in " ".join(refused.details["blocks"])


def test_log_call_bad_input_in_english(world, client_for, open_hours):
    customer = CustomerFactory()
    ContactPreferenceFactory(customer=customer, consent=True)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    client.cookies["django_language"] = "en"
    r = client.post(
        reverse("calls:log_call", args=[lead.pk]),
        _call_post(next_action="won", won_amount="", disposition=str(disposition("effective").pk)),
        HTTP_HX_REQUEST="true",
    )
    html = r.content.decode()
    assert "Choose the product the customer bought." in html
    assert not CallLog.objects.exists()


def test_other_team_cannot_post_on_lead(world, client_for):
    lead = LeadFactory(team=world.team_a)
    r = client_for(world.advisor_b).post(reverse("calls:log_call", args=[lead.pk]), _call_post())
    assert r.status_code == 404
    r = client_for(world.advisor_b).post(reverse("calls:confirm", args=[lead.pk]), {"grade": "mid"})
    assert r.status_code == 404


def test_home_shows_advisor_call_measures(world, client_for):
    html = client_for(world.advisor_a).get(reverse("home")).content.decode()
    assert 'data-testid="home-call-kpis"' in html and "外呼执行率" in html and "≥80%" in html
    html = client_for(world.manager_x).get(reverse("home")).content.decode()
    assert 'data-testid="home-call-kpis"' not in html


def test_call_screen_shows_approved_script_for_product_in_focus(world, client_for):
    version = approved_script(author=world.lead_a, officer=world.compliance)
    product = version.script.product
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    html = client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert "请选择沟通的产品以查看已审批话术。" in html
    html = client.get(reverse("calls:call", args=[lead.pk]) + f"?product={product.pk}").content.decode()
    assert "理财非存款、产品有风险、投资须谨慎。" in html
    assert f'name="script_version_id" value="{version.pk}"' in html


def test_product_check_badges(world, client_for):
    customer = CustomerFactory(risk_level=2)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    ok, risky = ProductFactory(risk_level=2, name="稳健二号"), ProductFactory(risk_level=4, name="进取四号")
    r = client_for(world.advisor_a).get(
        reverse("calls:product_check", args=[lead.pk]) + f"?products={ok.pk}&products={risky.pk}",
        HTTP_HX_REQUEST="true",
    )
    html = r.content.decode()
    assert html.count("不能推进销售") == 1 and "进取四号" in html and "适当" in html


def test_tab_count_is_capped(world, client_for, monkeypatch):
    monkeypatch.setattr(settings, "WORKBENCH_LIST_COUNT_CAP", 2)
    for i in range(4):
        LeadFactory(team=world.team_a, score=float(i))
    html = client_for(world.advisor_a).get(reverse("calls:queue")).content.decode()
    assert 'data-count="confirm">2+<' in html


def test_team_lead_referred_tab_shows_team_referrals(world, client_for):
    mine = ReferralFactory(lead__team=world.team_a, from_advisor=world.advisor_a2, lead__customer__name="转介甲")
    other = ReferralFactory(lead__team=world.team_b, from_advisor=world.advisor_b, lead__customer__name="转介乙")
    html = client_for(world.lead_a).get(reverse("calls:queue") + "?tab=referred").content.decode()
    # names are masked (docs/masking.md): tell the rows apart by their customer numbers
    assert mine.customer.customer_no in html and other.customer.customer_no not in html


def _queue_rows(body: str, testid: str) -> list[list[str]]:
    tbody = body.split(f'data-testid="{testid}"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [[cell.split("</td>", 1)[0] for cell in row.split("<td")[1:]] for row in tbody.split("<tr")[1:]]


def test_queue_rows_keep_every_column_and_word(world, client_for):
    """The queue tabs' cells are written in Python (the template engine's per-cell tags
    were most of a tab's time): the same columns and words, in both languages."""
    customer = CustomerFactory(name="李小龙", customer_no="C0000000777", aum=Decimal("1234567.80"))
    lead = LeadFactory(
        customer=customer,
        team=world.team_a,
        score=81.25,
        proposed_grade="high",
        reasons=[{"code": "a", "text": "资产流入"}, {"code": "b", "text": "产品到期"}, {"code": "c", "text": "第三条"}],
    )
    LeadFactory(team=world.team_a, owner=world.advisor_a, score=None, proposed_grade="low", confirmed_grade="mid")
    nurtured = LeadFactory(
        team=world.team_a,
        owner=world.advisor_a,
        status="nurturing",
        next_touch_at=timezone.now() - dt.timedelta(days=1),
    )
    m.NurturePlan.objects.create(
        lead=nurtured,
        advisor=world.advisor_a,
        touches_planned=3,
        touches_done=1,
        period_days=14,
        started_at=timezone.now(),
    )
    PlannedCallFactory(
        lead=nurtured, advisor=world.advisor_a, kind="nurture", touch_no=2, note="<b>问</b>", due_at=timezone.now()
    )
    ReferralFactory(
        lead__team=world.team_a,
        from_advisor=world.advisor_a,
        assigned_rm=world.rm_x,
        status="converted",
        converted_amount=Decimal("50000"),
        score=90.0,
    )
    c = client_for(world.advisor_a)
    url = reverse("calls:queue")
    call_url = reverse("calls:call", args=[lead.pk])

    rows = _queue_rows(c.get(url, {"tab": "confirm"}).content.decode(), "queue-table")
    assert len(rows) == 2 and all(len(r) == 7 for r in rows)
    # by score: where the unscored lead goes depends on the database's NULL ordering
    first, second = sorted(rows, key=lambda r: "C0000000777" not in r[0])
    assert (
        first[0]
        == f'><a href="{call_url}" class="fw-semibold">李**</a> <span class="text-secondary small">C0000000777</span>'
    )
    assert first[1] == ' class="num"><span class="text-secondary small me-1">财富客户</span>¥1,234,568'
    assert 'data-score-then="81.2"' in first[2] and "<br>" in first[2]
    assert first[3] == '><span class="badge text-bg-danger">高</span>'
    assert first[4] == ">资产流入；产品到期"
    assert first[5] == '><span class="badge text-bg-light">未领取</span>'
    assert (
        first[6]
        == f'><a class="btn btn-sm btn-outline-primary" href="{call_url}"><i class="bi bi-telephone"></i> 打开</a>'
    )
    assert second[2] == ' class="num">—' and second[3] == '><span class="badge text-bg-warning">中</span>'
    assert second[5] == ">王顾问"

    rows = _queue_rows(c.get(url, {"tab": "nurturing"}).content.decode(), "queue-table")
    assert len(rows) == 1 and len(rows[0]) == 8
    assert rows[0][4].startswith('><span class="text-danger fw-semibold">') and rows[0][4].endswith(" · 已逾期</span>")
    assert rows[0][5] == ">1/3"

    rows = _queue_rows(c.get(url, {"tab": "today"}).content.decode(), "today-table")
    assert len(rows) == 1 and len(rows[0]) == 6
    assert rows[0][2] == ">培育触达 #2" and rows[0][3] == ">&lt;b&gt;问&lt;/b&gt;" and rows[0][4] == ">王顾问"

    rows = _queue_rows(c.get(url, {"tab": "referred"}).content.decode(), "referred-table")
    assert len(rows) == 1 and len(rows[0]) == 7
    assert rows[0][2] == '><span class="badge text-bg-success">已成交</span>'
    assert rows[0][5] == ' class="num">¥50,000' and 'data-score-then="90.0"' in rows[0][4]

    english = client_for(world.advisor_a)
    english.cookies["django_language"] = "en"
    rows = sorted(
        _queue_rows(english.get(url, {"tab": "confirm"}).content.decode(), "queue-table"),
        key=lambda r: "C0000000777" not in r[0],
    )
    assert rows[0][1].endswith(">Wealth</span>¥1,234,568") and rows[0][3].endswith(">High</span>")
    assert (
        rows[0][4] == ">资产流入; 产品到期"
        and rows[0][5].endswith(">Unclaimed</span>")
        and rows[0][6].endswith(" Open</a>")
    )


def test_a_filtered_table_counts_its_own_rows_not_the_tab_badge(world, client_for):
    """Unfiltered, a table pages with its tab's count (counted once); narrowed by a
    filter, or Today's calls widened past today, it counts the rows it shows."""
    for grade in ("mid", "mid", "high"):
        LeadFactory(team=world.team_a, proposed_grade=grade)
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a, status="contacting")
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=timezone.now() + dt.timedelta(days=2))
    c = client_for(world.advisor_a)
    url = reverse("calls:queue")
    assert c.get(url, {"tab": "confirm"}).context["table"].paginator.count == 3
    response = c.get(url, {"tab": "confirm", "grade": "high"})
    assert response.context["table"].paginator.count == 1 and 'data-count="confirm">3<' in response.content.decode()
    assert c.get(url, {"tab": "today"}).context["table"].paginator.count == 0
    assert c.get(url, {"tab": "today", "when": "all"}).context["table"].paginator.count == 1
