"""Claim next under real concurrency: 32 advisors, 32 connections, no lead given twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from core.models import AuditEvent
from customers.services.access import customer_access_open_leads
from customers.tests.factories import CustomerFactory
from leads import models as m
from leads import services
from org.roles import Role
from org.tests.factories import TeamFactory, make_staff

ADVISORS = 32
LEADS = 80


@pytest.mark.django_db(transaction=True)
def test_32_advisors_claiming_at_once_never_share_a_lead():
    if connection.vendor != "postgresql":
        pytest.skip("SELECT … FOR UPDATE SKIP LOCKED needs PostgreSQL")
    team = TeamFactory(code="TC", name="并发组")
    advisors = [make_staff(Role.ADVISOR, username=f"adv{i}", team=team) for i in range(ADVISORS)]
    leads = m.Lead.objects.bulk_create(
        [m.Lead(customer=CustomerFactory(), team=team, score=float(i), proposed_grade="mid") for i in range(LEADS)]
    )
    # The open leads' customer grants, as leads.services keeps them (a lead is claimed only
    # where its customer can be seen).
    customer_access_open_leads(pairs=[(lead.customer_id, team.pk) for lead in leads])
    barrier = threading.Barrier(ADVISORS)
    claimed: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user):
        try:
            barrier.wait(timeout=30)
            for _ in range(3):  # each advisor claims three times: 96 claims for 80 leads
                lead = services.lead_claim_next(actor=user)
                if lead is None:
                    break
                with lock:
                    claimed.append((lead.pk, user.pk))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()  # each thread has its own connection

    threads = [threading.Thread(target=work, args=(u,)) for u in advisors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = Counter(pk for pk, _ in claimed)
    assert all(n == 1 for n in counts.values()), "a lead was given to two advisors"
    assert len(claimed) == LEADS  # every lead handed out exactly once, the extra claims got None
    owners = dict(m.Lead.objects.values_list("pk", "owner_id"))
    assert all(owners[pk] == user_id for pk, user_id in claimed)
    assert m.Lead.objects.filter(owner__isnull=True).count() == 0
    assert AuditEvent.objects.filter(verb="lead.claim").count() == LEADS
