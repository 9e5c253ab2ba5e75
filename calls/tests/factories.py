"""factory_boy factories for calls."""

from __future__ import annotations

import factory
from django.utils import timezone

from calls import models as m
from calls.dispositions import dispositions_install
from leads.tests.factories import LeadFactory


def disposition(code: str) -> m.Disposition:
    """One of the default dispositions (installed by the calls data migration; installed
    again here when a transactional test has flushed the tables)."""
    if not m.Disposition.objects.filter(code=code).exists():
        dispositions_install(m.Disposition)
    return m.Disposition.objects.get(code=code)


class CallLogFactory(factory.django.DjangoModelFactory):
    """A call row for metrics tests (real calls go through services.call_log_create)."""

    class Meta:
        model = m.CallLog

    lead = factory.SubFactory(LeadFactory)
    customer = factory.SelfAttribute("lead.customer")
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    started_at = factory.LazyFunction(timezone.now)
    disposition = factory.LazyFunction(lambda: disposition("effective"))
