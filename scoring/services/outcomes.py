"""Writes of outcomes: one contact and what came of it, with the customer's features as they were."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from core.audit import audit_record
from core.tasks import enqueue

from ..features import features_for_customer
from ..models import Outcome, OutcomeSource


@transaction.atomic
def outcome_record(
    *,
    customer,
    contacted_at: dt.datetime,
    channel: str,
    converted: bool,
    amount: Decimal | None = None,
    product=None,
    source: str = OutcomeSource.CALL,
    external_key: str | None = None,
    campaign_id: int | None = None,
    arm: str = "",
) -> Outcome:
    """Record one contact's outcome with the customer's features as of ``contacted_at``.

    Idempotent by ``external_key``: a second call with the same key returns the first
    row unchanged. The customer is rescored after commit (a new outcome changes the
    contact-history features). ``campaign_id`` and ``arm`` name the campaign enrolment the
    outcome is attributed to (campaigns passes them; scoring never reads campaigns).
    """
    if external_key:
        existing = Outcome.objects.filter(external_key=external_key).first()
        if existing is not None:
            return existing
    features = features_for_customer(customer_id=customer.pk, as_of=contacted_at)
    try:
        with transaction.atomic():
            outcome = Outcome.objects.create(
                customer=customer,
                contacted_at=contacted_at,
                channel=channel,
                converted=bool(converted),
                amount=amount,
                product=product,
                source=source,
                external_key=external_key or None,
                features=features,
                campaign_id=campaign_id,
                arm=arm or "",
            )
    except IntegrityError:
        # a concurrent call with the same key won the race
        return Outcome.objects.get(external_key=external_key)
    audit_record(
        actor=None,
        verb="scoring.outcome_record",
        target=outcome,
        details={"customer_id": customer.pk, "converted": bool(converted), "source": source}
        | ({"campaign_id": campaign_id, "arm": arm} if campaign_id else {}),
    )
    enqueue("scoring.rescore_customer", customer.pk)
    return outcome


@transaction.atomic
def outcomes_attribute(*, attributions: dict[str, tuple[int, str]]) -> int:
    """Name the campaign and arm of existing outcomes, ``{external_key: (campaign id,
    arm)}``: a won call's or a converted referral's row, once campaigns has attributed it
    to an enrolment. The first attribution stays (running it again changes nothing).
    Returns the rows changed; one audit event for them."""
    changed = []
    rows = Outcome.objects.select_for_update().filter(external_key__in=list(attributions), campaign_id__isnull=True)
    for outcome in rows:
        outcome.campaign_id, outcome.arm = attributions[outcome.external_key]
        changed.append(outcome)
    if changed:
        Outcome.objects.bulk_update(changed, ["campaign_id", "arm"])
        audit_record(
            actor=None,
            verb="scoring.outcomes_attribute",
            target_type="scoring.outcome",
            target_id=",".join(str(o.pk) for o in changed[:50]),
            details={"rows": len(changed)},
        )
    return len(changed)
