"""The bank's organisation: branches, remote-advisor teams, staff and the working-day calendar.

Every other app reads these; nothing here reads another app. A staff user has exactly
one role (``org.roles.Role``), kept on ``StaffProfile``; advisors and team leads belong to
a team, branch staff to a branch (check constraints).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import RestrictedQuerySet

from .roles import Role, role_of, team_of


class Branch(models.Model):
    code = models.CharField(_("branch code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=50)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team of remote advisors in the customer operations centre."""

    code = models.CharField(_("team code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StaffProfileQuerySet(RestrictedQuerySet):
    """Staff profiles (predicates: ``org.access``).

    - ``view``: an advisor their own, a team lead their team's, administrators everyone's.
    - ``plan`` (daily call capacity and absence): a team lead the advisors of their team,
      administrators every advisor.
    """

    ACTIONS = ("view", "plan")

    def _restrict(self, user, action: str):
        role = role_of(user)
        if role == Role.ADMIN:
            return self.all() if action == "view" else self.filter(role=Role.ADVISOR)
        if role == Role.TEAM_LEAD:
            team = team_of(user)
            mine = self.filter(team_id=team) if team is not None else self.none()
            return mine if action == "view" else mine.filter(role=Role.ADVISOR)
        if role == Role.ADVISOR and action == "view":
            return self.filter(user=user)
        return self.none()


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    display_name = models.CharField(_("display name"), max_length=50)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name=_("team")
    )
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("branch")
    )
    # Planned calls an advisor can take a day; empty means the centre's default
    # (settings.WORKBENCH_DAILY_CALL_CAPACITY).
    daily_call_capacity = models.PositiveSmallIntegerField(_("daily call capacity"), null=True, blank=True)
    # Away today and until this date (inclusive): their call tasks are rebalanced.
    absent_until = models.DateField(_("absent until"), null=True, blank=True)

    objects = StaffProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=[Role.ADVISOR, Role.TEAM_LEAD]) | models.Q(team__isnull=False),
                name="staff_team_roles_have_team",
            ),
            models.CheckConstraint(
                condition=~models.Q(role__in=[Role.BRANCH_MANAGER, Role.BRANCH_RM]) | models.Q(branch__isnull=False),
                name="staff_branch_roles_have_branch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (no work)")
    WORKDAY = "workday", _("Make-up working day")


class Holiday(models.Model):
    """A calendar exception: a weekday off, or a weekend day worked (调休)."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=HolidayKind.choices, default=HolidayKind.HOLIDAY)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
