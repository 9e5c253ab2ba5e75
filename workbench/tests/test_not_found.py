"""An object the user may not see answers 404, never 403: every URL that names an object
answers an existing object outside the user's scope exactly as it answers an id that does
not exist, for GET and POST alike, so no answer reveals that the object exists.

(A page a whole role may not use answers 403 for every id, existing or not: that reveals
nothing about any object.)
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.models import Flag, ScriptPurpose
from compliance.services import scripts as script_services
from compliance.services import surveillance as surveillance_services
from compliance.tests.factories import approved_script
from customers.tests.factories import CustomerFactory, ProductFactory
from leads.tests.factories import LeadFactory
from referrals import services as referral_services
from referrals.tests.factories import high_lead

pytestmark = pytest.mark.django_db

MISSING = 987_654


@pytest.fixture
def hidden(world):
    """Objects advisor_b (team B) may not see, one per kind of object URL."""
    w = world
    draft = script_services.script_create(
        actor=w.advisor_a,
        title="未提交的话术",
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body="稳健理财产品介绍。",
        product=ProductFactory(risk_level=2),
    )
    other_draft = script_services.script_create(
        actor=w.advisor_a2,
        title="另一份草稿",
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body="产品介绍。",
        product=ProductFactory(risk_level=2),
    )
    submitted = script_services.script_submit_for_review(actor=w.advisor_a2, version=other_draft)
    lead = high_lead(advisor=w.advisor_a, team=w.team_a, branch=w.branch_x)
    referral = referral_services.referral_create(actor=w.advisor_a, lead=lead, needs_summary="面谈")
    customer = CustomerFactory(owner=w.advisor_a)
    surveillance_services.communication_scan(
        source="call_note", object_id=77, text="这款产品是保本的。", advisor_id=w.advisor_a.pk, customer_id=customer.pk
    )
    flag = Flag.objects.filter(communication__customer=customer).first()
    return {
        "draft": draft,
        "submitted": submitted,
        "lead": LeadFactory(customer=customer, team=w.team_a, owner=w.advisor_a),
        "referral": referral,
        "customer": customer,
        "flag": flag,
        "approved": approved_script(author=w.advisor_a, officer=w.compliance),
    }


# (route, object key, methods): every object route a signed-in non-overseer can reach.
ROUTES = [
    ("compliance:version_edit", "draft", ("get", "post")),
    ("compliance:version_submit", "draft", ("post",)),
    ("compliance:version_review", "submitted", ("get",)),
    ("compliance:version_approve", "submitted", ("post",)),
    ("compliance:version_reject", "submitted", ("post",)),
    ("compliance:version_retire", "submitted", ("post",)),
    ("compliance:script_detail", "draft.script", ("get",)),
    ("compliance:script_revise", "draft.script", ("get", "post")),
    ("compliance:flag_detail", "flag", ("get",)),
    ("compliance:flag_claim", "flag", ("post",)),
    ("compliance:flag_close", "flag", ("post",)),
    ("calls:call", "lead", ("get",)),
    ("calls:claim", "lead", ("post",)),
    ("calls:confirm", "lead", ("post",)),
    ("calls:log_call", "lead", ("post",)),
    ("calls:product_check", "lead", ("get",)),
    ("referrals:detail", "referral", ("get",)),
    ("referrals:outcome", "referral", ("post",)),
    ("referrals:return", "referral", ("post",)),
    ("customers:detail", "customer", ("get",)),
    ("customers:reveal", "customer", ("post",)),
    ("customers:tag_add", "customer", ("post",)),
    ("api-referral-detail", "referral", ("get",)),
    ("api-referral-outcome", "referral", ("post",)),
    ("api-lead-confirm", "lead", ("post",)),
    ("scoring-customer-score", "customer", ("get",)),
]


def _pk(hidden, key: str) -> int:
    obj = hidden
    for part in key.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj.pk


@pytest.mark.parametrize("who", ["advisor_b", "manager_y", "lead_a"])
def test_an_object_outside_ones_scope_answers_like_one_that_does_not_exist(world, client_for, hidden, who):
    user = getattr(world, who)
    client = client_for(user)
    leaks, compared = [], 0
    assert hidden["flag"] is not None
    for route, key, methods in ROUTES:
        pk = _pk(hidden, key)
        for method in methods:
            call = getattr(client, method)
            seen = call(reverse(route, args=[pk])).status_code
            missing = call(reverse(route, args=[MISSING])).status_code
            if seen in (200, 302, 400):  # the user may see it: nothing to compare
                continue
            compared += 1
            if seen != missing:
                leaks.append((route, method, seen, missing))
    assert not leaks, f"{who}: an existing hidden object answers unlike a missing one: {leaks}"
    assert compared >= 8


def test_a_draft_of_another_author_answers_404_not_403(world, client_for, hidden):
    draft = hidden["draft"]
    for user in (world.advisor_b, world.lead_a, world.manager_y):
        client = client_for(user)
        assert client.get(reverse("compliance:version_edit", args=[draft.pk])).status_code == 404
        assert client.post(reverse("compliance:version_submit", args=[draft.pk])).status_code == 404
        assert client.get(reverse("compliance:script_detail", args=[draft.script_id])).status_code == 404
