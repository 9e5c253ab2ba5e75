"""Who enters a running campaign, once per (campaign, customer, occurrence).

Entrants come from the campaign's segment (a chunked job over the customer base, run at
launch and again each day so new members and those held back by the daily limit enter)
or from a trigger's events (``occurrence`` names the event). An entrant is left out when
they are in the global holdout, unsuitable for the campaign's product, already entered
under the same occurrence, or over the day's entry limit (they can enter another day).
Each entrant gets a hashed bucket and arm (``assignment``), the first step of the journey
version current at entry, and an ``entered`` event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import rows_insert
from core.models import Job
from core.services import (
    chunk_process,
    chunks_dispatch,
    chunks_finish_if_complete,
    job_finish,
    job_start_once,
)
from customers.models import Customer
from org.calendar import call_hours

from ..holdout import holdout_current, is_held_out
from ..models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    EnrolmentState,
    HoldoutDraw,
    JourneyEventKind,
    Variant,
    VariantOrder,
)
from ..services.segments import segment_members
from ..targeting import unsuitable_q
from .assignment import arm_of, bucket_of, campaign_salt, variant_of
from .checks import journey_problems
from .runner import events_insert, journey_start

ENROL_JOB = "campaigns.enrol"
TIMES = ("step_entered_at", "next_at", "entered_at")
ENROL_TOTALS = ("entered", "control", "already", "held_back", "holdout", "unsuitable")


@dataclass
class Entry:
    entered: list[int] = field(default_factory=list)  # enrolment ids
    enrolments: list[Enrolment] = field(default_factory=list)  # the same rows, as made
    control: int = 0
    already: int = 0
    held_back: int = 0  # over the day's entry limit
    holdout: int = 0
    unsuitable: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "entered": len(self.entered),
            "control": self.control,
            "already": self.already,
            "held_back": self.held_back,
            "holdout": self.holdout,
            "unsuitable": self.unsuitable,
        }


def in_global_holdout(customer_id: int, draw: HoldoutDraw | None = None) -> bool:
    """The same test as ``targeting.holdout_q`` (the exclusion funnel), in Python, under
    ``draw`` (default: the draw in force today)."""
    return is_held_out(draw or holdout_current(), customer_id)


def entry_order(variant: Variant, steps: list[CampaignStep]) -> VariantOrder | None:
    """The order of the steps ``variant``'s new entrants walk (``steps``: the journey version
    they enter), or None for the journey's own: an order set for another version, or one the
    version no longer fits (its steps changed before launch), is not used."""
    order = variant.step_order
    if order is None or not steps or order.version != steps[0].version:
        return None
    if sorted(order.steps) != sorted(s.pk for s in steps):
        return None
    position_of = {s.pk: s.position for s in steps}
    if journey_problems(steps, [position_of[pk] for pk in order.steps]):
        return None
    return order


def _entered_today(campaign: Campaign, now: dt.datetime) -> int:
    tz = call_hours()[2]
    start = dt.datetime.combine(now.astimezone(tz).date(), dt.time.min, tzinfo=tz)
    return Enrolment.objects.filter(campaign=campaign, entered_at__gte=start).count()


def enrol_customers(*, campaign: Campaign, entrants, now: dt.datetime | None = None) -> Entry:
    """Enter ``entrants`` (customer ids, or (customer id, occurrence) pairs) into the
    running ``campaign``. Running it again with the same entrants enters nobody new.
    The caller holds the transaction (a chunk of the enrolment job, or a trigger sweep)."""
    now = now or timezone.now()
    entry = Entry()
    if campaign.status != CampaignStatus.RUNNING:
        return entry
    pairs = list(dict.fromkeys((e, "") if isinstance(e, int) else (int(e[0]), str(e[1])[:64]) for e in entrants))
    kept = []
    draw = holdout_current(on=timezone.localdate(now))
    for pair in pairs:
        if in_global_holdout(pair[0], draw):
            entry.holdout += 1
        else:
            kept.append(pair)
    ids = list({cid for cid, _occ in kept})
    if campaign.product_id is not None and ids:
        unsuitable = set(
            Customer.objects.filter(pk__in=ids).filter(unsuitable_q(campaign.product, now)).values_list("pk", flat=True)
        )
        entry.unsuitable = sum(1 for cid, _occ in kept if cid in unsuitable)
        kept = [p for p in kept if p[0] not in unsuitable]
    existing = set(
        Enrolment.objects.filter(
            campaign=campaign, customer_id__in=[cid for cid, _occ in kept], occurrence__in={occ for _c, occ in kept}
        ).values_list("customer_id", "occurrence")
    )
    entry.already = sum(1 for p in kept if p in existing)
    kept = [p for p in kept if p not in existing]
    if campaign.daily_entry_limit is not None:
        room = max(0, campaign.daily_entry_limit - _entered_today(campaign, now))
        entry.held_back = max(0, len(kept) - room)
        kept = kept[:room]
    steps = list(CampaignStep.objects.filter(campaign=campaign, version=campaign.journey_version).order_by("position"))
    if not kept or not steps:
        return entry
    salt = campaign_salt(campaign)
    # The variants' weights and orders as they are now (new entrants only; the variant and
    # its order are recorded on the enrolment).
    variants = list(Variant.objects.filter(campaign=campaign).select_related("step_order"))
    weights = [(v.pk, v.weight) for v in variants]
    winner = next((v.pk for v in variants if v.promoted_at is not None), None)
    first = {None: (None, steps[0].pk)}
    for v in variants:
        order = entry_order(v, steps)
        first[v.pk] = (order.pk, order.steps[0]) if order is not None else (None, steps[0].pk)
    rows = []
    for cid, occ in kept:
        bucket = bucket_of(salt, cid)
        arm = arm_of(bucket, campaign.control_percent)
        variant = variant_of(bucket, campaign.control_percent, weights, winner)
        order_id, step_id = first[variant]
        rows.append((campaign.pk, cid, occ, campaign.journey_version, bucket, arm, variant, order_id, step_id))
    rows_insert(
        Enrolment,
        [
            *("campaign", "customer", "occurrence", "version", "bucket", "arm", "variant", "step_order", "step"),
            "state",
            *TIMES,
            "exit_reason",
        ],
        [(*row, EnrolmentState.ACTIVE, now, now, now, "") for row in rows],
        ignore_conflicts=True,
    )
    # bulk_create(ignore_conflicts) does not say which rows a concurrent writer had: read
    # back the rows this call made (entered now, on this campaign, these customers).
    # The rows come back whole: the caller takes them on with ``journey_start`` in this
    # transaction, without reading them again.
    wanted = set(kept)
    entry.enrolments = [
        e
        for e in Enrolment.objects.filter(
            campaign=campaign,
            customer_id__in=[cid for cid, _occ in kept],
            occurrence__in={occ for _cid, occ in kept},
            entered_at=now,
        )
        if (e.customer_id, e.occurrence) in wanted
    ]
    entry.entered = [e.pk for e in entry.enrolments]
    entry.control = sum(1 for e in entry.enrolments if e.arm == "control")
    events_insert([(campaign.pk, e.pk, e.step_id, JourneyEventKind.ENTERED, "", now) for e in entry.enrolments])
    return entry


# --- The enrolment job of a segment campaign -------------------------------------------


def enrolment_start(*, campaign: Campaign, actor=None) -> Job | None:
    """Queue (after commit) the job that enters the campaign's segment, unless one for the
    campaign is still going. None when the campaign has no segment."""
    if campaign.audience_id is None:
        return None
    return job_start_once(
        actor=actor, kind=ENROL_JOB, task="campaigns.enrol_dispatch", key={"campaign_id": campaign.pk}
    )


def enrolment_dispatch(*, job_id: int) -> int:
    """Plan the job's chunks (customer id ranges) once and queue those not done; running
    it again only re-sends unfinished chunks (how a job survives a killed worker)."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return 0
    campaign = Campaign.objects.get(pk=job.params["campaign_id"])
    if campaign.status != CampaignStatus.RUNNING:
        job_finish(job_id=job_id, result=dict.fromkeys(ENROL_TOTALS, 0), error="")
        return 0
    return chunks_dispatch(
        job_id=job_id,
        task="campaigns.enrol_chunk",
        totals=ENROL_TOTALS,
        rows=Customer.objects.all,
        size=settings.WORKBENCH_CAMPAIGN_ENROL_CHUNK,
        message=_("Entering the segment's customers"),
    )


