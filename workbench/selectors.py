"""Reads of the home page: the figures each role sees, from every app below."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from calls.access import can_work_queues
from calls.selectors import QUEUE_LABELS, queue_counts
from core.models import AuditEvent, Job
from core.pagination import capped_count, count_cap
from core.templatetags.formatting import cny
from customers.filters import CustomerFilter
from customers.models import Customer, Holding
from customers.selectors import customers_for_list
from leads.models import Grade
from leads.selectors import leads_to_confirm
from org.roles import ALL_SEEING_ROLES, Role, role_of
from referrals.models import Referral, ReferralStatus

from .access import can_view_audit_log


@dataclass(frozen=True)
class Stat:
    key: str
    label: str | Promise
    value: int | str
    hint: str | Promise = ""
    # The page that lists exactly the rows counted (same selector, same filter), so the
    # figure and the list always agree; and the one-line definition shown on hover.
    href: str = ""
    definition: str | Promise = ""
    # When the figure was computed, for figures served from a cache ("as of HH:MM").
    as_of: dt.datetime | None = None


HOME_GLOBAL_CACHE_SECONDS = 300
HOME_BOOK_CACHE_SECONDS = 60


def _book_cache_key(user, role: str | None) -> tuple[str, int] | None:
    """The cache key and lifetime of the role's book sums, or None for no book figures.

    The book is what the customer list shows the user (``Customer.objects.restrict(user,
    "view")``): an advisor's own customers and their team's open leads, a team lead's
    team's customers and leads, everyone for compliance and administrators.
    """
    if role in (Role.ADVISOR, Role.TEAM_LEAD):
        return f"workbench:home:book:{user.pk}", HOME_BOOK_CACHE_SECONDS
    if role in ALL_SEEING_ROLES:
        return "workbench:home:book:all", HOME_GLOBAL_CACHE_SECONDS
    return None


def _book_sums(user) -> dict:
    """The book's AUM and holdings maturing in 30 days: sums over every row of the book,
    which no index bounds (hundreds of ms at a million customers), so they are cached
    and say when they were counted."""
    now = timezone.now()
    book = Customer.objects.restrict(user, "view")
    today = timezone.localdate()
    return {
        "aum": book.aggregate(aum=Sum("aum"))["aum"],
        "maturing": Holding.objects.filter(
            maturity_date__range=(today, today + dt.timedelta(days=30)), customer__in=book.values("pk")
        ).count(),
        "as_of": now,
    }


def _book_counts(user) -> dict[str, int]:
    """The customer list's own capped counts, live: all of it, and the two filters the
    figures link to (``CustomerFilter`` itself, so figure and list are the same rows).

    Each is one bounded COUNT that stops at the cap, over the rule's disjoint parts
    (``Customer.objects.view_parts``: the owned customers, then the team's granted ones)
    read one after the other, so it reads about cap rows from an index instead of
    scanning the table for the rule's OR. Below the cap it is the exact count, above it
    "cap+", as on the list."""
    book = customers_for_list(user=user).order_by()
    parts = Customer.objects.view_parts(user)
    # The list's own conditions (the filter's methods), without building and validating
    # its form once per figure (three forms were most of the page's Python time).
    conditions = CustomerFilter(queryset=book).filters

    def count(rows) -> int:
        return _capped_count_of_parts([rows.filter(part).values("pk") for part in parts])

    return {
        "n": count(book),
        "expired": count(conditions["assessment_expired"].filter(book, "true")),
        "stale": count(conditions["not_contacted_days"].filter(book, 90)),
    }


def _capped_count_of_parts(parts: list) -> int:
    """``capped_count`` of the union of disjoint querysets: ``UNION ALL`` under the cap's
    LIMIT, which reads the parts in order and stops at cap + 1 rows."""
    first, *rest = parts
    if not rest:
        return capped_count(first)
    return first.union(*rest, all=True)[: count_cap() + 1].count()


def home_stats(*, user) -> list[Stat]:
    """The figures on the user's home page, each the count of a list it links to.

    Lead and referral figures are counted live with the queue tabs' own selectors (capped
    like the tabs), so the home page never lags the queue. The book's counts are the
    customer list's own capped counts, live (``_book_counts``); only its sums (AUM, holdings
    maturing) are cached, saying "as of HH:MM" (``_book_sums``).
    """
    role = role_of(user)
    now = timezone.now()
    stats: list[Stat] = []
    book_cache = _book_cache_key(user, role)
    cap = count_cap()

    def shown(n: int) -> str:
        return f"{cap}+" if n > cap else str(n)

    if book_cache is not None:
        # The counts the customer list shows are its own capped counts, live (bounded
        # queries); only the sums over the whole book are cached, and say when.
        counts = _book_counts(user)
        sums = cache.get_or_set(book_cache[0], lambda: _book_sums(user), book_cache[1])
        as_of = sums["as_of"]
        customers = reverse("customers:list")
        stats.append(
            Stat(
                "customers",
                _("Customers in my book") if role == Role.ADVISOR else _("Customers"),
                shown(counts["n"]),
                href=customers,
                definition=_("The customers on the customer list: the ones you own or your team works."),
            )
        )
        stats.append(
            Stat(
                "aum",
                _("AUM (10k CNY)"),
                f"{(sums['aum'] or 0) / 10_000:,.0f}",
                definition=_("The assets under management of those customers, in ten thousands of CNY."),
                as_of=as_of,
            )
        )
        stats.append(
            Stat(
                "risk_expired",
                _("Risk assessment expired or missing"),
                shown(counts["expired"]),
                _("No sale until reassessed"),
                href=f"{customers}?assessment_expired=true",
                definition=_("Customers whose risk assessment is older than its validity or was never done."),
            )
        )
        stats.append(
            Stat(
                "not_contacted",
                _("Not contacted in 90 days"),
                shown(counts["stale"]),
                href=f"{customers}?not_contacted_days=90",
                definition=_("Customers with no recorded contact in the last 90 days, or none at all."),
            )
        )
        stats.append(
            Stat(
                "maturing",
                _("Holdings maturing in 30 days"),
                sums["maturing"],
                definition=_("Holdings of those customers that mature between today and 30 days from now."),
                as_of=as_of,
            )
        )
    if can_work_queues(user):
        # The queue tabs' own counts (calls.selectors.queue_counts), live and capped like
        # the tabs: the home page and the queue never disagree.
        counts = queue_counts(user=user, now=now)
        high = capped_count(leads_to_confirm(user=user).filter(proposed_grade=Grade.HIGH))
        queue = reverse("calls:queue")

        stats.append(
            Stat(
                "leads_new",
                QUEUE_LABELS["confirm"],
                shown(counts["confirm"]),
                _("of which high: %(n)s") % {"n": shown(high)},
                href=f"{queue}?tab=confirm",
                definition=_("New leads whose grade is still to confirm, as on the queue's first tab."),
            )
        )
        stats.append(
            Stat(
                "leads_unclaimed",
                _("Unclaimed team leads"),
                shown(capped_count(leads_to_confirm(user=user).filter(owner__isnull=True))),
                href=f"{queue}?tab=confirm",
                definition=_("New leads of your team that nobody has claimed yet."),
            )
        )
        stats.append(
            Stat(
                "leads_today",
                QUEUE_LABELS["today"],
                shown(counts["today"]),
                href=f"{queue}?tab=today",
                definition=_("Planned calls due by the end of today, overdue ones included."),
            )
        )
        stats.append(
            Stat(
                "leads_nurturing",
                QUEUE_LABELS["nurturing"],
                shown(counts["nurturing"]),
                href=f"{queue}?tab=nurturing",
                definition=_("Leads in a nurture plan."),
            )
        )
        stats.append(
            Stat(
                "leads_pooled",
                QUEUE_LABELS["pool"],
                shown(counts["pool"]),
                href=f"{queue}?tab=pool",
                definition=_("The team's leads waiting in the incubation pool."),
            )
        )
    if role in (Role.ADVISOR, Role.TEAM_LEAD, Role.BRANCH_MANAGER, Role.BRANCH_RM, Role.ADMIN):
        referrals = Referral.objects.restrict(user, "view")
        if role == Role.BRANCH_RM:
            referrals = referrals.filter(assigned_rm=user)
        agg = referrals.aggregate(
            pending=Count("id", filter=Q(status=ReferralStatus.PENDING)),
            active=Count(
                "id", filter=Q(status__in=[ReferralStatus.ACCEPTED, ReferralStatus.CONTACTED, ReferralStatus.MEETING])
            ),
            converted=Count("id", filter=Q(status=ReferralStatus.CONVERTED)),
            converted_amount=Sum("converted_amount", filter=Q(status=ReferralStatus.CONVERTED)),
        )
        stats.append(Stat("referrals_pending", _("Referrals pending review"), agg["pending"]))
        stats.append(Stat("referrals_active", _("Referrals in follow-up"), agg["active"]))
        stats.append(
            Stat(
                "referrals_converted",
                _("Referrals converted"),
                agg["converted"],
                cny(agg["converted_amount"] or 0, 0),  # as the referral dashboard writes it
            )
        )
    if can_view_audit_log(user):
        since = now - dt.timedelta(days=1)
        stats.append(
            Stat("audit_24h", _("Audit events in 24 h"), AuditEvent.objects.filter(occurred_at__gte=since).count())
        )
    if role == Role.ADMIN:
        stats.append(
            Stat("jobs_running", _("Background jobs running"), Job.objects.filter(status=Job.Status.RUNNING).count())
        )
    return stats
