"""The ingest API: token auth per client with scopes, validation paths, idempotency, limits."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEvent
from customers import models as m
from org.tests.factories import BranchFactory, UserFactory

from .factories import CustomerFactory, ProductFactory


def client_with(scopes):
    user = UserFactory()
    m.IntegrationClient.objects.create(name=f"client-{user.pk}", user=user, scopes=scopes)
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


SESSION = {
    "session_id": "BOT-20261123-0001",
    "customer_no": "C-API-1",
    "started_at": "2026-11-20T10:00:00+08:00",
    "turns": [
        {"speaker": "bot", "text": "您好，我是智能助理。"},
        {"speaker": "customer", "text": "我的理财下周到期，有什么推荐？"},
    ],
    "intents": ["ask_maturity"],
}


@pytest.mark.django_db
class TestInteractionsEndpoint:
    def test_idempotent_by_session_id(self):
        c = CustomerFactory(customer_no="C-API-1")
        api = client_with(["interactions:write"])
        r1 = api.post("/api/interactions/", SESSION, format="json")
        assert r1.status_code == 201, r1.content
        r2 = api.post("/api/interactions/", SESSION, format="json")
        assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]
        i = m.Interaction.objects.get(external_id="BOT-20261123-0001")
        assert i.customer == c and i.channel == m.Channel.AI_BOT and len(i.transcript) == 2

    def test_validation_errors_have_paths(self):
        CustomerFactory(customer_no="C-API-1")
        api = client_with(["interactions:write"])
        bad = {**SESSION, "turns": [{"speaker": "bot", "text": "hi"}, {"speaker": "alien"}], "customer_no": "NOPE"}
        r = api.post("/api/interactions/", bad, format="json")
        assert r.status_code == 400
        paths = {e["path"] for e in r.json()["errors"]}
        assert {"turns[1].speaker", "turns[1].text", "customer_no"} <= paths
        assert not m.Interaction.objects.exists()

    def test_future_session_rejected_with_path(self):
        CustomerFactory(customer_no="C-API-1")
        r = client_with(["interactions:write"]).post(
            "/api/interactions/", {**SESSION, "started_at": "2999-01-01T00:00:00+08:00"}, format="json"
        )
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "started_at"

    def test_scope_and_auth(self):
        CustomerFactory(customer_no="C-API-1")
        assert APIClient().post("/api/interactions/", SESSION, format="json").status_code in (401, 403)
        r = client_with(["customers:write"]).post("/api/interactions/", SESSION, format="json")
        assert r.status_code == 403


@pytest.mark.django_db
class TestBulkUpsert:
    def test_customers_upsert_idempotent_100_rows(self):
        BranchFactory(code="SH01")
        api = client_with(["customers:write"])
        rows = [
            {
                "customer_no": f"API{n:05d}",
                "name": f"客户{n}",
                "mobile": f"1390000{n:04d}",
                "aum": "120000.50",
                "home_branch": "SH01",
                "gender": "女",
                "birth_date": "1980-02-03",
            }
            for n in range(150)
        ]
        r = api.post("/api/ingest/customers/", {"rows": rows}, format="json")
        assert r.status_code == 200, r.content
        assert r.json() == {"rows": 150, "created": 150, "updated": 0, "unchanged": 0}
        c = m.Customer.objects.get(customer_no="API00007")
        assert c.mobile_last4 == "0007" and c.tier == m.Tier.BASE and c.gender == "F"
        r = api.post("/api/ingest/customers/", {"rows": rows}, format="json")
        assert r.json() == {"rows": 150, "created": 0, "updated": 0, "unchanged": 150}
        rows[3]["aum"] = "900000"
        r = api.post("/api/ingest/customers/", {"rows": rows}, format="json")
        assert r.json()["updated"] == 1
        assert m.Customer.objects.get(customer_no="API00003").tier == m.Tier.WEALTH
        # A chunk mixing new and known customers: the new one is COPied, the rest upserted.
        rows.append({"customer_no": "API99999", "name": "新客户"})
        r = api.post("/api/ingest/customers/", {"rows": rows}, format="json")
        assert r.json() == {"rows": 151, "created": 1, "updated": 0, "unchanged": 150}
        new = m.Customer.objects.get(customer_no="API99999")
        assert new.tier == m.Tier.LONG_TAIL and new.attributes == {}
        # every ingest call is audited with what it changed
        audits = list(AuditEvent.objects.filter(verb="api.ingest").order_by("id"))
        assert len(audits) == 4 and audits[0].target_type == "customers.customers"
        assert audits[-1].details == {"rows": 151, "created": 1, "updated": 0, "unchanged": 150}

    def test_errors_with_paths_and_nothing_written(self):
        api = client_with(["customers:write"])
        rows = [{"customer_no": "OK1", "name": "好"}, {"customer_no": "BAD", "aum": "lots", "colour": "red"}]
        r = api.post("/api/ingest/customers/", {"rows": rows}, format="json")
        assert r.status_code == 400
        paths = {e["path"] for e in r.json()["errors"]}
        assert paths == {"rows[1].name", "rows[1].aum", "rows[1].colour"}
        assert not m.Customer.objects.exists()

    def test_holdings_need_known_references(self):
        CustomerFactory(customer_no="C1")
        ProductFactory(code="P1")
        api = client_with(["holdings:write"])
        rows = [
            {"external_id": "H1", "customer_no": "C1", "product_code": "P1", "amount": 1000, "opened_on": "2026-01-01"},
            {"external_id": "H2", "customer_no": "C9", "product_code": "P9", "amount": 1000, "opened_on": "2026-01-01"},
        ]
        r = api.post("/api/ingest/holdings/", {"rows": rows}, format="json")
        assert r.status_code == 400
        assert {e["path"] for e in r.json()["errors"]} == {"rows[1].customer_no", "rows[1].product_code"}
        r = api.post("/api/ingest/holdings/", {"rows": rows[:1]}, format="json")
        assert r.status_code == 200 and r.json()["created"] == 1

    def test_fund_flows_all_or_nothing(self):
        CustomerFactory(customer_no="C1")
        api = client_with(["flows:write"])
        good = {
            "external_id": "F1",
            "customer_no": "C1",
            "direction": "转入",
            "amount": "5000",
            "occurred_at": "2026-11-20 10:00",
        }
        bad = {
            "external_id": "F2",
            "customer_no": "C1",
            "direction": "sideways",
            "amount": "0",
            "occurred_at": "2026-11-20",
        }
        r = api.post("/api/ingest/flows/", {"rows": [good, bad]}, format="json")
        assert r.status_code == 400
        assert {e["path"] for e in r.json()["errors"]} == {"rows[1].direction"}
        r = api.post("/api/ingest/flows/", {"rows": [good, {**bad, "direction": "out"}]}, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "rows[1].amount"
        assert not m.FundFlow.objects.exists()
        r = api.post("/api/ingest/flows/", {"rows": [good]}, format="json")
        assert r.status_code == 200 and r.json()["created"] == 1
        f = m.FundFlow.objects.get(external_id="F1")
        assert (f.direction, f.amount, f.channel) == ("in", 5000, m.FlowChannel.OTHER)
        assert api.post("/api/ingest/flows/", {"rows": [good]}, format="json").json()["unchanged"] == 1

    def test_payload_limit(self, settings):
        settings.WORKBENCH_API_MAX_ROWS = 100
        api = client_with(["customers:write"])
        rows = [{"customer_no": f"X{n}", "name": "x"} for n in range(101)]
        assert api.post("/api/ingest/customers/", {"rows": rows}, format="json").status_code == 413

    def test_scope_per_kind(self):
        api = client_with(["customers:write"])
        r = api.post("/api/ingest/holdings/", {"rows": [{}]}, format="json")
        assert r.status_code == 403


def test_openapi_schema_documents_ingest(db, admin_client):
    r = admin_client.get("/api/schema/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "/api/interactions/" in body and "/api/ingest/{kind}/" in body
