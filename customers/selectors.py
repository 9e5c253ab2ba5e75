"""Reads of the customer domain. Every read of customers starts from
``Customer.objects.restrict(user, action)`` (the rule is in ``customers.models``, its
one-customer form in ``customers.access``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import get_for_user
from core.templatetags.formatting import cny
from org.models import Branch

from .extensions import PORTRAIT_FACTS
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


def customer_get_for_user(*, user, pk, action: str = "view") -> Customer:
    """The customer ``pk`` if ``user`` may ``action`` it, else Http404 (never 403: no
    existence leak). The owner's profile comes along: the header shows it and the access
    predicates read it."""
    return get_for_user(
        Customer.objects.select_related("home_branch", "owner__staff_profile"), user=user, pk=pk, action=action
    )


# --- list ---------------------------------------------------------------------------------------


def customers_for_list(*, user) -> QuerySet[Customer]:
    """The customer list's base queryset (filters and search are applied by CustomerFilter)."""
    return (
        Customer.objects.restrict(user, "view")
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
    facts: list[tuple[str, str | None]]  # (label, value) of each PORTRAIT_FACTS entry


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
    facts = [(str(fact.label), fact.value(customer)) for fact in PORTRAIT_FACTS.entries()]
    return PortraitHeader(customer, old, change, pct, expires, risk_status, prefs, facts)


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


def portrait_signals(*, customer: Customer) -> dict:
    """What the customer's own data says about their needs (the scoring app's "needs" tab
    shows it beside the model score): AI-bot intents of the last 90 days, holdings
    maturing within 30 days, a missing or expired risk assessment.

    Returns ``{"signals": [sentence, ...], "intents": {code: times}}``.
    """
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
            _("%(n)s holding(s) worth %(amount)s mature within 30 days: a reinvestment conversation is due.")
            % {"n": maturing["n"], "amount": cny(maturing["total"])}
        )
    if customer.risk_expired:
        signals.append(_("The risk assessment is missing or expired: invite the customer to reassess."))
    return {"signals": signals, "intents": intents}


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


# --- PIPL ------------------------------------------------------------------------------------


def access_records_list(*, user) -> QuerySet[AccessRecord]:
    """Access records for compliance and administrators (others see nothing)."""
    return (
        AccessRecord.objects.restrict(user, "view")
        .select_related("user__staff_profile", "customer")
        .only(
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
            "user__staff_profile__employee_no",  # shown beside the name: deferred, it cost a query a row
            "customer__customer_no",
            "customer__name",
        )
    )


def import_batches_for(*, user) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.restrict(user, "view").select_related("created_by__staff_profile", "job")


def import_batch_get_for_user(*, user, pk) -> ImportBatch:
    """The uploaded file ``pk`` if ``user`` may see it, else Http404."""
    return get_for_user(ImportBatch.objects.select_related("job"), user=user, pk=pk)


def branches_for_import() -> list[tuple[str, str]]:
    """(code, name) of every branch: the codes an import's home-branch column takes."""
    return list(Branch.objects.order_by("code").values_list("code", "name"))
