"""Reads of the compliance feature. Every read of rows starts from ``restrict(user, action)``
(the row rules live on the QuerySets); selectors own the joins and the ordering."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.access import get_for_user
from core.models import Job
from org.roles import Role

from .constants import SENIOR_GROUP, Category
from .models import (
    ConceptGroup,
    Flag,
    FlagKind,
    FlagOutcome,
    FlagReview,
    FlagStatus,
    LexiconRule,
    QASampleRun,
    Script,
    ScriptReview,
    ScriptVersion,
    VersionStatus,
)


def day_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local days ``date_from``..``date_to`` (both included) as [start, end) instants."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


# --- people ----------------------------------------------------------------------------


def compliance_officers() -> QuerySet:
    return get_user_model().objects.filter(staff_profile__role=Role.COMPLIANCE, is_active=True)


def senior_officers() -> QuerySet:
    """Officers a flag can be escalated to: the senior group if it has members, else all officers."""
    officers = compliance_officers()
    seniors = officers.filter(groups__name=SENIOR_GROUP)
    return seniors if seniors.exists() else officers


def escalation_targets(*, user) -> QuerySet:
    return senior_officers().exclude(pk=user.pk).select_related("staff_profile")


# --- approved scripts: what the call screen and the API use ------------------------------


def for_product_q(product) -> Q:
    """Versions of scripts that fit ``product``: written for it, or for its type without
    naming a product."""
    return Q(script__product=product) | Q(script__product__isnull=True, script__product_type=product.type)


def of_product_type_q(product_type: str) -> Q:
    """Versions of scripts of a product type, whether they name a product or not."""
    return Q(script__product_type=product_type) | Q(script__product__type=product_type)


def approved_scripts_for(*, product=None, product_type: str | None = None, purpose=None) -> list[ScriptVersion]:
    """The approved (latest, in-use) version of every script that fits.

    With ``product``, the scripts written for it or for its type; with only
    ``product_type``, the scripts of that type (named product or not). Ordered by
    purpose then title.
    """
    qs = ScriptVersion.objects.filter(status=VersionStatus.APPROVED).select_related("script", "script__product")
    if product is not None:
        qs = qs.filter(for_product_q(product))
    elif product_type:
        qs = qs.filter(of_product_type_q(product_type))
    if purpose:
        qs = qs.filter(script__purpose=purpose)
    return list(qs.order_by("script__purpose", "script__title", "script_id"))


# --- scripts -------------------------------------------------------------------------------


def approved_version_of(*, script_id: int) -> ScriptVersion | None:
    """The script's version in use now (None when it has no approved one)."""
    return (
        ScriptVersion.objects.filter(script_id=script_id, status=VersionStatus.APPROVED)
        .select_related("script")
        .first()
    )


def approved_versions(*, user) -> QuerySet[ScriptVersion]:
    """The approved versions ``user`` may read (everyone reads approved text): the library
    and the scripts API, filtered by ``ScriptLibraryFilter``."""
    return (
        ScriptVersion.objects.restrict(user, "view")
        .filter(status=VersionStatus.APPROVED)
        .select_related("script", "script__product", "decided_by", "decided_by__staff_profile")
    )


def script_get_for_user(*, user, pk: int, action: str = "view") -> Script:
    queryset = Script.objects.select_related("product", "author", "author__staff_profile").prefetch_related(
        Prefetch(
            "versions",
            queryset=ScriptVersion.objects.select_related(
                "author", "author__staff_profile", "decided_by", "decided_by__staff_profile"
            ).order_by("-number"),
        )
    )
    return get_for_user(queryset, user=user, pk=pk, action=action)


def version_get_for_user(*, user, pk: int, action: str = "view") -> ScriptVersion:
    queryset = ScriptVersion.objects.select_related("script", "script__product")
    return get_for_user(queryset, user=user, pk=pk, action=action)


def version_for_review(*, user, pk: int, action: str = "view") -> ScriptVersion:
    """A version with everything the review screen shows."""
    queryset = ScriptVersion.objects.select_related(
        "script",
        "script__product",
        "author",
        "author__staff_profile",
        "decided_by",
        "decided_by__staff_profile",
        "based_on",
    ).prefetch_related("findings", "findings__acknowledged_by__staff_profile")
    return get_for_user(queryset, user=user, pk=pk, action=action)


def my_scripts(*, user) -> QuerySet[ScriptVersion]:
    """The versions the user wrote that are not approved yet (drafts, under review, rejected)."""
    newer = ScriptVersion.objects.filter(script_id=OuterRef("script_id"), number__gt=OuterRef("number"))
    latest_of_mine = (
        ScriptVersion.objects.filter(author=user)
        .exclude(status__in=[VersionStatus.APPROVED, VersionStatus.RETIRED])
        .exclude(Exists(newer))
    )
    return latest_of_mine.select_related("script", "script__product").order_by("-created_at")


