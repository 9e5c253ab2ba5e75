"""Reads of the customer domain. Every read starts from ``Customer.objects.visible_to(user)``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import StaffProfile
from org.roles import Role, role_of

from .models import (
    AccessRecord,
    AssetSnapshot,
    ContactPreference,
    Customer,
    CustomerTag,
    Holding,
    ImportBatch,
    Interaction,
    Tag,
    TagCategory,
    TagSource,
)
from .suitability import suitable_products


def customer_get_for_user(*, user, pk) -> Customer:
    """The customer ``pk`` if ``user`` may see it, else Http404 (never 403: no existence leak)."""
    try:
        return Customer.objects.visible_to(user).select_related("home_branch", "owner__staff_profile").get(pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- list ---------------------------------------------------------------------------------------


def _visible_for_lists(user) -> QuerySet[Customer]:
    """``Customer.objects.visible_to(user)`` with the same rows, planned for big lists.

    For advisors and team leads the rule is "owned (by me / my team) OR in my team's open
    leads". Written as an ORM ``Exists`` under ``OR``, PostgreSQL hashes every open lead of
    the team (100,000+ rows at 1M customers, ~250 ms) before returning the first page.
    ``OFFSET 0`` keeps the sub-select a per-row probe of the unique open-lead index, so the
    first page walks the AUM index and stops after 50 rows (~10 ms). Tested equal to
    visible_to in test_selectors.
    """
    from leads.models import OPEN_LEAD_STATUSES, Lead

    role = role_of(user)
    profile = getattr(user, "staff_profile", None)
    if (
        role not in (Role.ADVISOR, Role.TEAM_LEAD)
        or profile is None
        or profile.team_id is None
        or connection.vendor != "postgresql"  # OFFSET 0 is a PostgreSQL planner fence
    ):
        return Customer.objects.visible_to(user)
    customer_table = Customer._meta.db_table
    lead_table = Lead._meta.db_table
    placeholders = ", ".join(["%s"] * len(OPEN_LEAD_STATUSES))
    in_team_leads = (
        f"EXISTS (SELECT 1 FROM {lead_table} l WHERE l.customer_id = {customer_table}.id "  # noqa: S608
        f"AND l.team_id = %s AND l.status IN ({placeholders}) OFFSET 0)"
    )
    statuses = [str(s) for s in OPEN_LEAD_STATUSES]
    if role == Role.ADVISOR:
        where = f"({customer_table}.owner_id = %s OR {in_team_leads})"
        params = [user.pk, profile.team_id, *statuses]
    else:
        staff_table = StaffProfile._meta.db_table
        where = (
            f"({customer_table}.owner_id IN (SELECT user_id FROM {staff_table} WHERE team_id = %s) "  # noqa: S608
            f"OR {in_team_leads})"
        )
        params = [profile.team_id, profile.team_id, *statuses]
    return Customer.objects.extra(where=[where], params=params)  # noqa: S610 - identifiers from models only


def customers_for_list(*, user) -> QuerySet[Customer]:
    """The customer list's base queryset (filters and search are applied by CustomerFilter)."""
    return (
        _visible_for_lists(user)
        .select_related("home_branch", "owner__staff_profile")
        .only(
            "id",
            "customer_no",
            "name",
            "gender",
            "birth_date",
            "tier",
            "aum",
            "risk_level",
            "risk_assessed_at",
            "lifecycle_stage",
            "last_contact_at",
            "mobile",
            "home_branch__name",
            "owner__username",
            "owner__staff_profile__display_name",
        )
    )


# --- the portrait -----------------------------------------------------------------------------


EXPIRY_WARNING_DAYS = 30
MATURITY_HIGHLIGHT_DAYS = 30


@dataclass
class PortraitHeader:
    customer: Customer
    aum_30d_ago: Decimal | None
    aum_change: Decimal | None
    aum_change_pct: float | None
    risk_expires_at: dt.datetime | None
    risk_status: str  # "missing" | "expired" | "expiring" | "valid"
    contact_preferences: list[ContactPreference]
    next_callback: object | None  # leads.PlannedCall


