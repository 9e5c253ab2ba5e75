"""The CSV and Excel export of a campaign's results: one row per arm with the figures the
page shows (from the same stored aggregates), Chinese headers by default and English for
an English-speaking user, no spreadsheet formula from a variant's name, audited, and
restricted like the page."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from campaigns.results import campaign_results_stored, results_refresh
from campaigns.tests.test_journeys import NOW
from campaigns.tests.test_results_arms import _ab, _traffic
from campaigns.variants import variant_update
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

LATER = NOW + dt.timedelta(days=40)


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def campaign(world):
    campaign, a, _b = _ab(world)
    variant_update(actor=world.campaigner, variant=a, label="=1+1", weight=1)  # a formula, typed as a name
    _traffic(world, campaign, 60)
    results_refresh(campaign_id=campaign.pk, now=LATER)
    return campaign


def test_the_csv_has_one_row_per_arm_with_the_page_figures(world, client, campaign):
    client.force_login(world.campaigner)
    response = client.get(reverse("campaigns:results_export", args=[campaign.pk, "csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"campaign-{campaign.pk}-results-" in response["Content-Disposition"]
    header, *rows = _csv(response)
    assert header[:6] == ["组别", "已进入", "已触达", "已响应", "成交数", "转化率（%）"]
    assert any("p 值" in h or "偶然" in h for h in header) and any("30 天" in h for h in header)
    results = campaign_results_stored(campaign=campaign)
    expected = [*results.arms, None, results.control]  # the variants, the whole treatment, control
    assert len(rows) == len(expected) == 4
    # A name that starts a formula is written as text.
    assert rows[0][0] == "'=1+1" and rows[1][0] == "B"
    for row, arm in zip(rows, expected, strict=True):
        figures = results.treatment if arm is None else (arm if arm is results.control else arm.figures)
        assert [int(v) for v in row[1:5]] == [figures.entered, figures.reached, figures.responded, figures.converted]
        assert float(row[5]) == pytest.approx(round(figures.rate * 100, 2))
        low, high = figures.interval
        assert (float(row[6]), float(row[7])) == pytest.approx((round(low * 100, 2), round(high * 100, 2)))
    for row, arm in zip(rows[:2], results.arms, strict=True):
        assert float(row[8]) == pytest.approx(round(arm.uplift.estimate * 100, 2))
        assert (float(row[9]), float(row[10])) == pytest.approx(
            (round(arm.uplift.low * 100, 2), round(arm.uplift.high * 100, 2))
        )
        assert float(row[11]) == pytest.approx(round(arm.uplift.p_value, 4))
        aum30 = arm.aum[0].result
        assert float(row[12]) == pytest.approx(round(aum30.estimate, 2))
        assert (float(row[13]), float(row[14])) == pytest.approx((round(aum30.low, 2), round(aum30.high, 2)))
    assert float(rows[2][8]) == pytest.approx(round(results.uplift.estimate * 100, 2))
    assert rows[3][8:12] == ["", "", "", ""]  # the control group is the baseline
    assert rows[3][0] == "对照组" and rows[2][0] == "实验组（全部变体合计）"
    assert AuditEvent.objects.filter(
        verb="campaign.results_export", actor=world.campaigner, details__format="csv", details__arms=4
    ).exists()


def test_english_headers_for_an_english_user_and_excel_too(world, client, campaign, settings):
    client.force_login(world.lead_a)  # whoever may view the campaign's page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    header, *rows = _csv(client.get(reverse("campaigns:results_export", args=[campaign.pk, "csv"])))
    assert header[:2] == ["Arm", "Entered"] and rows[-1][0] == "Control group"
    xlsx = client.get(reverse("campaigns:results_export", args=[campaign.pk, "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(reverse("campaigns:results_export", args=[campaign.pk, "pdf"])).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("advisor_a", 200), ("compliance", 200), ("manager_x", 403)])
def test_the_export_is_restricted_like_the_page(world, client, campaign, who, status):
    client.force_login(getattr(world, who))
    page = client.get(reverse("campaigns:results", args=[campaign.pk]))
    export = client.get(reverse("campaigns:results_export", args=[campaign.pk, "csv"]))
    assert page.status_code == export.status_code == status
    assert AuditEvent.objects.filter(verb="campaign.results_export").exists() == (status == 200)
    assert client.get(reverse("campaigns:results_export", args=[999999, "csv"])).status_code in (403, 404)
