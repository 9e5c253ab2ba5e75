"""Reads of the referral workflow. Every read starts from ``Referral.objects.restrict``
(``referrals.access`` says the same rule object by object)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.access import get_for_user
from customers.models import Customer, Holding, Interaction
from leads.models import Lead
from org.models import StaffProfile
from org.roles import Role, role_of

from .filters import ReferralFilter
from .models import FollowUp, Referral, ReferralEvent, ReferralStatus, SlaBreach

S = ReferralStatus
WORKING = (S.ACCEPTED, S.CONTACTED, S.MEETING)
CLOSED = (S.REJECTED, S.CONVERTED, S.LOST, S.RETURNED)

# Tabs of the list page per role: (key, label). The first one is the default.
TABS = {
    Role.ADVISOR: [("mine", _("Referred by me")), ("active", _("In progress")), ("closed", _("Closed"))],
    Role.BRANCH_MANAGER: [
        ("inbox", _("To review")),
        ("active", _("In progress")),
        ("overdue", _("Overdue")),
        ("closed", _("Closed")),
        ("all", _("All")),
    ],
    Role.BRANCH_RM: [("assigned", _("My referrals")), ("closed_mine", _("My closed")), ("all", _("Branch"))],
}
DEFAULT_TABS = [
    ("all", _("All")),
    ("inbox", _("Pending review")),
    ("active", _("In progress")),
    ("overdue", _("Overdue")),
    ("closed", _("Closed")),
]


def tabs_for(user) -> list[tuple[str, str]]:
    return TABS.get(role_of(user), DEFAULT_TABS)


def _overdue_q(now: dt.datetime) -> Q:
    return Q(status=S.PENDING, review_due_at__lt=now) | Q(
        status=S.ACCEPTED, first_contacted_at__isnull=True, first_contact_due_at__lt=now
    )


def referral_list(*, user, tab: str = "") -> QuerySet[Referral]:
    """The list page's rows: a tab of the user's visible referrals, ordered for the tab
    (the page, its export and the API then apply ``ReferralFilter``).

    The branch inbox is ordered by SLA urgency (earliest review deadline first). The
    customers come in a second query for the page's rows only: joined, each of a team
    lead's or an administrator's referrals was joined to its customer before the sort
    kept a page of them."""
    qs = (
        Referral.objects.restrict(user, "view")
        .select_related(
            "branch", "from_advisor__staff_profile__team", "assigned_rm__staff_profile", "converted_product"
        )
        .prefetch_related("customer")
    )
    keys = [k for k, _label in tabs_for(user)]
    tab = tab if tab in keys else keys[0]
    now = timezone.now()
    if tab == "inbox":
        # Review deadlines grow with the creation time (working days added to it), so the
        # oldest first is the most urgent first, and the (branch, status, created_at) index
        # serves the page without sorting the whole inbox.
        return qs.filter(status=S.PENDING).order_by("created_at", "id")
    if tab == "active":
        return qs.filter(status__in=WORKING).order_by("first_contact_due_at", "id")
    if tab == "overdue":
        return qs.filter(_overdue_q(now)).order_by("review_due_at", "id")
    if tab == "closed":
        return qs.filter(status__in=CLOSED).order_by("-closed_at", "-id")
    if tab == "assigned":
        return qs.filter(assigned_rm=user, status__in=WORKING).order_by("first_contact_due_at", "id")
    if tab == "closed_mine":
        return qs.filter(assigned_rm=user, status__in=CLOSED).order_by("-closed_at", "-id")
    return qs.order_by("-created_at", "-id")


def referrals_filtered(*, user, data) -> ReferralFilter:
    """``ReferralFilter`` over all the referrals ``user`` may see (exports, the dashboard)."""
    return ReferralFilter(data, queryset=Referral.objects.restrict(user, "view"))


def referral_tab_counts(*, user) -> dict[str, int]:
    """Counts shown in the tab labels: one aggregate query."""
    now = timezone.now()
    filters = {
        "mine": Q(),
        "all": Q(),
        "inbox": Q(status=S.PENDING),
        "active": Q(status__in=WORKING),
        "overdue": _overdue_q(now),
        "closed": Q(status__in=CLOSED),
        "assigned": Q(assigned_rm=user, status__in=WORKING),
        "closed_mine": Q(assigned_rm=user, status__in=CLOSED),
    }
    keys = [k for k, _label in tabs_for(user)]
    return Referral.objects.restrict(user, "view").aggregate(**{k: Count("id", filter=filters[k]) for k in keys})


def referral_get_for_user(*, user, pk, action: str = "view") -> Referral:
    """One referral the user may ``action`` (404 otherwise), with what the detail page needs."""
    qs = Referral.objects.select_related(
        "customer__home_branch",
        "customer__score",
        "branch",
        "lead",
        "from_advisor__staff_profile__team",
        "assigned_rm__staff_profile",
        "converted_product",
    )
    return get_for_user(qs, user=user, pk=pk, action=action)


EVENT_LABELS = {
    "create": _("Referred to the branch"),
    "accept": _("Accepted and assigned"),
    "reject": _("Rejected"),
    "reassign": _("Reassigned"),
    "attempt": _("Reached the customer"),
    "meeting": _("Meeting booked"),
    "visit": _("Customer visited"),
    "converted": pgettext_lazy("referral status", "Converted"),
    "lost": pgettext_lazy("referral status", "Lost"),
    "return": _("Returned to the advisor"),
    "overdue_review": _("Review overdue"),
    "overdue_first_contact": _("First contact overdue"),
    "escalated_review": _("Escalated to the team lead (review)"),
    "escalated_first_contact": _("Escalated to the team lead (first contact)"),
}


def referral_timeline(*, referral: Referral) -> dict:
    """Follow-ups, status events, SLA breaches, the customer's contacts and holdings.

    (What the apps above know about the customer, such as the advisor's calls, comes in
    the page's ``REFERRAL_PANELS``.)"""
    return {
        "follow_ups": list(
            FollowUp.objects.filter(referral=referral).select_related("actor__staff_profile").order_by("-occurred_at")
        ),
        "events": [
            {
                "event": e,
                "label": EVENT_LABELS.get(e.verb, e.verb),
                "status": S(e.to_status).label if e.to_status in S.values else "",
            }
            for e in ReferralEvent.objects.filter(referral=referral)
            .select_related("actor__staff_profile")
            .order_by("-id")
        ],
        "breaches": list(SlaBreach.objects.filter(referral=referral).order_by("breached_at")),
        "interactions": list(
            Interaction.objects.filter(customer_id=referral.customer_id)
            .select_related("actor__staff_profile")
            .order_by("-occurred_at")[:20]
        ),
        "holdings": list(
            Holding.objects.filter(customer_id=referral.customer_id)
            .select_related("product")
            .order_by("maturity_date")[:10]
        ),
    }


def rm_choices_with_load(*, branch_id: int) -> list[dict]:
    """The branch's RMs with the referrals they are working now (their current load)."""
    working = Count("user__referrals_assigned", filter=Q(user__referrals_assigned__status__in=WORKING))
    profiles = (
        StaffProfile.objects.filter(branch_id=branch_id, role=Role.BRANCH_RM, user__is_active=True)
        .select_related("user")
        .annotate(load=working)
        .order_by("load", "display_name")
    )
    return [{"user": p.user, "id": p.user_id, "name": p.display_name, "load": p.load} for p in profiles]


PORTRAIT_ROWS = 50


def customer_leads_and_referrals(*, customer: Customer) -> dict:
    """The portrait's "Leads and referrals" tab: the customer's 50 newest leads and
    referrals with the names they show.

    The portrait has already checked that the user may see the customer and recorded
    the look (PIPL); the customer's lead and referral history is part of that portrait,
    as it was when the tab lived in ``customers``.
    """
    leads = list(
        Lead.objects.filter(customer=customer)
        .select_related("owner__staff_profile", "team")
        .order_by("-created_at", "-id")[:PORTRAIT_ROWS]
    )
    referrals = list(
        Referral.objects.filter(customer=customer)
        .select_related("branch", "lead", "from_advisor__staff_profile", "assigned_rm__staff_profile")
        .order_by("-created_at", "-id")[:PORTRAIT_ROWS]
    )
    return {"leads": leads, "referrals": referrals}


# --- dashboard ------------------------------------------------------------------------


def _hours(delta: dt.timedelta | None) -> float | None:
    return round(delta.total_seconds() / 3600, 1) if delta is not None else None


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


TO_ACCEPT = ExpressionWrapper(F("accepted_at") - F("created_at"), output_field=DurationField())
TO_CONTACT = ExpressionWrapper(F("first_contacted_at") - F("accepted_at"), output_field=DurationField())

# The dashboard's measures over one referral a row of ``_dashboard_rows`` (its columns
# ``d_*``), the same SQL on PostgreSQL and SQLite. Every measure is here once.
MEASURES_SQL = {
    "received": "COUNT(*)",
    "accepted": "COUNT(*) FILTER (WHERE d_accepted_at IS NOT NULL)",
    "rejected": "COUNT(*) FILTER (WHERE d_rejected_at IS NOT NULL)",
    "contacted": "COUNT(*) FILTER (WHERE d_first_contacted_at IS NOT NULL AND d_accepted_at IS NOT NULL)",
    "meeting": "COUNT(*) FILTER (WHERE d_meeting)",
    "converted": f"COUNT(*) FILTER (WHERE d_status = '{S.CONVERTED}')",
    "lost": f"COUNT(*) FILTER (WHERE d_status = '{S.LOST}')",
    "returned": f"COUNT(*) FILTER (WHERE d_status = '{S.RETURNED}')",
    "converted_amount": f"COALESCE(SUM(d_amount) FILTER (WHERE d_status = '{S.CONVERTED}'), 0)",
    # A referral past its deadline counts at once, not only after the SLA sweep has
    # written its breach row: the figure agrees with the "Overdue now" list.
    "sla_breaches": "COUNT(*) FILTER (WHERE d_breach)",
}
MEDIANS_SQL = {
    "median_to_accept": "percentile_cont(0.5) WITHIN GROUP (ORDER BY d_to_accept)",
    "median_to_contact": "percentile_cont(0.5) WITHIN GROUP (ORDER BY d_to_contact)",
}
# The groupings: (key column, label column) of ``_dashboard_rows``, and the key's path
# from a referral (what the SQLite path's Python medians group by).
GROUPINGS = {
    "by_branch": ("d_branch", "d_branch_name"),
    "by_team": ("d_team", "d_team_name"),
    "by_rm": ("d_rm", "d_rm_name"),
}
GROUPING_PATHS = {
    "by_branch": "branch_id",
    "by_team": "from_advisor__staff_profile__team_id",
    "by_rm": "assigned_rm_id",
}


def _dashboard_rows(qs, *, now: dt.datetime, durations: bool) -> QuerySet:
    """One row a visible referral with what the measures read, each condition computed
    once (the meeting and breach sub-queries included)."""
    has_meeting = Exists(FollowUp.objects.filter(referral_id=OuterRef("pk"), kind__in=["meeting", "visit"]))
    has_breach = Exists(SlaBreach.objects.filter(referral_id=OuterRef("pk")))
    columns = {
        "d_branch": F("branch_id"),
        "d_branch_name": F("branch__name"),
        "d_team": F("from_advisor__staff_profile__team_id"),
        "d_team_name": F("from_advisor__staff_profile__team__name"),
        "d_rm": F("assigned_rm_id"),
        "d_rm_name": F("assigned_rm__staff_profile__display_name"),
        "d_status": F("status"),
        "d_accepted_at": F("accepted_at"),
        "d_rejected_at": F("rejected_at"),
        "d_first_contacted_at": F("first_contacted_at"),
        "d_amount": F("converted_amount"),
        "d_meeting": ExpressionWrapper(Q(status__in=[S.MEETING, S.CONVERTED]) | Q(has_meeting), BooleanField()),
        "d_breach": ExpressionWrapper(Q(has_breach) | _overdue_q(now), BooleanField()),
    }
    if durations:
        columns |= {"d_to_accept": TO_ACCEPT, "d_to_contact": TO_CONTACT}
    return qs.order_by().annotate(**columns).values(*columns)


def _finish(row: dict, key, label) -> dict:
    reviewed = row["accepted"] + row["rejected"]
    amount = row["converted_amount"]
    return {
        "key": key,
        "label": label,
        **{k: row[k] for k in ("received", "accepted", "rejected", "contacted", "meeting", "converted", "lost")},
        "returned": row["returned"],
        "acceptance_rate": _ratio(row["accepted"], reviewed),
        "median_hours_to_accept": _hours(row.get("median_to_accept")),
        "median_hours_to_first_contact": _hours(row.get("median_to_contact")),
        "conversion_rate": _ratio(row["converted"], row["accepted"]),
        "converted_amount": amount if isinstance(amount, Decimal) else Decimal(str(amount)),
        "sla_breaches": row["sla_breaches"],
    }


def _python_medians(qs) -> dict[str, dict]:
    """Medians where the database has no percentile_cont (the SQLite development path),
    for every grouping from one read: {"total": {None: (to accept, to first contact)},
    "by_branch": {branch id: ...}, ...}."""
    durations: dict = {name: defaultdict(lambda: ([], [])) for name in ("total", *GROUPING_PATHS)}
    fields = ["created_at", "accepted_at", "first_contacted_at", *GROUPING_PATHS.values()]
    for row in qs.filter(accepted_at__isnull=False).values(*fields):
        keys = {"total": None} | {name: row[path] for name, path in GROUPING_PATHS.items()}
        for name, key in keys.items():
            accept, contact = durations[name][key]
            accept.append(row["accepted_at"] - row["created_at"])
            if row["first_contacted_at"]:
                contact.append(row["first_contacted_at"] - row["accepted_at"])
    return {
        name: {
            key: (statistics.median(a) if a else None, statistics.median(c) if c else None)
            for key, (a, c) in groups.items()
        }
        for name, groups in durations.items()
    }


def _grouped_measures(rows: QuerySet, *, medians: bool) -> list[dict]:
    """Every measure in total and per grouping, in one query over ``rows``: GROUPING SETS
    on PostgreSQL (the referrals are read and their sub-queries run once, not four
    times), a UNION ALL of the four groupings elsewhere. Each result row says its
    grouping ("total" or a key of GROUPINGS) under "grouping"."""
    inner, params = rows.query.sql_with_params()
    measures = MEASURES_SQL | (MEDIANS_SQL if medians else {})
    select = ", ".join(f"{sql} AS {name}" for name, sql in measures.items())
    columns = [c for pair in GROUPINGS.values() for c in pair]
    if connection.vendor == "postgresql":
        flags = ", ".join(f"GROUPING({key}) AS g_{name}" for name, (key, _label) in GROUPINGS.items())
        sets = ", ".join(f"({key}, {label})" for key, label in GROUPINGS.values())
        # every name in the SQL is one of this module's constants; the values are parameters
        sql = f"SELECT {flags}, {', '.join(columns)}, {select} FROM ({inner}) AS r GROUP BY GROUPING SETS ((), {sets})"  # noqa: S608
        all_params = params
    else:
        parts = []
        for name in ("total", *GROUPINGS):
            flags = ", ".join(f"{0 if g == name else 1} AS g_{g}" for g in GROUPINGS)
            cols = ", ".join(c if name in GROUPINGS and c in GROUPINGS[name] else f"NULL AS {c}" for c in columns)
            group = f" GROUP BY {', '.join(GROUPINGS[name])}" if name in GROUPINGS else ""
            parts.append(f"SELECT {flags}, {cols}, {select} FROM ({inner}) AS r{group}")  # noqa: S608
        sql = " UNION ALL ".join(parts)
        all_params = tuple(params) * len(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        names = [c[0] for c in cursor.description]
        out = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            grouped = [name for name in GROUPINGS if row[f"g_{name}"] == 0]
            row["grouping"] = grouped[0] if grouped else "total"
            out.append(row)
    return out


def referral_dashboard(*, user, since: dt.date | None = None, until: dt.date | None = None) -> dict:
    """Referral measures over the user's visible referrals created in [since, until]:
    in total, by branch (the funnel), by originating team and by RM (referrals given to
    an RM), in one query (``_grouped_measures``; medians with percentile_cont on
    PostgreSQL, in Python on SQLite), so the cost does not grow with rows in Python."""
    qs = referrals_filtered(user=user, data={"since": since, "until": until}).qs
    sql_medians = connection.vendor == "postgresql"
    rows = _grouped_measures(_dashboard_rows(qs, now=timezone.now(), durations=sql_medians), medians=sql_medians)
    medians = {} if sql_medians else _python_medians(qs)
    result: dict = {name: [] for name in GROUPINGS}
    for row in rows:
        name = row["grouping"]
        key, label = GROUPINGS.get(name, (None, None))
        if medians:
            row["median_to_accept"], row["median_to_contact"] = medians[name].get(row.get(key), (None, None))
        if name == "total":
            result["total"] = _finish(row, "all", _("All"))
        elif name != "by_rm" or row[key] is not None:  # by RM: the referrals given to one
            result[name].append(row)
    for name, (key, label) in GROUPINGS.items():
        ordered = sorted(result[name], key=lambda r, label=label: (-r["received"], r[label] or ""))
        result[name] = [_finish(row, row[key], row[label] or "—") for row in ordered]
    return result


def referral_overdue(*, user, limit: int = 50) -> tuple[list[Referral], int]:
    """The referrals past a deadline now (the first ``limit``) and how many there are: the
    same rows as the Overdue tab, whether or not the SLA sweep has run since."""
    qs = Referral.objects.restrict(user, "view").filter(_overdue_q(timezone.now()))
    # The customers of the 50 rows in a query of their own: joined, every overdue
    # referral was joined to its customer before the sort kept 50.
    rows = list(
        qs.select_related("branch", "assigned_rm__staff_profile", "from_advisor__staff_profile")
        .prefetch_related("customer")
        .order_by("review_due_at", "id")[:limit]
    )
    return rows, (len(rows) if len(rows) < limit else qs.count())
