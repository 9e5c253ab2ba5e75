"""Who a campaign would reach, and the exclusion funnel (排除漏斗) before launch.

Reads only: the segment's members now, then each reason a member drops, in order, each
counted on the members still left — kept out by predicted uplift (a segment that keeps only
its most persuadable: would convert anyway, would not respond), already in the campaign, the global holdout, unsuitable
for the campaign's product, then the contact ledger's rules on the first contact step's
channel (``customers.services.ledger``). Quiet hours do not drop anybody (a contact is held
until the window opens): the funnel says how many would be held now. Customers aged 65 or
over offered an R4/R5 product stay in, flagged for a second review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import LEDGER_COUNTED, Channel, ContactLedgerEntry, Customer, LedgerSource
from customers.services.ledger import ledger_check
from customers.suitability import SECOND_REVIEW_AGE, SECOND_REVIEW_MIN_RISK

from .holdout import LEGACY_SALT, held_out_q, holdout_current
from .models import Campaign, CampaignStep, HoldoutDraw, StepKind, UpliftKeep
from .services.segments import segment_members
from .uplift_cut import uplift_cut, uplift_dropped

REASONS = {
    # targeting by uplift (campaigns.uplift): members the segment does not keep
    "would_convert_anyway": _("Would convert anyway (kept out by predicted uplift)"),
    "would_not_respond": _("Would not respond (kept out by predicted uplift)"),
    "already_in_campaign": _("Already in the campaign"),
    "holdout": _("Global holdout (control group)"),
    "unsuitable": _("Unsuitable for the campaign's product"),
    "no_consent": _("No consent on the channel"),
    "do_not_disturb": _("Do-not-disturb"),
    "automated_opt_out": _("Refused automated marketing"),
    "cooling_off": _("Cooling-off period"),
    "channel_cap": _("Frequency cap on the channel"),
    "total_cap": _("Frequency cap over all channels"),
}
# The first draw's salt: today's holdout of the base before draws (kept for callers).
HASH_MULTIPLIER = LEGACY_SALT


def holdout_q(draw: HoldoutDraw | None = None, field: str = "pk") -> Q:
    """Customers of the global holdout under ``draw`` (default: the one in force today):
    the same customers for every campaign, by a salted hash of the id
    (``campaigns.holdout``), so measurement can compare."""
    return held_out_q(draw or holdout_current(), field)


def first_contact_channel(campaign: Campaign) -> str | None:
    step = (
        CampaignStep.objects.filter(campaign=campaign, version=campaign.journey_version)
        .exclude(kind__in=(StepKind.WAIT, StepKind.BRANCH))
        .order_by("position")
        .only("kind", "channel")
        .first()
    )
    if step is None:
        return None
    return Channel.PHONE if step.kind == StepKind.CALL_TASK else step.channel


def unsuitable_q(product, now: dt.datetime) -> Q:
    """Customers a product-bound campaign must not target: risk tolerance below the
    product's risk, or no valid risk assessment."""
    cutoff = now - dt.timedelta(days=settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS)
    return (
        Q(risk_level__isnull=True)
        | Q(risk_level__lt=product.risk_level)
        | Q(risk_assessed_at__isnull=True)
        | Q(risk_assessed_at__lte=cutoff)
    )


def second_review_q(now: dt.datetime) -> Q:
    today = timezone.localtime(now).date()
    try:
        born_by = today.replace(year=today.year - SECOND_REVIEW_AGE)
    except ValueError:
        born_by = today.replace(year=today.year - SECOND_REVIEW_AGE, day=28)
    return Q(birth_date__lte=born_by)


@dataclass
class Funnel:
    members: int
    rows: list[dict] = field(default_factory=list)  # {code, label, dropped, left}
    reached: int = 0
    held_for_window: int = 0
    hold_until: dt.datetime | None = None
    second_review: int = 0
    channel: str | None = None


def exclusion_funnel(*, campaign: Campaign, now: dt.datetime | None = None) -> Funnel | None:
    """The funnel of the campaign's segment now (None without a segment)."""
    if campaign.audience_id is None:
        return None
    now = now or timezone.now()
    segment = campaign.audience
    members = segment_members(segment=segment, base=Customer.objects.all(), uplift=False)
    ids = list(members.order_by().values_list("pk", flat=True))
    funnel = Funnel(members=len(ids))
    left = set(ids)

    def drop(code: str, gone) -> None:
        gone = set(gone) & left
        left.difference_update(gone)
        funnel.rows.append({"code": code, "label": REASONS[code], "dropped": len(gone), "left": len(left)})

    if segment.uplift_keep != UpliftKeep.ALL:
        # The cut comes first, as at entry (segment_members): the rules below count on the kept.
        kept = uplift_cut(segment=segment, members=members)
        anyway, no_response = uplift_dropped(members=members, kept=kept, ids=ids)
        drop("would_convert_anyway", anyway)
        drop("would_not_respond", no_response)
        members = kept
    in_campaign = ContactLedgerEntry.objects.filter(
        source=LedgerSource.CAMPAIGN, source_id=campaign.pk, status__in=LEDGER_COUNTED
    ).values_list("customer_id", flat=True)
    drop("already_in_campaign", in_campaign.distinct())
    drop("holdout", members.order_by().filter(holdout_q()).values_list("pk", flat=True))
    product = campaign.product
    if product is not None:
        drop("unsuitable", members.filter(unsuitable_q(product, now)).values_list("pk", flat=True))
    funnel.channel = first_contact_channel(campaign)
    if funnel.channel:
        # The whole segment as one sub-select per rule (no ids sent), then those still left.
        check = ledger_check(customer_ids=members, channel=funnel.channel, now=now)
        for code in ("no_consent", "do_not_disturb", "automated_opt_out", "cooling_off", "channel_cap", "total_cap"):
            drop(code, [cid for cid, c in check.blocked.items() if c == code])
        funnel.hold_until = check.hold_until
        funnel.held_for_window = len(left) if check.hold_until else 0
    funnel.reached = len(left)
    if product is not None and product.risk_level >= SECOND_REVIEW_MIN_RISK and left:
        older = set(members.filter(second_review_q(now)).values_list("pk", flat=True))
        funnel.second_review = len(older & left)
    return funnel


def _dates_overlap(a: Campaign, b: Campaign) -> bool:
    """Open ends overlap everything on that side."""
    a_start, b_start = a.starts_on or dt.date.min, b.starts_on or dt.date.min
    a_end, b_end = a.ends_on or dt.date.max, b.ends_on or dt.date.max
    return a_start <= b_end and b_start <= a_end


def audience_overlaps(campaigns: list[Campaign]) -> dict[int, list[dict]]:
    """For each campaign, the others running at the same time whose segments share
    customers, with how many: {campaign id: [{"other": campaign, "shared": n}, …]}."""
    overlaps: dict[int, list[dict]] = {c.pk: [] for c in campaigns}
    with_audience = [c for c in campaigns if c.audience_id is not None]
    members = {}
    for i, a in enumerate(with_audience):
        for b in with_audience[i + 1 :]:
            if not _dates_overlap(a, b):
                continue
            for c in (a, b):
                if c.audience_id not in members:
                    members[c.audience_id] = segment_members(segment=c.audience).order_by().values("pk")
            shared = (
                segment_members(segment=a.audience).filter(pk__in=members[b.audience_id]).order_by().count()
                if a.audience_id != b.audience_id
                else a.audience.member_count
            )
            if shared:
                overlaps[a.pk].append({"other": b, "shared": shared})
                overlaps[b.pk].append({"other": a, "shared": shared})
    return overlaps
