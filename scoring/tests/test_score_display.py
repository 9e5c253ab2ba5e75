"""One customer, one current score on every page, with its time and model version; a
lead's own score is labelled with the date it was proposed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db


def test_after_a_retrain_every_page_shows_the_current_score_and_labels_the_proposal(world, client_for):
    customer = CustomerFactory(owner=world.advisor_a)
    proposed = timezone.now() - dt.timedelta(days=20)
    lead = LeadFactory(team=world.team_a, customer=customer, owner=world.advisor_a, score=92.0, proposed_at=proposed)
    CustomerScore.objects.create(
        customer=customer,
        score=30.7,
        grade="low",
        model_version="v7",
        method="model",
        scored_at=timezone.now() - dt.timedelta(hours=1),
    )
    client = client_for(world.advisor_a)
    day = timezone.localtime(proposed).strftime("%Y-%m-%d")
    pages = {
        "queue": client.get(reverse("calls:queue") + "?tab=confirm").content.decode(),
        "call": client.get(reverse("calls:call", args=[lead.pk])).content.decode(),
        "portrait": client.get(reverse("customers:tab", args=[customer.pk, "needs"])).content.decode(),
    }
    for name, html in pages.items():
        assert "30.7" in html and "v7" in html, name
    for name in ("queue", "call"):
        html = pages[name]
        assert 'data-score-now="30.7"' in html and 'data-score-then="92.0"' in html, name
        assert f"提议时（{day}）：92.0" in html, name