def portrait_header(*, customer: Customer) -> PortraitHeader:
    today = timezone.localdate()
    old = (
        AssetSnapshot.objects.filter(customer=customer, date__lte=today - dt.timedelta(days=30))
        .order_by("-date")
        .values_list("aum", flat=True)
        .first()
    )
    change = pct = None
    if old is not None:
        change = customer.aum - old
        pct = float(change / old * 100) if old else None
    expires = customer.risk_expires_at
    now = timezone.now()
    if expires is None:
        risk_status = "missing"
    elif expires <= now:
        risk_status = "expired"
    elif expires <= now + dt.timedelta(days=EXPIRY_WARNING_DAYS):
        risk_status = "expiring"
    else:
        risk_status = "valid"
    prefs = list(ContactPreference.objects.filter(customer=customer).order_by("channel"))
    next_callback = _next_callback(customer)
    return PortraitHeader(customer, old, change, pct, expires, risk_status, prefs, next_callback)


def _next_callback(customer: Customer):
    from leads.models import PlannedCall, PlannedCallStatus

    return (
        PlannedCall.objects.filter(customer=customer, status=PlannedCallStatus.PLANNED)
        .select_related("advisor__staff_profile")
        .order_by("due_at")
        .first()
    )


@dataclass
class AssetsTab:
    chart: dict
    mix: list[tuple[str, Decimal, float]]
    holdings: list[Holding]
    maturing_soon_total: Decimal
    highlight_until: dt.date


def portrait_assets(*, customer: Customer) -> AssetsTab:
    snapshots = list(
        AssetSnapshot.objects.filter(customer=customer)
        .order_by("date")
        .values_list("date", "aum", "deposits", "wealth", "funds", "insurance", "other")
    )
    chart = {
        "labels": [s[0].isoformat() for s in snapshots],
        "aum": [float(s[1]) for s in snapshots],
        "label": str(_("AUM (CNY)")),
    }
    mix: list[tuple[str, Decimal, float]] = []
    if snapshots:
        last = snapshots[-1]
        parts = [
            (_("Deposits"), last[2]),
            (_("Wealth products"), last[3]),
            (_("Funds"), last[4]),
            (_("Insurance"), last[5]),
            (_("Other"), last[6]),
        ]
        total = sum((p[1] for p in parts), Decimal("0")) or Decimal("1")
        mix = [(str(label), amount, float(amount / total * 100)) for label, amount in parts if amount]
    holdings = list(
        Holding.objects.filter(customer=customer)
        .select_related("product")
        .order_by(F("maturity_date").asc(nulls_last=True), "id")
    )
    until = timezone.localdate() + dt.timedelta(days=MATURITY_HIGHLIGHT_DAYS)
    today = timezone.localdate()
    soon = Decimal("0")
    for h in holdings:
        h.matures_soon = h.maturity_date is not None and today <= h.maturity_date <= until
        if h.matures_soon:
            soon += h.amount
    return AssetsTab(chart, mix, holdings, soon, until)


def portrait_tags(*, customer: Customer) -> dict:
    assignments = list(
        CustomerTag.objects.filter(customer=customer).select_related("tag").order_by("tag__category", "tag__code")
    )
    groups: dict[str, list[CustomerTag]] = {}
    labels = dict(TagCategory.choices)
    for a in assignments:
        groups.setdefault(a.tag.category, []).append(a)
    grouped = [(labels.get(cat, cat), items) for cat, items in groups.items()]
    held = {a.tag_id for a in assignments}
    addable = [t for t in Tag.objects.filter(source=TagSource.MANUAL).order_by("category", "code") if t.pk not in held]
    return {"groups": grouped, "addable": addable, "count": len(assignments)}


INTERACTIONS_PER_PAGE = 50


def portrait_interactions(*, customer: Customer, before_id: int | None = None) -> dict:
    """A page of the timeline, newest first; keyset-paged so page N costs as much as page 1."""
    qs = Interaction.objects.filter(customer=customer).select_related("actor__staff_profile")
    if before_id:
        pivot = (
            Interaction.objects.filter(customer=customer, pk=before_id).values_list("occurred_at", flat=True).first()
        )
        if pivot is not None:
            qs = qs.filter(Q(occurred_at__lt=pivot) | Q(occurred_at=pivot, id__lt=before_id))
    items = list(qs.order_by("-occurred_at", "-id")[: INTERACTIONS_PER_PAGE + 1])
    more = len(items) > INTERACTIONS_PER_PAGE
    items = items[:INTERACTIONS_PER_PAGE]
    return {"items": items, "more": more, "last_id": items[-1].pk if items else None}


