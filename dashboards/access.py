"""Who sees which dashboard, in which scope, and which records behind a figure.

- The scope of the figures: an advisor their own, a team lead the team's, branch staff
  (manager and relationship manager) their branch's, HQ roles (campaign manager,
  compliance, administrator) everything. A filter a viewer sends (team, advisor, branch,
  campaign) only narrows the scope: it is ANDed with it, so another team's id gives
  empty figures, never theirs.
- The records behind a figure are the same rows the figure counts (``dashboards.sources``)
  inside the record's own row rule (``restrict(user, "view")`` of its app), so a list
  never shows what its app would hide. Where that rule shows a role none of a stage's
  records (campaign messages are HQ's; a branch sees leads once referred), the figure is
  not offered as a link (``can_open_stage``) and, for the branch, not shown at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.models import Arm, Enrolment, Message
from customers.models import Customer
from leads.models import GradeDecision, Lead
from org.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of, team_of
from referrals.models import Referral

from .models import Metric
from .sources import SOURCES

HQ_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE, Role.CAMPAIGN_MANAGER})
REFERRAL_STAGES = frozenset({Metric.REFERRED, Metric.ACCEPTED, Metric.CONVERTED})
BRANCH_METRICS = REFERRAL_STAGES | {
    Metric.REJECTED,
    Metric.RETURNED,
    Metric.REVIEWED,
    Metric.CONTACTED,
    Metric.REVIEWED_ON_TIME,
    Metric.CONTACTED_ON_TIME,
}
# On-time measures list the records of their stage that were on time.
ON_TIME = {
    Metric.REVIEWED_ON_TIME: Metric.REVIEWED,
    Metric.CONTACTED_ON_TIME: Metric.CONTACTED,
}


@dataclass(frozen=True)
class Scope:
    kind: str  # "advisor" | "team" | "branch" | "all" | "none"
    advisor_id: int | None = None
    team_id: int | None = None
    branch_id: int | None = None

    def dims(self) -> dict[str, int]:
        if self.kind == "advisor":
            return {"advisor": self.advisor_id}
        if self.kind == "team":
            return {"team": self.team_id}
        if self.kind == "branch":
            return {"branch": self.branch_id}
        return {}


def scope_of(user) -> Scope:
    role = role_of(user)
    if role == Role.ADVISOR:
        return Scope("advisor", advisor_id=user.pk, team_id=team_of(user))
    if role == Role.TEAM_LEAD and team_of(user) is not None:
        return Scope("team", team_id=team_of(user))
    if role in BRANCH_ROLES:
        branch_id = getattr(getattr(user, "staff_profile", None), "branch_id", None)
        return Scope("branch", branch_id=branch_id) if branch_id is not None else Scope("none")
    if role in HQ_ROLES:
        return Scope("all")
    return Scope("none")


def can_view_funnel(user) -> bool:
    return scope_of(user).kind != "none"


def can_view_operations(user) -> bool:
    """Remote-centre operations: the advisors' own figures, the team's, HQ's."""
    return scope_of(user).kind in ("advisor", "team", "all")


def can_view_branch_dashboard(user) -> bool:
    """The branch view: branch staff their branch, HQ every branch."""
    return scope_of(user).kind in ("branch", "all")


def can_pick_team(user) -> bool:
    return scope_of(user).kind == "all"


def can_pick_advisor(user) -> bool:
    return scope_of(user).kind in ("team", "all")


def can_pick_branch(user) -> bool:
    return scope_of(user).kind == "all"


def stage_in_scope(user, metric: str) -> bool:
    """Whether the stage is shown at all: a branch sees the funnel from the referral on
    (it never sees a lead before it is referred to it)."""
    kind = scope_of(user).kind
    if kind == "branch":
        return metric in BRANCH_METRICS
    if kind in ("advisor", "team"):
        return metric != Metric.REACHED_CAMPAIGN  # messages are sent by HQ to its segments
    return kind == "all"


def can_open_stage(user, metric: str) -> bool:
    """Whether the records behind the stage's figure may be listed for ``user``: exactly
    when the record's own row rule covers the user's scope."""
    metric = ON_TIME.get(metric, metric)
    if metric not in SOURCES or not stage_in_scope(user, metric):
        return False
    role = role_of(user)
    if metric == Metric.REACHED_CAMPAIGN:
        return role in HQ_ROLES  # Message.restrict: campaign managers, compliance, administrators
    # A campaign manager sees the figures of the whole base, not its customers' leads.
    return role != Role.CAMPAIGN_MANAGER


def _restricted(metric: str, user) -> QuerySet:
    source = SOURCES[metric]
    qs = source.records()
    model = qs.model
    if model in (Lead, GradeDecision, Referral, Message):
        return qs.filter(pk__in=model.objects.restrict(user, "view").values("pk"))
    # AI-bot sessions follow their customer (customers.Customer.restrict).
    if role_of(user) in ALL_SEEING_ROLES:
        return qs
    return qs.filter(customer_id__in=Customer.objects.restrict(user, "view").values("pk"))


def records_for(
    user,
    metric: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    filters: dict,
    detail: str = "",
) -> QuerySet:
    """The records behind ``metric`` in [start, end): the stage's records in the viewer's
    scope and in their app's row rule, narrowed by the page's filters. ``none()`` when the
    stage is not open to the user."""
    if not can_open_stage(user, metric):
        return Lead.objects.none()
    on_time = metric in ON_TIME
    metric = ON_TIME.get(metric, metric)
    source = SOURCES[metric]
    at = source.at_field
    qs = _restricted(metric, user).filter(**{f"{at}__gte": start, f"{at}__lt": end})
    if on_time and source.on_time is not None:
        qs = qs.filter(source.on_time)
    if detail and source.detail:
        qs = qs.filter(**{source.detail: detail})
    conditions = Q()
    for dim, value in [*filters.items(), *scope_of(user).dims().items()]:
        if value is not None and dim != "campaign":
            conditions &= _dim_q(source, dim, value)
    qs = qs.filter(conditions)
    campaign = filters.get("campaign")
    if campaign is not None:
        if "campaign" in source.dims:
            qs = qs.filter(**{source.dims["campaign"]: campaign})
        elif source.attributed:
            qs = qs.filter(
                Exists(
                    Enrolment.objects.filter(
                        customer_id=OuterRef(source.customer),
                        campaign_id=campaign,
                        arm=Arm.TREATMENT,
                        entered_at__lte=OuterRef(at),
                    )
                )
            )
        else:
            qs = qs.none()
    return qs


def _dim_q(source, dim: str, value) -> Q:
    path = source.dims.get(dim)
    if path is None:
        return Q(pk__in=[])  # the stage has no such dimension: nothing is of that team
    return Q(**{path: value})