def pending_reviews(*, user) -> QuerySet[ScriptVersion]:
    return (
        ScriptVersion.objects.restrict(user, "view")
        .filter(status=VersionStatus.SUBMITTED)
        .select_related("script", "script__product", "author", "author__staff_profile")
        .annotate(
            n_high=Count("findings", filter=Q(findings__severity="high")),
            n_medium=Count("findings", filter=Q(findings__severity="medium")),
        )
        .order_by("submitted_at")
    )


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


def lexicon_rules() -> QuerySet[LexiconRule]:
    """Every rule (officers and administrators read the whole lexicon), filtered by ``LexiconFilter``."""
    return LexiconRule.objects.select_related("owner", "owner__staff_profile", "stats").order_by("category", "code")


def lexicon_rule_get(*, pk: int) -> LexiconRule:
    return get_object_or_404(LexiconRule.objects.select_related("owner"), pk=pk)


def lexicon_summary() -> dict:
    return LexiconRule.objects.aggregate(n=Count("id"), changed=Max("updated_at"))


def concept_groups_list() -> list[ConceptGroup]:
    return list(ConceptGroup.objects.order_by("name"))


def concept_group_get(*, pk: int) -> ConceptGroup:
    return get_object_or_404(ConceptGroup, pk=pk)


def lexicon_history(rule: LexiconRule) -> list:
    return list(rule.history.select_related("changed_by", "changed_by__staff_profile"))


# --- flags ---------------------------------------------------------------------------------


def review_queue(*, user) -> QuerySet[Flag]:
    """The flags of the review queue, filtered by ``FlagFilter``. The scanned text and the
    findings (up to 20,000 characters and a JSON list a flag) are not read: the queue
    shows neither, and decoding them was most of the page's Python time."""
    return (
        Flag.objects.restrict(user, "view")
        .select_related("advisor", "advisor__staff_profile", "assignee", "assignee__staff_profile", "team")
        .defer("text_snapshot", "findings", "outcome_comment")
        .order_by("-created_at", "-id")
    )


def flags_for(*, user) -> QuerySet[Flag]:
    """Every flag ``user`` may see, newest first (the API)."""
    return Flag.objects.restrict(user, "view").order_by("-created_at", "-id")


def flag_get_for_user(*, user, pk: int, action: str = "view") -> Flag:
    queryset = Flag.objects.select_related(
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
    return get_for_user(queryset, user=user, pk=pk, action=action)


def flag_evidence(flag: Flag) -> list[FlagReview]:
    return list(flag.reviews.select_related("actor", "actor__staff_profile"))


def other_flags_on_text(flag: Flag) -> list[Flag]:
    """The other flags raised on the same communication, in text order."""
    return list(
        flag.communication.flags.exclude(pk=flag.pk)
        .only("id", "match", "severity", "status", "rule_code", "kind", "advisor_id", "team_id")
        .order_by("start")
    )


def my_flags(*, user) -> QuerySet[Flag]:
    """Closed flags the user may see: an advisor's own, a team lead's team's (coaching feedback)."""
    return (
        Flag.objects.restrict(user, "view")
        .filter(status=FlagStatus.CLOSED)
        .select_related("advisor", "advisor__staff_profile", "closed_by")
        .order_by("-closed_at")
    )


# --- QA and rescans --------------------------------------------------------------------------


def qa_recent_runs(limit: int = 12) -> list[QASampleRun]:
    return list(QASampleRun.objects.all()[:limit])


def rescan_jobs(limit: int = 10) -> list[Job]:
    return list(Job.objects.filter(kind="compliance.rescan").select_related("created_by")[:limit])


# --- reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    date_from: dt.date
    date_to: dt.date


def report_flags(*, user, filters: ReportFilters) -> QuerySet[Flag]:
    start, end = day_bounds(filters.date_from, filters.date_to)
    return Flag.objects.restrict(user, "report").filter(occurred_at__gte=start, occurred_at__lt=end)


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
        qa_label = FlagKind.QA_SAMPLE.label if row["kind"] == FlagKind.QA_SAMPLE else None
        row["label"] = labels.get(row["category"]) or qa_label or row["category"]
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
    pending_qs = (
        ScriptVersion.objects.restrict(user, "report")
        .filter(status=VersionStatus.SUBMITTED)
        .select_related("script", "author", "author__staff_profile")
        .order_by("submitted_at")
    )
    pending = [{"version": v, "age_days": (now - v.submitted_at).days if v.submitted_at else 0} for v in pending_qs]
    return {
        "totals": totals,
        "by_advisor": by_advisor,
        "by_team": by_team,
        "by_category": by_category,
        "by_week": by_week,
        "median_review_hours": median_hours,
        "pending_scripts": pending,
    }
