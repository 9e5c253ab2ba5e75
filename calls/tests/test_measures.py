"""Each call measure has one name and one definition on the home card, the team
measures page and the API, and the three show the same figures."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from rest_framework.test import APIClient

from calls import selectors
from calls.tests.factories import CallLogFactory, disposition
from leads.tests.factories import LeadFactory, PlannedCallFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def today_calls(world):
    a = world.advisor_a
    day = timezone.localdate()
    lead = LeadFactory(team=world.team_a, owner=a)
    at = lambda h: dt.datetime.combine(day, dt.time(h), tzinfo=SH)  # noqa: E731
    PlannedCallFactory(lead=lead, advisor=a, due_at=at(0), status="done")
    PlannedCallFactory(lead=lead, advisor=a, due_at=at(1), status="planned")
    for h, code in ((0, "effective"), (0, "effective"), (1, "effective"), (1, "no_answer")):
        CallLogFactory(lead=lead, advisor=a, started_at=at(h), disposition=disposition(code))
    CallLogFactory(
        lead=lead,
        advisor=a,
        started_at=at(0),
        disposition=disposition("effective"),
        next_action="won",
        won_amount=Decimal("1000"),
    )


def test_every_measure_label_is_unique_in_both_languages():
    for lang in ("zh-hans", "en"):
        with override(lang):
            labels = [str(m.label) for m in selectors.MEASURES.values()]
            assert len(labels) == len(set(labels)), labels
            assert all(str(m.definition).strip() for m in selectors.MEASURES.values())


def _labelled(html: str) -> dict[str, str]:
    """label text → its title, for every element carrying a measure's definition."""
    out = {}
    for m in selectors.MEASURES.values():
        title = str(m.definition)
        if f'title="{title}"' in html:
            out[str(m.label)] = title
    return out


def test_home_card_and_team_page_name_each_measure_the_same(world, client_for, today_calls):
    home = client_for(world.advisor_a).get("/").content.decode()
    team = client_for(world.lead_a).get(reverse("calls:kpis")).content.decode()
    shared = ("planned", "planned_done", "execution_rate", "dialled", "effective", "effective_rate", "conversions")
    with override("zh-hans"):
        for key in shared:
            m = selectors.MEASURES[key]
            for html in (home, team):
                assert re.search(
                    rf'title="{re.escape(str(m.definition))}"[^>]*>[^<]*{re.escape(str(m.label))}', html
                ), key
    # "已拨打" once named two measures; now no page uses it as a label.
    assert "已拨打" not in home and "已拨打" not in team
    card = home[home.index('data-testid="home-call-kpis"') :]
    assert 'data-kpi="planned_done">1<' in card
    assert "有效通联 4</span> / <span" in card and "拨打数 5</span>" in card


def test_api_uses_the_same_names_and_figures(world, today_calls):
    client = APIClient()
    client.force_authenticate(world.advisor_a)
    r = client.get("/api/call-measures/")
    assert r.status_code == 200
    total = r.json()["total"]
    assert set(total) == set(selectors.MEASURES) - {"callbacks_due", "overdue_touches", "decisions", "override_rate"}
    k = selectors.advisor_kpis(user=world.advisor_a)
    assert (total["planned"], total["planned_done"], total["dialled"], total["effective"]) == (
        k.planned,
        k.planned_done,
        k.dialled,
        k.effective,
    )
    assert total["effective_rate"] == pytest.approx(0.8) and Decimal(total["amount"]) == Decimal("1000")
    schema = client.get("/api/schema/").content.decode()
    assert str(selectors.MEASURES["effective_rate"].definition) in schema or "Effective contacts divided" in schema
    assert client.get("/api/call-measures/?start=abc").status_code == 400
    lead_client = APIClient()
    lead_client.force_authenticate(world.lead_a)
    rows = lead_client.get("/api/call-measures/").json()["advisors"]
    assert {row["advisor"] for row in rows} >= {world.advisor_a.pk}
    manager = APIClient()
    manager.force_authenticate(world.manager_x)
    assert manager.get("/api/call-measures/").status_code == 403
