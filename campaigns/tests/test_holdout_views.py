"""The global holdout's pages: who may see and re-draw (403 for the others), the re-draw
confirmed, audited and refused in words, the report and its exports, query counts pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.holdout import MODULUS, earliest_redraw, holdout_report_refresh
from campaigns.models import Arm, Campaign, CampaignStatus, Enrolment, HoldoutDraw
from campaigns.tests.test_holdout import first_draw
from core.models import AuditEvent
from customers.tests.factories import CustomerFactory, HoldingFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("campaigns:holdout")
REPORT = reverse("campaigns:holdout_report")


@pytest.mark.parametrize(
    ("who", "page", "report"),
    [
        ("campaigner", 200, 200),
        ("admin", 200, 200),
        ("compliance", 403, 200),
        ("advisor_a", 403, 403),
        ("lead_a", 403, 403),
        ("manager_x", 403, 403),
        ("rm_x", 403, 403),
    ],
)
def test_access_per_role(world, client_for, who, page, report):
    first_draw()
    client = client_for(getattr(world, who))
    assert client.get(PAGE).status_code == page
    assert client.get(REPORT).status_code == report
    assert client.get(reverse("campaigns:holdout_report_export", args=["csv"])).status_code == report
    answer = client.post(PAGE, {"percent": 5, "valid_from": "2099-01-01", "confirm": "on"})
    assert answer.status_code == (302 if page == 200 else 403)
    assert HoldoutDraw.objects.count() == (2 if page == 200 else 1)


def test_anonymous_users_go_to_the_login_page(client):
    assert client.get(PAGE).status_code == 302 and client.get(REPORT).status_code == 302


def test_the_page_shows_the_current_draw_and_its_history(world, client_for):
    first_draw()
    HoldoutDraw.objects.create(
        percent=3, salt=99_991, modulus=MODULUS, valid_from=dt.date(2030, 1, 1), note="下一年度", drawn_by=world.admin
    )
    html = client_for(world.campaigner).get(PAGE).content.decode()
    assert "全局对照组" in html and "当前抽取" in html and "下一年度" in html and "2030-01-01" in html
    assert "2029-12-31" in html  # the first draw's last day
    assert "salt" not in html.lower() and "legacy" not in html.lower()


def test_redraw_needs_the_confirmation_and_is_audited(world, client_for):
    first_draw()
    client = client_for(world.campaigner)
    day = earliest_redraw()
    refused = client.post(PAGE, {"percent": 4, "valid_from": day.isoformat()})
    assert refused.status_code == 200 and "勾选" in refused.content.decode()
    assert HoldoutDraw.objects.count() == 1
    done = client.post(PAGE, {"percent": 4, "valid_from": day.isoformat(), "note": "季度重抽", "confirm": "on"})
    assert done.status_code == 302
    draw = HoldoutDraw.objects.get(valid_from=day)
    assert (draw.percent, draw.note, draw.drawn_by) == (4, "季度重抽", world.campaigner)
    assert AuditEvent.objects.filter(verb="campaign.holdout_redraw", target_id=str(draw.pk)).count() == 1
    again = client.post(PAGE, {"percent": 4, "valid_from": day.isoformat(), "confirm": "on"})
    html = again.content.decode()
    assert again.status_code == 200 and "每季度最多重新抽取一次" in html
    assert HoldoutDraw.objects.count() == 2


@pytest.mark.parametrize(
    "data",
    [
        {"percent": "9", "valid_from": "2099-01-01", "confirm": "on"},
        {"percent": "abc", "valid_from": "2099-01-01", "confirm": "on"},
        {"percent": "3", "valid_from": "2099-01-15", "confirm": "on"},
        {"percent": "3", "valid_from": "不是日期", "confirm": "on"},
        {"percent": "3", "valid_from": "2001-01-01", "confirm": "on"},
        {},
    ],
)
def test_bad_input_is_answered_in_chinese_and_changes_nothing(world, client_for, data):
    first_draw()
    answer = client_for(world.admin).post(PAGE, data)
    assert answer.status_code == 200
    assert 'data-testid="form-errors"' in answer.content.decode()
    assert HoldoutDraw.objects.count() == 1
    assert not AuditEvent.objects.filter(verb="campaign.holdout_redraw").exists()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def _grow():
    campaign = Campaign.objects.create(code=f"G{Campaign.objects.count()}", name="增长", status=CampaignStatus.RUNNING)
    for _i in range(15):
        c = CustomerFactory()
        Enrolment.objects.create(
            campaign=campaign, customer=c, bucket=9000, arm=Arm.TREATMENT, entered_at=timezone.now()
        )
        HoldingFactory(customer=c, opened_on=timezone.localdate())


def test_query_counts_stay_constant_when_data_grows(world, client_for, django_assert_num_queries):
    first_draw()
    client = client_for(world.campaigner)
    client.get(REPORT)  # the first view computes the months and stores them (no task has yet)
    page, report = _queries(client, PAGE), _queries(client, REPORT)
    _grow()
    HoldoutDraw.objects.create(percent=2, salt=7_919, modulus=MODULUS, valid_from=dt.date(2031, 1, 1))
    _grow()
    assert (_queries(client, PAGE), _queries(client, REPORT)) == (page, report)
    with django_assert_num_queries(report):
        client.get(REPORT)


def test_report_page_and_exports(world, client_for):
    first_draw()
    _grow()
    client = client_for(world.compliance)
    html = client.get(REPORT).content.decode()
    assert "全局对照组报告" in html and 'id="holdout-chart-data"' in html and "holdout.js" in html
    assert "<script>" not in html.replace('<script id="holdout-chart-data" type="application/json">', "")
    assert "touched" not in html.replace("data-label-touched", "").replace('"touched', "")
    month = timezone.localdate().strftime("%Y-%m")
    assert f'data-testid="month-{month}"' in html
    assert 'data-testid="as-of"' in html and "数据截至" in html and "每小时重新计算" in html
    # the page reads the stored months: new data shows after the task's next refresh
    stored = client.get(REPORT).context["months"][0].touched.customers
    _grow()
    assert client.get(REPORT).context["months"][0].touched.customers == stored
    holdout_report_refresh()
    assert client.get(REPORT).context["months"][0].touched.customers == stored + 15
    csv = client.get(reverse("campaigns:holdout_report_export", args=["csv"]))
    body = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert csv.status_code == 200 and body.splitlines()[0].startswith("月份,")
    assert len(body.splitlines()) == 1 + 24  # two groups a month, twelve months
    xlsx = client.get(reverse("campaigns:holdout_report_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert AuditEvent.objects.filter(verb="campaign.holdout_report_export", actor=world.compliance).count() == 2
    assert client.get(reverse("campaigns:holdout_report_export", args=["pdf"])).status_code == 404


def test_the_report_speaks_english_too(world, client_for, settings):
    first_draw()
    client = client_for(world.campaigner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(REPORT).content.decode()
    assert "Global-holdout report" in html and "Touched customers" in html
