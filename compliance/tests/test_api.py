"""The compliance API: approved scripts, scanning, flags per role."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import Flag, FlagOutcome
from compliance.services import flags as flag_services
from compliance.services import surveillance as surveillance_services
from compliance.tests.factories import approved_script

pytestmark = pytest.mark.django_db


def test_approved_scripts(world, client_for):
    v = approved_script(author=world.advisor_a, officer=world.compliance)
    c = client_for(world.advisor_b)
    data = c.get(reverse("api-compliance-scripts"), {"product": v.script.product_id}).json()
    assert [(d["id"], d["title"], d["purpose"]) for d in data] == [(v.pk, v.script.title, "product_intro")]
    assert c.get(reverse("api-compliance-scripts"), {"product_type": "fund"}).json() == []
    assert c.get(reverse("api-compliance-scripts"), {"product": "x"}).status_code == 400
    assert c.get(reverse("api-compliance-scripts"), {"purpose": "nope"}).status_code == 400


def test_scan(world, client_for):
    c = client_for(world.advisor_a)
    r = c.post(
        reverse("api-compliance-scan"),
        {"text": "这款产品是保本的", "product_type": "wealth"},
        content_type="application/json",
    )
    body = r.json()
    assert body["findings"][0]["match"] == "保本" and "risk_statement" in body["missing_disclosures"]
    assert c.post(reverse("api-compliance-scan"), {"text": ""}, content_type="application/json").status_code == 400


def test_flags_per_role(world, client_for):
    for i, advisor in enumerate((world.advisor_a, world.advisor_b)):
        surveillance_services.communication_scan(
            source="call_note", object_id=i, text="保本", advisor_id=advisor.pk, occurred_at=timezone.now()
        )
    f_a = Flag.objects.get(advisor=world.advisor_a)
    flag_services.flag_close(actor=world.compliance, flag=f_a, outcome=FlagOutcome.COACHING, comment="注意")
    assert client_for(world.compliance).get(reverse("api-compliance-flags")).json()["count"] == 2
    assert [f["id"] for f in client_for(world.advisor_a).get(reverse("api-compliance-flags")).json()["results"]] == [
        f_a.pk
    ]
    assert client_for(world.advisor_b).get(reverse("api-compliance-flags")).json()["count"] == 0
    assert client_for(world.manager_x).get(reverse("api-compliance-flags")).json()["count"] == 0


def test_api_requires_login(client):
    assert client.get(reverse("api-compliance-scripts")).status_code in (401, 403)
