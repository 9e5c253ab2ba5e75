from __future__ import annotations

import pytest
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db


def test_score_api_respects_row_scope(world, client_for):
    mine = CustomerFactory(owner=world.advisor_a)
    other = CustomerFactory(owner=world.advisor_b)
    for c in (mine, other):
        CustomerScore.objects.create(
            customer=c,
            score=42.0,
            grade="high",
            method="rules",
            scored_at=timezone.now(),
            reasons=[{"code": "maturity_30d", "text": "理财产品 12 天后到期", "weight": 0.9}],
        )
    client = client_for(world.advisor_a)
    ok = client.get(f"/api/scoring/customers/{mine.pk}/score/")
    assert ok.status_code == 200 and ok.json()["reasons"][0]["text"] == "理财产品 12 天后到期"
    assert client.get(f"/api/scoring/customers/{other.pk}/score/").status_code == 404


def test_models_api_is_for_team_leads(world, client_for):
    assert client_for(world.advisor_a).get("/api/scoring/models/").status_code == 403
    assert client_for(world.lead_a).get("/api/scoring/models/").json() == []
