"""Reads of the compliance feature. Row rules live here; views never filter by role themselves."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.utils import timezone

from org.roles import Role, role_of

from .constants import Category
from .models import (
    OPEN_VERSION_STATUSES,
    Flag,
    FlagOutcome,
    FlagStatus,
    LexiconRule,
    Script,
    ScriptReview,
    ScriptVersion,
    VersionStatus,
)

COMPLIANCE_READERS = (Role.COMPLIANCE, Role.ADMIN)


# --- contract: approved scripts ----------------------------------------------------------


def approved_scripts_for(*, product=None, product_type: str | None = None, purpose=None) -> list[ScriptVersion]:
    """The approved (latest, in-use) version of every script that fits (contract, CONTRACTS.md).

    A script fits a product when it is written for that product, or for the product's type
    without naming a product. With only ``product_type``, scripts of that type (named
    product or not). Ordered by purpose then title.
    """
    qs = ScriptVersion.objects.filter(status=VersionStatus.APPROVED).select_related("script", "script__product")
    if product is not None:
        qs = qs.filter(Q(script__product=product) | Q(script__product__isnull=True, script__product_type=product.type))
    elif product_type:
        qs = qs.filter(Q(script__product_type=product_type) | Q(script__product__type=product_type))
    if purpose:
        qs = qs.filter(script__purpose=purpose)
    return list(qs.order_by("script__purpose", "script__title", "script_id"))


# --- scripts -------------------------------------------------------------------------------


def script_library(*, product_type: str = "", purpose: str = "", q: str = "") -> QuerySet[ScriptVersion]:
    """Approved versions for the script library (everyone may read approved scripts)."""
    qs = ScriptVersion.objects.filter(status=VersionStatus.APPROVED).select_related(
        "script", "script__product", "decided_by", "decided_by__staff_profile"
    )
    if product_type:
        qs = qs.filter(Q(script__product_type=product_type) | Q(script__product__type=product_type))
    if purpose:
        qs = qs.filter(script__purpose=purpose)
    if q:
        qs = qs.filter(Q(script__title__icontains=q) | Q(body__icontains=q) | Q(script__product__name__icontains=q))
    return qs.order_by("script__product__name", "script__purpose", "script__title")


def scripts_visible_to(user) -> QuerySet[Script]:
    """Scripts whose drafts and history the user may open: officers all, authors their own,
    everyone the scripts that have an approved version."""
    qs = Script.objects.all()
    if role_of(user) in COMPLIANCE_READERS:
        return qs
    return qs.filter(Q(author=user) | Q(versions__author=user) | Q(versions__status=VersionStatus.APPROVED)).distinct()


def script_get_for_user(*, user, pk: int) -> Script:
    script = (
        scripts_visible_to(user)
        .select_related("product", "author", "author__staff_profile")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ScriptVersion.objects.select_related(
                    "author", "author__staff_profile", "decided_by", "decided_by__staff_profile"
                ).order_by("-number"),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if script is None:
        raise Http404
    return script


def can_see_version(*, user, version: ScriptVersion) -> bool:
    """Drafts and reviews are for the author and officers; approved text is for everyone."""
    if role_of(user) in COMPLIANCE_READERS or version.author_id == user.pk or version.script.author_id == user.pk:
        return True
    return version.status == VersionStatus.APPROVED


def my_scripts(*, user) -> QuerySet[ScriptVersion]:
    """The versions the user wrote that are not approved yet (drafts, under review, rejected)."""
    newer = ScriptVersion.objects.filter(script_id=OuterRef("script_id"), number__gt=OuterRef("number"))
    latest_of_mine = (
        ScriptVersion.objects.filter(author=user)
        .exclude(status__in=[VersionStatus.APPROVED, VersionStatus.RETIRED])
        .exclude(Exists(newer))
    )
    return latest_of_mine.select_related("script", "script__product").order_by("-created_at")


def pending_reviews() -> QuerySet[ScriptVersion]:
    return (
        ScriptVersion.objects.filter(status=VersionStatus.SUBMITTED)
        .select_related("script", "script__product", "author", "author__staff_profile")
        .annotate(
            n_high=Count("findings", filter=Q(findings__severity="high")),
            n_medium=Count("findings", filter=Q(findings__severity="medium")),
        )
        .order_by("submitted_at")
    )


def version_for_review(*, user, pk: int) -> ScriptVersion:
    if role_of(user) not in COMPLIANCE_READERS:
        raise Http404
    version = (
        ScriptVersion.objects.select_related(
            "script",
            "script__product",
            "author",
            "author__staff_profile",
            "decided_by",
            "decided_by__staff_profile",
            "based_on",
        )
        .prefetch_related("findings", "findings__acknowledged_by__staff_profile")
        .filter(pk=pk)
        .first()
    )
    if version is None:
        raise Http404
    return version


def previous_approved(version: ScriptVersion) -> ScriptVersion | None:
    """The version in use before this one (the one a diff is taken against)."""
    return (
        ScriptVersion.objects.filter(
            script_id=version.script_id,
            number__lt=version.number,
            status__in=[VersionStatus.APPROVED, VersionStatus.RETIRED],
            decided_at__isnull=False,
        )
        .order_by("-number")
        .first()
    )


def version_evidence(version_ids) -> QuerySet[ScriptReview]:
    return (
        ScriptReview.objects.filter(version_id__in=version_ids)
        .select_related("actor", "actor__staff_profile", "version")
        .order_by("created_at", "id")
    )


# --- lexicon -------------------------------------------------------------------------------


def lexicon_rules(*, user, q: str = "", category: str = "", language: str = "", severity: str = "", state: str = ""):
    if role_of(user) not in COMPLIANCE_READERS:
        raise Http404
    qs = LexiconRule.objects.select_related("owner", "owner__staff_profile")
    if q:
        qs = qs.filter(Q(pattern__icontains=q) | Q(code__icontains=q) | Q(description__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if language:
        qs = qs.filter(language=language)
    if severity:
        qs = qs.filter(severity=severity)
    if state == "active":
        qs = qs.active()
    elif state == "inactive":
        qs = qs.exclude(pk__in=LexiconRule.objects.active().values("pk"))
    return qs.order_by("category", "code")


# --- flags ---------------------------------------------------------------------------------


def flags_visible_to(user) -> QuerySet[Flag]:
    """Officers and admins all flags; team leads their team's closed flags; advisors their own
    closed flags (the outcome is coaching feedback; open flags are under review)."""
    role = role_of(user)
    qs = Flag.objects.all()
    if role in COMPLIANCE_READERS:
        return qs
    if role == Role.TEAM_LEAD:
        team_id = user.staff_profile.team_id
        return qs.filter(team_id=team_id, status=FlagStatus.CLOSED)
    if role == Role.ADVISOR:
        return qs.filter(advisor=user, status=FlagStatus.CLOSED)
    return qs.none()


def review_queue(
    *, user, status: str = "", severity: str = "", category: str = "", kind: str = "", mine: bool = False, q: str = ""
) -> QuerySet[Flag]:
    if role_of(user) not in COMPLIANCE_READERS:
        raise Http404
    qs = flags_visible_to(user).select_related(
        "advisor", "advisor__staff_profile", "assignee", "assignee__staff_profile", "team"
    )
    if status == "all":
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=FlagStatus.CLOSED)
    if severity:
        qs = qs.filter(severity=severity)
    if category:
        qs = qs.filter(category=category)
    if kind:
        qs = qs.filter(kind=kind)
    if mine:
        qs = qs.filter(assignee=user)
    if q:
        qs = qs.filter(Q(match__icontains=q) | Q(text_snapshot__icontains=q) | Q(rule_code__icontains=q))
    return qs.order_by("-created_at", "-id")


def flag_get_for_user(*, user, pk: int) -> Flag:
    flag = (
        flags_visible_to(user)
        .select_related(
            "communication",
            "communication__customer",
            "advisor",
            "advisor__staff_profile",
            "assignee",
            "assignee__staff_profile",
            "escalated_to",
            "closed_by",
            "rule",
            "team",
        )
        .filter(pk=pk)
        .first()
    )
    if flag is None:
        raise Http404
    return flag


def my_flags(*, user) -> QuerySet[Flag]:
    return (
        flags_visible_to(user).select_related("advisor", "advisor__staff_profile", "closed_by").order_by("-closed_at")
    )


# --- reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    date_from: dt.date
    date_to: dt.date


def report_flags(*, user, filters: ReportFilters) -> QuerySet[Flag]:
    role = role_of(user)
    if role in COMPLIANCE_READERS:
        qs = Flag.objects.all()
    elif role == Role.TEAM_LEAD:
        qs = Flag.objects.filter(team_id=user.staff_profile.team_id)
    else:
        raise Http404
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return qs.filter(occurred_at__gte=start, occurred_at__lt=end)


def _grouped(qs, *fields):
    return list(
        qs.values(*fields)
        .annotate(
            flags=Count("id"),
            violations=Count("id", filter=Q(outcome=FlagOutcome.VIOLATION)),
            open=Count("id", filter=~Q(status=FlagStatus.CLOSED)),
        )
        .order_by("-flags", *fields)
    )


def compliance_report(*, user, filters: ReportFilters) -> dict:
    """Flags and confirmed violations per advisor, team, category and week; review times;
    scripts waiting for review and their age. A handful of aggregate queries."""
    qs = report_flags(user=user, filters=filters)
    by_advisor = _grouped(qs, "advisor_id", "advisor__staff_profile__display_name", "advisor__username")
    by_team = _grouped(qs, "team_id", "team__name")
    by_category = _grouped(qs, "category", "kind")
    labels = dict(Category.choices)
    for row in by_category:
        row["label"] = labels.get(row["category"]) or (row["kind"] == "qa_sample" and "QA") or row["category"]
    by_week = list(
        qs.annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(flags=Count("id"), violations=Count("id", filter=Q(outcome=FlagOutcome.VIOLATION)))
        .order_by("week")
    )
    durations = [
        (closed - created).total_seconds() / 3600
        for created, closed in qs.filter(closed_at__isnull=False).values_list("created_at", "closed_at")
    ]
    median_hours = statistics.median(durations) if durations else None
    totals = qs.aggregate(
        flags=Count("id"),
        violations=Count("id", filter=Q(outcome=FlagOutcome.VIOLATION)),
        open=Count("id", filter=~Q(status=FlagStatus.CLOSED)),
        closed=Count("id", filter=Q(status=FlagStatus.CLOSED)),
    )
    now = timezone.now()
    pending = []
    if role_of(user) in COMPLIANCE_READERS or role_of(user) == Role.TEAM_LEAD:
        pending_qs = ScriptVersion.objects.filter(status=VersionStatus.SUBMITTED).select_related(
            "script", "author", "author__staff_profile"
        )
        if role_of(user) == Role.TEAM_LEAD:
            pending_qs = pending_qs.filter(author__staff_profile__team_id=user.staff_profile.team_id)
        pending = [
            {"version": v, "age_days": (now - v.submitted_at).days if v.submitted_at else 0}
            for v in pending_qs.order_by("submitted_at")
        ]
    return {
        "totals": totals,
        "by_advisor": by_advisor,
        "by_team": by_team,
        "by_category": by_category,
        "by_week": by_week,
        "median_review_hours": median_hours,
        "pending_scripts": pending,
        "open_versions": ScriptVersion.objects.filter(status__in=OPEN_VERSION_STATUSES).count(),
    }


def escalation_targets(*, user):
    from .services import senior_officers

    return senior_officers().exclude(pk=user.pk).select_related("staff_profile")
