"""The pages: each figure's list of records counts what the figure says, each role sees
its own scope only, bad parameters get a message and no error, exports are audited, and
the query count does not grow with the data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from dashboards.access import can_open_stage, scope_of
from dashboards.models import DailyFact
from dashboards.selectors import Period, funnel
from referrals.models import Referral

from .conftest import WEEK_START, refresh

pytestmark = pytest.mark.django_db
WEEK = {"period": "week", "end": (WEEK_START + dt.timedelta(days=2)).isoformat()}
PERIOD = Period(WEEK_START, WEEK_START + dt.timedelta(days=6), "week")


def _tiles(html: str) -> dict[str, tuple[str, int]]:
    """Each linked tile on the page: its records URL and the number it shows."""
    out = {}
    for href, key, n in re.findall(r'<a href="([^"]+)" data-testid="tile-([a-z_-]+)">(\d+)</a>', html):
        out[key] = (href.replace("&amp;", "&"), int(n))
    return out


def _records_count(client, href: str) -> int:
    page = client.get(href).content.decode()
    return int(re.search(r'data-testid="records-count">(\d+)<', page).group(1))


@pytest.mark.parametrize("who", ["advisor_a", "lead_a", "manager_x", "compliance", "admin"])
def test_every_tile_clicks_through_to_as_many_records(known, client_for, who):
    user = getattr(known.world, who)
    client = client_for(user)
    pages = ["dashboards:funnel"] + (["dashboards:branch"] if scope_of(user).kind in ("branch", "all") else [])
    checked = 0
    for name in pages:
        html = client.get(reverse(name), WEEK).content.decode()
        tiles = _tiles(html)
        assert tiles, name
        for key, (href, n) in tiles.items():
            assert _records_count(client, href) == n, (who, name, key)
            checked += 1
    assert checked >= 3


def test_breakdown_cells_click_through_too(known, client_for):
    client = client_for(known.world.admin)
    html = client.get(reverse("dashboards:funnel"), {**WEEK, "by": "team"}).content.decode()
    body = html.split('data-testid="funnel-breakdown"')[1]
    links = re.findall(r'<a href="([^"]+)">(\d+)</a>', body)
    assert links
    for href, n in links:
        assert _records_count(client, href.replace("&amp;", "&")) == int(n)


def test_scope_per_role_never_leaks_another_team(known):
    w = known.world

    def proposed(user, **f):
        return next(s.count for s in funnel(user=user, period=PERIOD, filters=f) if s.metric == "proposed")

    assert proposed(w.advisor_a) == 5
    assert proposed(w.advisor_a2) == 0
    assert proposed(w.lead_a) == 5
    assert proposed(w.advisor_b) == 2
    # Asking for another team's or advisor's figures narrows the own scope to nothing.
    assert proposed(w.lead_a, team=w.team_b.pk) == 0
    assert proposed(w.lead_a, advisor=w.advisor_b.pk) == 0
    assert proposed(w.advisor_a, advisor=w.advisor_b.pk) == 0
    assert proposed(w.admin) == 7 and proposed(w.campaigner) == 7
    # A branch sees the funnel from the referral on, its own branch only.
    assert [s.metric for s in funnel(user=w.manager_x, period=PERIOD, filters={})] == [
        "referred",
        "accepted",
        "converted",
    ]
    assert [s.count for s in funnel(user=w.manager_y, period=PERIOD, filters={})] == [0, 0, 0]
    assert [s.count for s in funnel(user=w.rm_x, period=PERIOD, filters={})] == [2, 1, 1]


def test_records_list_answers_in_the_viewers_scope(known, client_for):
    w = known.world
    url = reverse("dashboards:records")
    params = {**WEEK, "metric": "proposed"}
    assert _records_count(client_for(w.advisor_b), url + "?" + "&".join(f"{k}={v}" for k, v in params.items())) == 2
    # Team lead A asking for team B's leads gets none of them.
    query = "&".join(f"{k}={v}" for k, v in {**params, "team": w.team_b.pk}.items())
    assert _records_count(client_for(w.lead_a), f"{url}?{query}") == 0
    # A campaign manager sees the figures but not the leads behind them: no link, no list.
    assert not can_open_stage(w.campaigner, "proposed")
    page = client_for(w.campaigner).get(url, params)
    assert page.status_code == 200 and 'data-testid="records-count"' not in page.content.decode()
    # A branch never lists leads that were not referred to it.
    page = client_for(w.manager_x).get(url, params)
    assert 'data-testid="records-count"' not in page.content.decode()


@pytest.mark.parametrize(
    ("who", "page", "status"),
    [
        ("advisor_a", "dashboards:operations", 200),
        ("advisor_a", "dashboards:branch", 403),
        ("lead_a", "dashboards:operations", 200),
        ("lead_a", "dashboards:branch", 403),
        ("manager_x", "dashboards:operations", 403),
        ("manager_x", "dashboards:branch", 200),
        ("rm_x", "dashboards:branch", 200),
        ("campaigner", "dashboards:operations", 200),
        ("compliance", "dashboards:branch", 200),
    ],
)
def test_pages_per_role(known, client_for, who, page, status):
    assert client_for(getattr(known.world, who)).get(reverse(page), WEEK).status_code == status


def test_team_lead_operations_show_only_the_team(known, client_for):
    html = client_for(known.world.lead_a).get(reverse("dashboards:operations"), WEEK).content.decode()
    assert "王顾问" in html and "advisor_b" not in html
    html = client_for(known.world.admin).get(reverse("dashboards:operations"), WEEK).content.decode()
    assert "advisor_b" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "custom", "start": "abc", "end": "2026-11-29"}, "Enter a valid date."),
        (
            {"period": "custom", "start": "2026-11-29", "end": "2026-11-01"},
            "The end date must not be before the start date.",
        ),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-11-01"}, "Choose at most 800 days."),
        ({"start": "9999-01-01"}, "Choose a date between"),
        ({"team": "abc"}, "Choose one from the list."),
        ({"period": "year"}, "Select a valid choice."),
    ],
)
@pytest.mark.parametrize(
    "page", ["dashboards:funnel", "dashboards:operations", "dashboards:branch", "dashboards:records"]
)
def test_bad_parameters_get_a_message_not_an_error(known, client_for, params, message, page, settings):
    settings.LANGUAGE_CODE = "en"
    client = client_for(known.world.admin)
    response = client.get(reverse(page), params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()


def test_bad_parameters_in_chinese(known, client_for):
    response = client_for(known.world.admin).get(
        reverse("dashboards:funnel"), {"period": "custom", "start": "2026-11-29", "end": "2026-11-01"}
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


@pytest.mark.parametrize(
    ("page", "table"),
    [
        ("dashboards:funnel", "stages"),
        ("dashboards:funnel", "breakdown"),
        ("dashboards:operations", "advisors"),
        ("dashboards:operations", "teams"),
        ("dashboards:operations", "days"),
        ("dashboards:operations", "hours"),
        ("dashboards:branch", "rms"),
        ("dashboards:branch", "branches"),
        ("dashboards:branch", "reasons"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_table_exports_and_is_audited(known, client_for, page, table, fmt):
    response = client_for(known.world.admin).get(reverse(page), {**WEEK, "table": table, "export": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    event = AuditEvent.objects.get(verb="dashboard.export")
    assert event.actor == known.world.admin
    assert event.details["format"] == fmt and event.details["table"].endswith(table)


def test_records_export_is_audited_and_counts_the_rows(known, client_for):
    response = client_for(known.world.advisor_a).get(
        reverse("dashboards:records"), {**WEEK, "metric": "proposed", "export": "csv"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1 + 5
    event = AuditEvent.objects.get(verb="dashboard.export")
    assert event.details["rows"] == 5 and event.details["table"] == "records-proposed"


def test_unknown_export_format_is_refused(known, client_for):
    response = client_for(known.world.admin).get(reverse("dashboards:funnel"), {"export": "pdf"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(verb="dashboard.export").exists()


def test_as_of_is_shown(known, client_for):
    html = client_for(known.world.admin).get(reverse("dashboards:funnel"), WEEK).content.decode()
    assert 'data-testid="as-of"' in html and "截至" in html


PAGES = ["dashboards:funnel", "dashboards:operations", "dashboards:branch"]


@pytest.mark.parametrize("page", PAGES)
def test_query_count_stays_constant_when_data_grows(known, client_for, django_assert_max_num_queries, page):
    client = client_for(known.world.admin)
    client.get(reverse(page), WEEK)  # warm the session and the caches
    from_small = _count(client, page)
    # Ten times the rows: another ten weeks of the same figures.
    facts = list(DailyFact.objects.all())
    for n in range(1, 10):
        DailyFact.objects.bulk_create(
            [DailyFact(**{**_fields(f), "day": f.day - dt.timedelta(days=7 * n)}) for f in facts]
        )
    assert _count(client, page) == from_small
    with django_assert_max_num_queries(from_small):
        client.get(reverse(page), WEEK)


def _fields(f):
    return {
        k: getattr(f, k)
        for k in (
            "metric",
            "detail",
            "advisor_id",
            "team_id",
            "branch_id",
            "rm_id",
            "campaign_id",
            "hour",
            "count",
            "amount",
        )
    }


def _count(client, page) -> int:
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse(page), WEEK)
    return len(ctx.captured_queries)


def test_refresh_again_after_a_change_moves_the_tile(known, client_for):
    """A referral accepted later shows on the next count (the task, not the page, counts)."""
    thu = WEEK_START + dt.timedelta(days=3)
    Referral.objects.filter(pk=known.r2.pk).update(accepted_at=Referral.objects.get(pk=known.r1.pk).accepted_at)
    refresh(thu, thu)
    stages = {s.metric: s.count for s in funnel(user=known.world.admin, period=PERIOD, filters={})}
    assert stages["accepted"] == 2
