"""Reads of the cadence: the targets, each customer's touches this year against them, and
the summaries per advisor and per team, always inside ``access.cadence_customers``.

Touches are counted from the customer's timeline (``customers.Interaction``), which every
app below writes: a call logged with a kind of touch (calls copies it to the call's
interaction), an imported or pushed interaction with a kind, and the written report (a
wealth report delivered through reports/, or an interaction of kind "written report").
A review is a themed interaction too, and a review in person or by video is a
face-to-face review. Years are calendar years in the bank's time zone."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Interaction, Meeting, TouchKind
from org.models import Branch, StaffProfile
from org.roles import Role
from reports.selectors import reports_delivered, year_bounds

from .access import cadence_customers
from .models import CadenceTargets
from .pace import expected_by, next_due

# The order a tie on the due date is broken in: the most specific touch first, since one
# face-to-face review also counts as a review and a themed interaction.
TOUCH_KEYS = ("face_to_face", "review", "report", "themed")
TOUCH_LABELS = {
    "themed": _("Themed interactions"),
    "review": _("Allocation reviews"),
    "face_to_face": _("Face-to-face reviews"),
    "report": _("Written report"),
}
NEXT_LABELS = {
    "themed": _("Themed interaction"),
    "review": _("Asset-allocation review"),
    "face_to_face": _("Face-to-face allocation review"),
    "report": _("Written wealth report"),
}
# How each row of the bar reads, in the order the 12-4-2-1 names them.
DISPLAY_ORDER = ("themed", "review", "face_to_face", "report")


def targets_current() -> CadenceTargets:
    """The saved targets, or the defaults (12-4-2-1 for wealth and private) unsaved."""
    return CadenceTargets.objects.filter(pk=1).first() or CadenceTargets(pk=1)


def target_of(targets: CadenceTargets, key: str) -> int:
    return {
        "themed": targets.themed,
        "review": targets.reviews,
        "face_to_face": targets.face_to_face,
        "report": targets.reports,
    }[key]


@dataclass(frozen=True)
class Touch:
    key: str
    done: int
    target: int
    expected: int
    due: dt.date | None  # when the next one is due; None once the target is met

    @property
    def label(self):
        return TOUCH_LABELS[self.key]

    @property
    def next_label(self):
        return NEXT_LABELS[self.key]

    @property
    def behind(self) -> bool:
        return self.done < self.expected

    @property
    def percent(self) -> int:
        return 100 if self.target <= 0 else min(100, round(100 * self.done / self.target))


@dataclass
class Progress:
    touches: dict[str, Touch]
    today: dt.date
    customer: Customer | None = None

    @property
    def rows(self) -> list[Touch]:
        return [self.touches[k] for k in DISPLAY_ORDER]

    @property
    def on_pace(self) -> bool:
        return not any(t.behind for t in self.touches.values())

    @property
    def next_touch(self) -> Touch | None:
        """The touch due soonest (an overdue one is due in the past)."""
        waiting = [self.touches[k] for k in TOUCH_KEYS if self.touches[k].due is not None]
        return min(waiting, key=lambda t: t.due) if waiting else None

    @property
    def overdue_days(self) -> int:
        nxt = self.next_touch
        return max(0, (self.today - nxt.due).days) if nxt is not None and nxt.due <= self.today else 0


def progress_of(counts: dict[str, int], *, targets: CadenceTargets, today: dt.date) -> Progress:
    touches = {}
    for key in TOUCH_KEYS:
        target = target_of(targets, key)
        done = counts.get(key, 0)
        touches[key] = Touch(key, done, target, expected_by(target, today), next_due(target, done, today.year))
    return Progress(touches=touches, today=today)


def touch_counts(*, customers, year: int) -> dict[int, dict[str, int]]:
    """{customer id: {touch key: count}} this year for ``customers`` (a queryset or ids),
    in one grouped query over the timeline's (customer, time) index."""
    start, end = year_bounds(year)
    review = Q(touch_kind=TouchKind.REVIEW)
    rows = (
        Interaction.objects.filter(customer_id__in=customers, occurred_at__gte=start, occurred_at__lt=end)
        .exclude(touch_kind=TouchKind.NONE)
        .values("customer_id")
        .annotate(
            themed=Count("id", filter=Q(touch_kind__in=[TouchKind.THEMED, TouchKind.REVIEW])),
            review=Count("id", filter=review),
            face_to_face=Count("id", filter=review & ~Q(meeting=Meeting.NONE)),
            report=Count("id", filter=Q(touch_kind=TouchKind.REPORT)),
        )
        .order_by()
    )
    counts = {r.pop("customer_id"): r for r in rows}
    # The "1": a wealth report delivered this year through reports/ (or an imported
    # interaction of kind "written report", counted above).
    for customer_id in reports_delivered(customers, year):
        row = counts.setdefault(customer_id, {"themed": 0, "review": 0, "face_to_face": 0, "report": 0})
        row["report"] = max(row["report"], 1)
    return counts


def customer_progress(*, customer: Customer, today: dt.date | None = None) -> Progress | None:
    """One customer's year so far, or None when the customer's tier has no cadence."""
    today = today or timezone.localdate()
    targets = targets_current()
    if customer.tier not in targets.tiers:
        return None
    counts = touch_counts(customers=[customer.pk], year=today.year).get(customer.pk, {})
    progress = progress_of(counts, targets=targets, today=today)
    progress.customer = customer
    return progress


