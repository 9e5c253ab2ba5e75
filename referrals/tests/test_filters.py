"""One filter for the referral list, its export and the API (``referrals.filters``)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory
from referrals.models import Referral, ReferralStatus

from .factories import ReferralFactory

S = ReferralStatus


@pytest.fixture
def book(world):
    def referral(name, mobile, branch, status=S.PENDING):
        customer = CustomerFactory(name=name, mobile=mobile, home_branch=branch)
        return ReferralFactory(
            lead=LeadFactory(customer=customer, team=world.team_a), branch=branch, status=status, from_advisor=None
        )

    old = referral("李四", "13900001234", world.branch_x, S.CONVERTED)
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    return {
        "li_x_old": old,
        "wang_x": referral("王五", "13900005555", world.branch_x),
        "zhang_y": referral("张三李", "13900006666", world.branch_y, S.ACCEPTED),
    }


def found(html: str, book) -> set[str]:
    return {name for name, r in book.items() if f'data-referral="{r.pk}"' in html}


def page(client, **params) -> str:
    return client.get(reverse("referrals:list"), {"tab": "all", **params}).content.decode()


def test_list_filters(world, client_for, book):
    c = client_for(world.compliance)
    assert found(page(c), book) == set(book)
    assert found(page(c, q="李"), book) == {"li_x_old"}  # a name prefix, not "contains"
    assert found(page(c, q=book["wang_x"].customer.customer_no), book) == {"wang_x"}
    assert found(page(c, q="5555"), book) == {"wang_x"}
    assert found(page(c, status=S.ACCEPTED), book) == {"zhang_y"}
    assert found(page(c, branch=world.branch_x.pk), book) == {"li_x_old", "wang_x"}
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert found(page(c, since=since), book) == {"wang_x", "zhang_y"}
    assert found(page(c, until=since), book) == {"li_x_old"}
    assert found(page(c, status="bogus", since="not-a-date"), book) == set(book)  # bad values are ignored


def test_filters_narrow_the_rule_never_widen_it(world, client_for, book):
    html = page(client_for(world.manager_x), branch=world.branch_y.pk)
    assert found(html, book) == set()
    assert 'name="branch"' not in page(client_for(world.manager_x))  # one branch: nothing to choose
    assert 'name="branch"' in page(client_for(world.compliance))


def test_export_and_api_take_the_same_filters(world, client_for, book):
    params = {"branch": world.branch_x.pk, "status": S.PENDING}
    response = client_for(world.compliance).get(reverse("referrals:export", args=["csv"]), params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [str(book["wang_x"].pk)]
    audit = AuditEvent.objects.get(verb="referral.export")
    assert audit.details == {
        "format": "csv",
        "rows": 1,
        "filters": {"branch": str(world.branch_x.pk), "status": "pending"},
    }
    api = APIClient()
    api.force_authenticate(world.compliance)
    body = api.get("/api/referrals/", {"tab": "all", "q": "李"}).json()
    assert [row["id"] for row in body["results"]] == [book["li_x_old"].pk]
    assert api.get("/api/referrals/", {"branch": world.branch_y.pk}).json()["count"] == 1
