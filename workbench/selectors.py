"""Reads of the home page: the figures each role sees, from every app below."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from calls.access import can_work_queues
from core.models import AuditEvent, Job
from customers.models import Customer, Holding
from leads.models import Grade, Lead, LeadStatus
from org.models import StaffProfile
from org.roles import ALL_SEEING_ROLES, Role, role_of
from referrals.models import Referral, ReferralStatus

from .access import can_view_audit_log


@dataclass(frozen=True)
class Stat:
    key: str
    label: str | Promise
    value: int | str
    hint: str | Promise = ""


HOME_GLOBAL_CACHE_SECONDS = 300
HOME_BOOK_CACHE_SECONDS = 60


def _book_scope(user, role: str | None) -> dict | None:
    """The customer book a home page counts, as a filter each index can serve.

    The home page shows the book a person works, not everything they may open: an
    advisor's own customers (owner index), a team lead's team's customers, everyone
    for compliance and administrators. None means no book figures for the role.
    """
    profile = getattr(user, "staff_profile", None)
    if role == Role.ADVISOR:
        return {"owner_id": user.pk}
    if role == Role.TEAM_LEAD:
        advisors = list(
            StaffProfile.objects.filter(team_id=profile.team_id, role=Role.ADVISOR).values_list("user_id", flat=True)
        )
        return {"owner_id__in": advisors}
    if role in ALL_SEEING_ROLES:
        return {}
    return None


def _book_stats(scope: dict) -> dict:
    now = timezone.now()
    expiry_cutoff = now - dt.timedelta(days=settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS)
    agg = Customer.objects.filter(**scope).aggregate(
        n=Count("id"),
        aum=Sum("aum"),
        expired=Count("id", filter=Q(risk_assessed_at__lt=expiry_cutoff) | Q(risk_assessed_at__isnull=True)),
        stale=Count("id", filter=Q(last_contact_at__lt=now - dt.timedelta(days=90)) | Q(last_contact_at__isnull=True)),
    )
    today = timezone.localdate()
    holding_scope = {f"customer__{k}": v for k, v in scope.items()}
    agg["maturing"] = Holding.objects.filter(
        maturity_date__range=(today, today + dt.timedelta(days=30)), **holding_scope
    ).count()
    return agg


def home_stats(*, user) -> list[Stat]:
    """The figures on the user's home page, one aggregate query per group of figures.

    Each group reads one index (owner, team, branch). Book figures are cached for
    HOME_BOOK_CACHE_SECONDS; the bank-wide ones that compliance and administrators see
    scan every customer, so they are cached for HOME_GLOBAL_CACHE_SECONDS.
    """
    role = role_of(user)
    now = timezone.now()
    stats: list[Stat] = []
    profile = getattr(user, "staff_profile", None)
    scope = _book_scope(user, role)
    if scope is not None:
        # A book's figures change slowly and cost a scan of the book: a minute's cache
        # keeps an advisor's home instant on every return to it.
        key = f"workbench:home:book:{role}:{user.pk if scope else 'all'}"
        ttl = HOME_BOOK_CACHE_SECONDS if scope else HOME_GLOBAL_CACHE_SECONDS
        agg = cache.get_or_set(key, lambda: _book_stats(scope), ttl)
        book_label = _("Customers in my book") if role == Role.ADVISOR else _("Customers")
        stats.append(Stat("customers", book_label, agg["n"]))
        stats.append(Stat("aum", _("AUM (10k CNY)"), f"{(agg['aum'] or 0) / 10_000:,.0f}"))
        stats.append(
            Stat("risk_expired", _("Risk assessment expired or missing"), agg["expired"], _("No sale until reassessed"))
        )
        stats.append(Stat("not_contacted", _("Not contacted in 90 days"), agg["stale"]))
        stats.append(Stat("maturing", _("Holdings maturing in 30 days"), agg["maturing"]))
    if can_work_queues(user):
        # The team's lead queue (team index); administrators see the bank-wide figure.
        leads = Lead.objects.open()
        if role != Role.ADMIN:
            leads = leads.filter(team_id=profile.team_id)
        if role == Role.ADVISOR:
            # What the advisor's own queues hold: unclaimed team leads and their own.
            leads = leads.filter(Q(owner__isnull=True) | Q(owner=user))

        def lead_stats():
            return leads.aggregate(
                new=Count("id", filter=Q(status=LeadStatus.NEW)),
                high=Count("id", filter=Q(status=LeadStatus.NEW, proposed_grade=Grade.HIGH)),
                unclaimed=Count("id", filter=Q(status=LeadStatus.NEW, owner__isnull=True)),
                nurturing=Count("id", filter=Q(status=LeadStatus.NURTURING)),
                pooled=Count("id", filter=Q(status=LeadStatus.POOLED)),
            )

        if role == Role.ADMIN:
            agg = cache.get_or_set("workbench:home:leads:all", lead_stats, HOME_GLOBAL_CACHE_SECONDS)
        else:
            # A team's queue holds 100k+ open leads at scale; the queue pages show live
            # counts, the home page a figure at most a minute old.
            key = f"workbench:home:leads:{role}:{user.pk if role == Role.ADVISOR else profile.team_id}"
            agg = cache.get_or_set(key, lead_stats, HOME_BOOK_CACHE_SECONDS)
        stats.append(
            Stat("leads_new", _("Leads to confirm"), agg["new"], _("of which high: %(n)s") % {"n": agg["high"]})
        )
        stats.append(Stat("leads_unclaimed", _("Unclaimed team leads"), agg["unclaimed"]))
        stats.append(Stat("leads_nurturing", _("Nurturing"), agg["nurturing"]))
        stats.append(Stat("leads_pooled", _("Incubation pool"), agg["pooled"]))
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
                _("%(amount)s (10k CNY)") % {"amount": f"{(agg['converted_amount'] or 0) / 10_000:,.1f}"},
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
