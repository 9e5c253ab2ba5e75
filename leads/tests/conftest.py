"""Fixtures of the queue tests: fakes for the other features' contracts.

The queue feature calls other features only through CONTRACTS.md. The side-effect hooks
(the compliance scan and rescoring) are always replaced by recorders, so tests assert the
hook was called with the right ids; the others use the real function when its module
exists and a minimal fake (that writes the same row) otherwise.
"""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.utils import timezone

from leads import services


def _fake_interaction_record(*, actor, customer, channel, direction="out", occurred_at, summary="", **kw):
    from customers.models import Interaction

    return Interaction.objects.get_or_create(
        external_id=kw.get("external_id"),
        defaults={
            "customer": customer,
            "channel": channel,
            "direction": direction,
            "occurred_at": occurred_at,
            "actor": actor,
            "summary": summary,
        },
    )


def _fake_outcome_record(*, customer, contacted_at, channel, converted, amount=None, product=None, **kw):
    from scoring.models import Outcome

    outcome, _ = Outcome.objects.get_or_create(
        external_key=kw.get("external_key"),
        defaults={
            "customer": customer,
            "contacted_at": contacted_at,
            "channel": channel,
            "converted": converted,
            "amount": amount,
            "product": product,
            "features": {"fake": True},
        },
    )
    return outcome


def _fake_referral_create(*, actor, lead, branch=None, needs_summary="", **kw):
    from referrals.models import Referral

    return Referral.objects.create(
        lead=lead,
        customer=lead.customer,
        branch=branch or lead.customer.home_branch,
        from_advisor=actor,
        needs_summary=needs_summary,
        score=lead.score,
    )


def _fake_product_suitability(*, customer, product, amount=None, today=None):
    reasons = []
    if customer.risk_expired:
        reasons.append("客户风险测评已过期")
    if customer.risk_level is None or product.risk_level > customer.risk_level:
        reasons.append("产品风险等级高于客户风险承受能力")
    return SimpleNamespace(allowed=not reasons, reasons=reasons, needs_second_review=False)


FAKES = {
    ("customers.services", "interaction_record"): _fake_interaction_record,
    ("scoring.services", "outcome_record"): _fake_outcome_record,
    ("referrals.services", "referral_create"): _fake_referral_create,
    ("customers.suitability", "product_suitability"): _fake_product_suitability,
    ("compliance.selectors", "approved_scripts_for"): lambda **kw: [],
}


@pytest.fixture(autouse=True)
def contracts(monkeypatch):
    """Record scan requests and rescoring; fall back to fakes for missing contracts."""
    calls = SimpleNamespace(scans=[], rescored=[])

    class _Task:
        @staticmethod
        def delay(customer_id):
            calls.rescored.append(customer_id)

    def request_scan(**kwargs):
        calls.scans.append(kwargs)

    recorders = {
        ("compliance.surveillance", "request_scan"): request_scan,
        ("scoring.tasks", "rescore_customer"): _Task,
    }

    def contract(module: str, name: str):
        if (module, name) in recorders:
            return recorders[(module, name)]
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return FAKES[(module, name)]

    monkeypatch.setattr(services, "_contract", contract)
    # The rescore after a call is queued by outcome_record (scoring's contract) itself.
    monkeypatch.setattr("scoring.tasks.rescore_customer", _Task)
    return calls


@pytest.fixture
def at_noon():
    """The latest 12:00 Beijing time in the past: inside the default call hours."""
    local = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    if local > timezone.localtime() - dt.timedelta(minutes=10):
        local -= dt.timedelta(days=1)
    return local.astimezone(dt.UTC)


@pytest.fixture
def callable_customer(world):
    """A customer of team A with phone-marketing consent and a valid C3 assessment."""
    from customers.tests.factories import ContactPreferenceFactory, CustomerFactory

    customer = CustomerFactory(owner=world.advisor_a, home_branch=world.branch_x)
    ContactPreferenceFactory(customer=customer, consent=True)
    return customer
