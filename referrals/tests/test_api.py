from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from referrals import services
from referrals.models import ReferralStatus

from .factories import high_lead

S = ReferralStatus


@pytest.fixture
def api():
    def _as(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _as


@pytest.fixture
def other_branch_referral(world):
    lead = high_lead(advisor=world.advisor_b, team=world.team_b, branch=world.branch_y)
    return services.referral_create(actor=world.advisor_b, lead=lead)


def test_list_is_scoped_per_role(world, api, referral, other_branch_referral):
    def ids(user):
        body = api(user).get("/api/referrals/").json()
        return {row["id"] for row in body["results"]}

    assert ids(world.manager_x) == {referral.pk}
    assert ids(world.rm_x) == {referral.pk}
    assert ids(world.advisor_a) == {referral.pk}
    assert ids(world.advisor_b) == {other_branch_referral.pk}
    assert ids(world.compliance) == {referral.pk, other_branch_referral.pk}
    assert api(world.manager_x).get(f"/api/referrals/{other_branch_referral.pk}/").status_code == 404
    assert api(world.manager_y).post(f"/api/referrals/{referral.pk}/accept/", {"rm": world.rm_x.pk}).status_code == 404


def test_accept_reject_and_outcome(world, api, referral, product):
    assert api(world.advisor_a).post(f"/api/referrals/{referral.pk}/accept/", {"rm": world.rm_x.pk}).status_code == 403
    bad = api(world.manager_x).post(f"/api/referrals/{referral.pk}/accept/", {"rm": world.manager_y.pk})
    assert bad.status_code == 400 and bad.json()["detail"]
    ok = api(world.manager_x).post(f"/api/referrals/{referral.pk}/accept/", {"rm": world.rm_x.pk})
    assert ok.status_code == 200 and ok.json()["status"] == "accepted" and ok.json()["assigned_rm"] == "rm_x"
    rm = api(world.rm_x)
    assert rm.post(f"/api/referrals/{referral.pk}/outcome/", {"outcome": "contacted"}).json()["status"] == "contacted"
    missing = rm.post(f"/api/referrals/{referral.pk}/outcome/", {"outcome": "converted", "product": product.code})
    assert missing.status_code == 400
    done = rm.post(
        f"/api/referrals/{referral.pk}/outcome/",
        {"outcome": "converted", "product": product.code, "amount": "200000.00"},
        format="json",
    )
    assert done.status_code == 200
    assert done.json()["status"] == "converted" and Decimal(done.json()["converted_amount"]) == Decimal("200000")
    assert AuditEvent.objects.filter(verb="referral.converted").count() == 1
    # The advisor reads it but cannot write branch-side fields.
    assert api(world.advisor_a).get(f"/api/referrals/{referral.pk}/").json()["status"] == "converted"
    assert (
        api(world.advisor_a)
        .post(f"/api/referrals/{referral.pk}/outcome/", {"outcome": "lost", "note": "x"})
        .status_code
        == 403
    )


def test_reject_via_api(world, api, referral):
    r = api(world.manager_x).post(f"/api/referrals/{referral.pk}/reject/", {"reason": "other"})
    assert r.status_code == 400
    r = api(world.manager_x).post(f"/api/referrals/{referral.pk}/reject/", {"reason": "unreachable", "note": "空号"})
    assert r.status_code == 200 and r.json()["reject_reason"] == "unreachable"


def test_openapi_documents_the_endpoints(world, api):
    schema = api(world.admin).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = {p.replace("{pk}", "{id}") for p in schema["paths"]}
    for path in (
        "/api/referrals/",
        "/api/referrals/{id}/",
        "/api/referrals/{id}/accept/",
        "/api/referrals/{id}/reject/",
        "/api/referrals/{id}/outcome/",
    ):
        assert path in paths, path