def cadence_book(user, *, targets: CadenceTargets):
    """The customers of the cadence's tiers that ``user`` may see."""
    return cadence_customers(user, Customer.objects.filter(tier__in=targets.tiers))


@dataclass
class Summary:
    """On pace and behind among a group's customers, and what the behind are behind on."""

    key: object
    label: object = ""
    advisor_id: int | None = None  # the advisor page it links to
    team: str = ""
    customers: int = 0
    on_pace: int = 0
    behind_on: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DISPLAY_ORDER, 0))

    @property
    def behind(self) -> int:
        return self.customers - self.on_pace

    @property
    def on_pace_percent(self) -> int | None:
        return round(100 * self.on_pace / self.customers) if self.customers else None

    def add(self, progress: Progress) -> None:
        self.customers += 1
        if progress.on_pace:
            self.on_pace += 1
        for key, touch in progress.touches.items():
            if touch.behind:
                self.behind_on[key] += 1


def _progress_by_owner(user, *, today: dt.date, team_id: int | None = None):
    """(owner id, home branch id, progress) of each customer of ``user``'s book."""
    targets = targets_current()
    book = cadence_book(user, targets=targets)
    if team_id is not None:
        book = book.filter(owner__staff_profile__team_id=team_id)
    counts = touch_counts(customers=book.values("id"), year=today.year)
    for cid, owner_id, branch_id in book.values_list("id", "owner_id", "home_branch_id").order_by():
        yield owner_id, branch_id, progress_of(counts.get(cid, {}), targets=targets, today=today)


def _staff(user_ids) -> dict[int, StaffProfile]:
    return {p.user_id: p for p in StaffProfile.objects.filter(user_id__in=user_ids).select_related("team")}


def advisor_summaries(user, *, today: dt.date, team_id: int | None = None) -> tuple[list[Summary], Summary]:
    """One summary per owner advisor, and one per home branch for the customers nobody
    owns (wealth and private customers are the branches' in the demo world, DOMAIN.md),
    most behind first; and the total. Five queries whatever the size of the book."""
    groups: dict[tuple, Summary] = {}
    total = Summary(key=None)
    for owner_id, branch_id, progress in _progress_by_owner(user, today=today, team_id=team_id):
        key = ("advisor", owner_id) if owner_id is not None else ("branch", branch_id)
        groups.setdefault(key, Summary(key=key)).add(progress)
        total.add(progress)
    staff = _staff([k[1] for k in groups if k[0] == "advisor"])
    branches = dict(Branch.objects.filter(pk__in=[k[1] for k in groups if k[0] == "branch"]).values_list("id", "name"))
    for (kind, pk), summary in groups.items():
        if kind == "advisor":
            profile = staff.get(pk)
            # The advisor page is an advisor's book (cadence.views.advisor): a team lead
            # owning customers gets a row without a link that would answer 404.
            summary.advisor_id = pk if profile is not None and profile.role == Role.ADVISOR else None
            summary.label = profile.display_name if profile else str(_("No owner advisor"))
            summary.team = profile.team.name if profile and profile.team else ""
        else:
            summary.label = _("%(branch)s, no owner advisor") % {"branch": branches.get(pk, "—")}
    rows = sorted(groups.values(), key=lambda s: (-s.behind, str(s.label)))
    return rows, total


def team_summaries(user, *, today: dt.date) -> tuple[list[Summary], Summary]:
    """One summary per team of the owner advisors (customers without a team together)."""
    owners: dict[int | None, list[Progress]] = defaultdict(list)
    for owner_id, _branch_id, progress in _progress_by_owner(user, today=today):
        owners[owner_id].append(progress)
    staff = _staff([k for k in owners if k is not None])
    by_team: dict[int | None, Summary] = {}
    total = Summary(key=None)
    for owner_id, progresses in owners.items():
        profile = staff.get(owner_id)
        team = profile.team if profile is not None else None
        summary = by_team.setdefault(
            team.pk if team else None, Summary(key=team.pk if team else None, label=team.name if team else "")
        )
        for progress in progresses:
            summary.add(progress)
            total.add(progress)
    for summary in by_team.values():
        summary.label = summary.label or str(_("No team"))
    rows = sorted(by_team.values(), key=lambda s: (-s.behind, str(s.label)))
    return rows, total


STATUS_BEHIND = "behind"
STATUS_ON_PACE = "on_pace"


def advisor_customers(user, *, advisor_id: int, today: dt.date, status: str = "") -> list[Progress]:
    """The advisor's customers ``user`` may see, each with their progress: behind first
    (the longest overdue first), then by the next touch's date. Three queries."""
    targets = targets_current()
    book = cadence_book(user, targets=targets).filter(owner_id=advisor_id)
    customers = list(book.only("id", "name", "customer_no", "tier", "owner_id", "home_branch_id").order_by("id"))
    counts = touch_counts(customers=[c.pk for c in customers], year=today.year)
    rows = []
    for customer in customers:
        progress = progress_of(counts.get(customer.pk, {}), targets=targets, today=today)
        progress.customer = customer
        if status == STATUS_BEHIND and progress.on_pace or status == STATUS_ON_PACE and not progress.on_pace:
            continue
        rows.append(progress)
    far = dt.date.max
    rows.sort(key=lambda p: (p.on_pace, -p.overdue_days, p.next_touch.due if p.next_touch else far, p.customer.pk))
    return rows
