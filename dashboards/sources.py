"""Where each figure of the funnel and the branch view comes from: the records behind it,
the time that puts a record on a day, and the dimensions it is counted under.

One definition serves both ends: the task counts ``Source.records()`` per day into
``DailyFact`` rows, and the click-through list shows the same ``records()`` for the
period, in the viewer's row rules (``dashboards.access.records_for``), so a tile and the
list behind it count the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from campaigns.models import Message
from customers.models import Channel, FundFlow, Interaction
from leads.models import GradeDecision, Lead
from referrals.models import Referral, ReferralStatus

from .models import Metric


@dataclass(frozen=True)
class Source:
    metric: str
    base: Callable[[], QuerySet]
    at: str  # the record's time on the day it counts for (annotated as "at" when an expression)
    dims: dict[str, str]  # advisor / team / branch / rm → the record's field path
    customer: str  # path to the customer id (campaign attribution, masking in lists)
    detail: str = ""
    amount: str = ""
    on_time: Q | None = None  # the part counted again as the "on time" measure
    on_time_metric: str = ""
    attributed: bool = True  # counted per campaign (customers enrolled before the event)
    extra: dict = field(default_factory=dict)

    def records(self) -> QuerySet:
        qs = self.base()
        if "at" in self.extra:
            qs = qs.annotate(at=self.extra["at"])
        return qs

    @property
    def at_field(self) -> str:
        return "at" if "at" in self.extra else self.at


def _interactions():
    return Interaction.objects.filter(channel=Channel.AI_BOT)


def _flows():
    # The book's flows: customers an advisor manages, as the book's AUM counts them.
    return FundFlow.objects.filter(customer__owner__isnull=False)


def _messages():
    return Message.objects.filter(sent_at__isnull=False)


def _leads():
    return Lead.objects.all()


def _decisions():
    return GradeDecision.objects.all()


def _referrals():
    return Referral.objects.all()


OWNER_DIMS = {
    "advisor": "customer__owner_id",
    "team": "customer__owner__staff_profile__team_id",
    "branch": "customer__home_branch_id",
}
REFERRAL_DIMS = {
    "advisor": "from_advisor_id",
    "team": "lead__team_id",
    "branch": "branch_id",
    "rm": "assigned_rm_id",
}

SOURCES: dict[str, Source] = {
    Metric.REACHED_AI: Source(
        Metric.REACHED_AI, _interactions, "occurred_at", OWNER_DIMS, "customer_id", attributed=False
    ),
    Metric.REACHED_CAMPAIGN: Source(
        Metric.REACHED_CAMPAIGN,
        _messages,
        "sent_at",
        {**OWNER_DIMS, "campaign": "campaign_id"},
        "customer_id",
        attributed=False,
    ),
    Metric.PROPOSED: Source(
        Metric.PROPOSED,
        _leads,
        "at",
        {"advisor": "owner_id", "team": "team_id", "branch": "customer__home_branch_id"},
        "customer_id",
        # Leads older than the field have no proposal time: their creation stands in
        # (the same rule as leads.Lead.proposed_at's comment).
        extra={"at": Coalesce(F("proposed_at"), F("created_at"))},
    ),
    Metric.CONFIRMED: Source(
        Metric.CONFIRMED,
        _decisions,
        "decided_at",
        {"advisor": "advisor_id", "team": "lead__team_id", "branch": "lead__customer__home_branch_id"},
        "lead__customer_id",
        detail="confirmed_grade",
    ),
    Metric.REFERRED: Source(Metric.REFERRED, _referrals, "created_at", REFERRAL_DIMS, "customer_id"),
    Metric.ACCEPTED: Source(
        Metric.ACCEPTED,
        lambda: Referral.objects.filter(accepted_at__isnull=False),
        "accepted_at",
        REFERRAL_DIMS,
        "customer_id",
    ),
    Metric.CONVERTED: Source(
        Metric.CONVERTED,
        lambda: Referral.objects.filter(status=ReferralStatus.CONVERTED, closed_at__isnull=False),
        "closed_at",
        REFERRAL_DIMS,
        "customer_id",
        amount="converted_amount",
    ),
    Metric.REJECTED: Source(
        Metric.REJECTED,
        lambda: Referral.objects.filter(rejected_at__isnull=False),
        "rejected_at",
        REFERRAL_DIMS,
        "customer_id",
        detail="reject_reason",
        attributed=False,
    ),
    Metric.RETURNED: Source(
        Metric.RETURNED,
        lambda: Referral.objects.filter(status=ReferralStatus.RETURNED, closed_at__isnull=False),
        "closed_at",
        REFERRAL_DIMS,
        "customer_id",
        attributed=False,
    ),
    # Reviewed: accepted or rejected; on time when no later than the review deadline.
    Metric.REVIEWED: Source(
        Metric.REVIEWED,
        lambda: Referral.objects.filter(Q(accepted_at__isnull=False) | Q(rejected_at__isnull=False)),
        "at",
        REFERRAL_DIMS,
        "customer_id",
        on_time=Q(review_due_at__isnull=True) | Q(at__lte=F("review_due_at")),
        on_time_metric=Metric.REVIEWED_ON_TIME,
        attributed=False,
        extra={"at": Coalesce(F("accepted_at"), F("rejected_at"))},
    ),
    Metric.CONTACTED: Source(
        Metric.CONTACTED,
        lambda: Referral.objects.filter(first_contacted_at__isnull=False),
        "first_contacted_at",
        REFERRAL_DIMS,
        "customer_id",
        on_time=Q(first_contact_due_at__isnull=True) | Q(first_contacted_at__lte=F("first_contact_due_at")),
        on_time_metric=Metric.CONTACTED_ON_TIME,
        attributed=False,
    ),
    # Net new money: external inflows and outflows of the book's customers (detail: the
    # direction), summed by amount; net = in − out.
    Metric.NET_NEW_MONEY: Source(
        Metric.NET_NEW_MONEY,
        _flows,
        "occurred_at",
        OWNER_DIMS,
        "customer_id",
        detail="direction",
        amount="amount",
        attributed=False,
    ),
}

# The funnel's stages in order (seed 002's three layers, then the branch's work).
FUNNEL = (
    Metric.REACHED_CAMPAIGN,
    Metric.REACHED_AI,
    Metric.PROPOSED,
    Metric.CONFIRMED,
    Metric.REFERRED,
    Metric.ACCEPTED,
    Metric.CONVERTED,
)