def enrolment_chunk_run(*, job_id: int, lo: int, now: dt.datetime | None = None) -> dict | None:
    """Enter one id range of the segment and take the entrants through the journey's
    first steps, exactly once: the chunk is marked done in the transaction that writes."""
    job = Job.objects.get(pk=job_id)
    campaign = Campaign.objects.select_related("audience", "product").get(pk=job.params["campaign_id"])

    def work(chunk) -> dict:
        members = segment_members(segment=campaign.audience).filter(pk__gte=chunk.lo, pk__lt=chunk.hi)
        ids = list(members.order_by("pk").values_list("pk", flat=True))
        entry = enrol_customers(campaign=campaign, entrants=ids, now=now)
        journey_start(entry.enrolments, now=now)
        return {**entry.counts(), "chunks": 1}

    result = chunk_process(job_id=job_id, lo=lo, work=work, done_key="chunks")
    chunks_finish_if_complete(job_id=job_id, totals=ENROL_TOTALS)
    return result


def enrolments_start_running() -> int:
    """Start an enrolment job for each running campaign with a segment (hourly beat):
    new members of a dynamic segment, and those the daily entry limit held back, enter.
    A campaign whose job is still going is left alone. Returns the campaigns with a job
    going."""
    started = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING, audience__isnull=False):
        with transaction.atomic():
            if enrolment_start(campaign=campaign) is not None:
                started += 1
    return started
