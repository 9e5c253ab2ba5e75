"""Refused attempts that matter to an auditor are audited even though the refused action
rolls back: the mechanism (core.audit.refusal / records_refusals) on its own."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import records_refusals, refusal
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


@records_refusals
@transaction.atomic
def _refusing_service(*, actor, refuse: bool):
    AuditEvent.objects.create(verb="test.done", target_type="x", target_id="1")
    if refuse:
        raise refusal(ValidationError("no"), actor=actor, verb="test.refused", details={"why": "rule"})
    return "ok"


def test_the_refusal_is_audited_and_the_refused_work_rolled_back(world):
    with pytest.raises(ValidationError):
        _refusing_service(actor=world.advisor_a, refuse=True)
    assert not AuditEvent.objects.filter(verb="test.done").exists()  # the refused work is gone
    event = AuditEvent.objects.get(verb="test.refused")
    assert event.actor == world.advisor_a and event.details == {"refused": True, "why": "rule"}


def test_an_accepted_call_records_no_refusal(world):
    assert _refusing_service(actor=world.advisor_a, refuse=False) == "ok"
    assert not AuditEvent.objects.filter(verb="test.refused").exists()


def test_a_plain_error_is_not_a_refusal(world):
    @records_refusals
    def broken(*, actor):
        raise ValidationError("bad input")

    with pytest.raises(ValidationError):
        broken(actor=world.advisor_a)
    assert not AuditEvent.objects.exists()
