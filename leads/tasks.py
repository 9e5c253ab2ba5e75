"""Celery tasks of the queues: thin, by id, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db.models import OuterRef, Subquery

BATCH = 1000


@shared_task(name="leads.resurface_pool")
def resurface_pool(*, team_id: int | None = None, limit: int = 50_000) -> int:
    """Bring back pooled leads whose customer's current score grade rose above low.

    Runs on a beat schedule after rescoring; a lead already back in the queue is skipped
    by the service's status guard, so a second run does nothing.
    """
    from leads.models import CustomerScore, Grade, Lead, LeadStatus
    from leads.services import lead_resurface

    current = CustomerScore.objects.filter(customer_id=OuterRef("customer_id"))
    qs = (
        Lead.objects.filter(status=LeadStatus.POOLED)
        .annotate(
            new_grade=Subquery(current.values("grade")[:1]),
            new_score=Subquery(current.values("score")[:1]),
            new_reasons=Subquery(current.values("reasons")[:1]),
        )
        .filter(new_grade__in=[Grade.MID, Grade.HIGH])
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    done = 0
    for lead in qs.order_by("id")[:limit].iterator(chunk_size=BATCH):
        if lead_resurface(actor=None, lead=lead, grade=lead.new_grade, score=lead.new_score, reasons=lead.new_reasons):
            done += 1
    return done
