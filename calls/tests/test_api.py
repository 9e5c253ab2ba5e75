"""The leads and call-log API: same rules as the UI, idempotent create, documented."""

from __future__ import annotations

import pytest
import yaml
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import CallLog
from calls.tests.factories import CallLogFactory, disposition
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    def _for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _for


@pytest.fixture(autouse=True)
def open_hours(settings, db):
    settings.WORKBENCH_CALL_HOURS_START = "00:00"
    settings.WORKBENCH_CALL_HOURS_END = "23:59"
    disposition("effective")


def test_list_is_row_scoped(world, api):
    mine = LeadFactory(team=world.team_a, score=80)
    LeadFactory(team=world.team_b)
    r = api(world.advisor_a).get("/api/leads/")
    assert r.status_code == 200
    assert [row["id"] for row in r.json()["results"]] == [mine.pk]
    assert api(world.manager_x).get("/api/leads/").status_code == 403
    r = api(world.advisor_a).get("/api/leads/?queue=confirm&min_score=90")
    assert r.json()["results"] == []


def test_confirm_and_override_error(world, api):
    lead = LeadFactory(team=world.team_a, proposed_grade="mid")
    r = api(world.advisor_a).post(f"/api/leads/{lead.pk}/confirm/", {"grade": "low"}, format="json")
    assert r.status_code == 400
    assert "您调整了建议等级，请选择调整理由。" in str(r.json())
    r = api(world.advisor_a).post(
        f"/api/leads/{lead.pk}/confirm/", {"grade": "low", "reason_code": "transcript_weaker"}, format="json"
    )
    assert r.status_code == 200 and r.json()["status"] == "pooled"
    other = LeadFactory(team=world.team_a)
    assert api(world.advisor_b).post(f"/api/leads/{other.pk}/confirm/", {"grade": "mid"}).status_code == 404


def test_claim_next(world, api):
    lead = LeadFactory(team=world.team_a, score=77)
    r = api(world.advisor_a).post("/api/leads/claim-next/")
    assert r.status_code == 200 and r.json()["id"] == lead.pk and r.json()["owner"] == world.advisor_a.pk
    assert api(world.advisor_a).post("/api/leads/claim-next/").status_code == 204
    assert api(world.lead_a).post("/api/leads/claim-next/").status_code == 403


def test_call_log_create_is_idempotent(world, api):
    customer = CustomerFactory()
    ContactPreferenceFactory(customer=customer, consent=True)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    payload = {
        "lead": lead.pk,
        "idempotency_key": "api-key-1",
        "disposition": "effective",
        "started_at": timezone.now().isoformat(),
        "duration_seconds": 180,
        "notes": "客户关注稳健型产品",
        "next_action": "nurture",
    }
    first = api(world.advisor_a).post("/api/call-logs/", payload, format="json")
    again = api(world.advisor_a).post("/api/call-logs/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert CallLog.objects.count() == 1
    lead.refresh_from_db()
    assert lead.status == "nurturing"


def test_call_log_on_another_teams_lead_answers_like_a_missing_lead(world, api):
    lead = LeadFactory(customer=CustomerFactory(), team=world.team_a, owner=world.advisor_a)
    payload = {
        "idempotency_key": "api-other-team",
        "disposition": "effective",
        "started_at": timezone.now().isoformat(),
        "next_action": "none",
    }
    other = api(world.advisor_b).post("/api/call-logs/", {**payload, "lead": lead.pk}, format="json")
    missing = api(world.advisor_b).post("/api/call-logs/", {**payload, "lead": 999_999}, format="json")
    assert other.status_code == missing.status_code == 400
    assert other.json()["lead"] != [] and list(other.json()) == list(missing.json()) == ["lead"]
    assert CallLog.objects.count() == 0


def test_call_log_create_refused_by_policy(world, api):
    lead = LeadFactory(customer=CustomerFactory(), team=world.team_a, owner=world.advisor_a)
    r = api(world.advisor_a).post(
        "/api/call-logs/",
        {"lead": lead.pk, "idempotency_key": "k", "disposition": "effective", "started_at": timezone.now().isoformat()},
        format="json",
    )
    assert r.status_code == 400
    assert "客户未同意接收电话营销" in str(r.json()["purpose"])
    assert not CallLog.objects.exists()


def test_call_log_list_scope(world, api):
    mine = CallLogFactory(advisor=world.advisor_a, lead__team=world.team_a)
    CallLogFactory(advisor=world.advisor_b, lead__team=world.team_b)
    assert [r["id"] for r in api(world.advisor_a).get("/api/call-logs/").json()["results"]] == [mine.pk]
    assert len(api(world.lead_a).get("/api/call-logs/").json()["results"]) == 1
    assert len(api(world.compliance).get("/api/call-logs/").json()["results"]) == 2
    assert api(world.manager_x).get("/api/call-logs/").json()["results"] == []
    r = api(world.compliance).post("/api/call-logs/", {}, format="json")
    assert r.status_code == 403


def test_openapi_documents_the_endpoints(world, api):
    r = api(world.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    paths = r.json()["paths"] if r["Content-Type"].startswith("application/json") else {}
    if not paths:  # drf-spectacular answers YAML by default
        paths = yaml.safe_load(r.content)["paths"]
    for p in ("/api/leads/", "/api/leads/claim-next/", "/api/leads/{id}/confirm/", "/api/call-logs/"):
        assert p in paths