def portrait_needs(*, customer: Customer) -> dict:
    """Model outputs when scoring has run, and what the data itself says."""
    from scoring.models import CustomerScore

    score = CustomerScore.objects.filter(customer=customer).first()
    since = timezone.now() - dt.timedelta(days=90)
    intents: dict[str, int] = {}
    for row in (
        Interaction.objects.filter(customer=customer, occurred_at__gte=since)
        .exclude(intents=[])
        .values_list("intents", flat=True)[:500]
    ):
        for code in row or []:
            intents[code] = intents.get(code, 0) + 1
    today = timezone.localdate()
    maturing = Holding.objects.filter(
        customer=customer, maturity_date__gte=today, maturity_date__lte=today + dt.timedelta(days=30)
    ).aggregate(total=Sum("amount"), n=Count("id"))
    signals = []
    intent_labels = INTENT_LABELS()
    for code, n in sorted(intents.items(), key=lambda kv: -kv[1]):
        signals.append(
            _("AI bot: %(intent)s (%(n)s times in 90 days)") % {"intent": intent_labels.get(code, code), "n": n}
        )
    if maturing["n"]:
        signals.append(
            _("%(n)s holding(s) worth %(amount)s CNY mature within 30 days: a reinvestment conversation is due.")
            % {"n": maturing["n"], "amount": f"{maturing['total']:,.2f}"}
        )
    if customer.risk_expired:
        signals.append(_("The risk assessment is missing or expired: invite the customer to reassess."))
    return {"score": score, "signals": signals, "intents": intents}


def INTENT_LABELS() -> dict[str, str]:  # noqa: N802 - a constant-like mapping, translated per call
    return {
        "ask_wealth_product": str(_("asked about wealth products")),
        "ask_fund": str(_("asked about funds")),
        "ask_maturity": str(_("asked about a maturity or reinvestment")),
        "ask_pension": str(_("asked about pensions or retirement")),
        "ask_human": str(_("asked for a human advisor")),
        "not_interested": str(_("said they were not interested")),
        "complaint": str(_("complained")),
    }


def portrait_suitability(*, customer: Customer) -> dict:
    verdicts = suitable_products(customer=customer)
    return {
        "allowed": [(p, v) for p, v in verdicts if v.allowed],
        "excluded": [(p, v) for p, v in verdicts if not v.allowed],
    }


def portrait_leads(*, customer: Customer) -> dict:
    from leads.models import Lead
    from referrals.models import Referral

    leads = list(
        Lead.objects.filter(customer=customer)
        .select_related("owner__staff_profile", "team")
        .order_by("-created_at", "-id")[:50]
    )
    referrals = list(
        Referral.objects.filter(customer=customer)
        .select_related("branch", "from_advisor__staff_profile", "assigned_rm__staff_profile")
        .order_by("-created_at", "-id")[:50]
    )
    return {"leads": leads, "referrals": referrals}


# --- PIPL ------------------------------------------------------------------------------------


def access_records_list(*, user) -> QuerySet[AccessRecord]:
    """Access records for compliance and administrators (others see nothing)."""
    if role_of(user) not in (Role.COMPLIANCE, Role.ADMIN):
        return AccessRecord.objects.none()
    return AccessRecord.objects.select_related("user__staff_profile", "customer").only(
        "id",
        "kind",
        "fields",
        "reason",
        "occurred_at",
        "ip_address",
        "request_id",
        "details",
        "user__username",
        "user__staff_profile__display_name",
        "customer__customer_no",
        "customer__name",
    )


def import_batches_for(*, user) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.select_related("created_by__staff_profile", "job")
    if role_of(user) == Role.ADMIN:
        return qs
    return qs.filter(created_by=user)
