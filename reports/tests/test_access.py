"""The wealth reports' row rule agrees with its predicates, row for row, for every role:
``view`` (list, download) with ``can_view_report``, ``work`` (generate again, mark sent)
with ``can_deliver_report``."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from core.testing import assert_rule_agrees
from customers.services.access import customer_access_referral
from customers.tests.factories import CustomerFactory
from org.tests.factories import UserFactory
from reports.access import can_deliver_report, can_view_report
from reports.models import WealthReport
from reports.selectors import report_script_version

from .factories import approve_report_wording

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "manager_y", "compliance", "admin")


@pytest.fixture
def reports(world):
    """One report for customers placed so that each role's rule includes and excludes some."""
    approve_report_wording(world)
    version = report_script_version()
    referred = CustomerFactory(owner=None)
    customer_access_referral(customer_id=referred.pk, branch_id=world.branch_x.pk)
    customers = [
        CustomerFactory(owner=world.advisor_a),
        CustomerFactory(owner=world.advisor_a2),
        CustomerFactory(owner=world.advisor_b),
        referred,
        CustomerFactory(owner=None),
    ]
    return [
        WealthReport.objects.create(
            customer=c,
            year=timezone.localdate().year,
            language="zh",
            file=f"reports/test-{c.pk}.pdf",
            script_version=version,
            text="年度财富报告",
            generated_at=timezone.now(),
        )
        for c in customers
    ]


def _users(world):
    return [getattr(world, r) for r in ROLES] + [UserFactory(), AnonymousUser()]


@pytest.mark.parametrize(("action", "predicate"), [("view", can_view_report), ("work", can_deliver_report)])
def test_the_report_rule_agrees_with_its_predicate(world, reports, action, predicate):
    allowed = assert_rule_agrees(
        model=WealthReport, action=action, predicate=predicate, users=_users(world), objects=reports
    )
    assert 0 < allowed < len(reports) * len(ROLES)


def test_compliance_reads_every_report_and_works_on_none(world, reports):
    assert WealthReport.objects.restrict(world.compliance, "view").count() == len(reports)
    assert not WealthReport.objects.restrict(world.compliance, "work").exists()
