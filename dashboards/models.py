"""The dashboards' daily aggregates: one row per day, measure and dimensions (advisor,
team, branch, relationship manager, campaign, hour, detail), counted by the task
``dashboards.refresh_day`` from the records of the apps below, so a dashboard sums a few
thousand rows instead of scanning two years of calls.

The dimensions are plain ids (no foreign keys): a day is rewritten as a whole, and a row
must not stop a branch or a campaign from being archived.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    # The funnel (seed 002): reached → proposed → confirmed → referred → accepted → converted.
    REACHED_AI = "reached_ai", _("AI-bot conversations")
    REACHED_CAMPAIGN = "reached_campaign", _("Campaign messages sent")
    PROPOSED = "proposed", _("Leads proposed")
    CONFIRMED = "confirmed", _("Grades confirmed")  # detail: the confirmed grade
    REFERRED = "referred", _("Referred to a branch")
    ACCEPTED = "accepted", _("Accepted by the branch")
    CONVERTED = "converted", _("Converted by the branch")  # amount: the converted amount
    # The branch view.
    REJECTED = "rejected", _("Rejected by the branch")  # detail: the reject reason
    RETURNED = "returned", _("Returned to the advisor")
    REVIEWED = "reviewed", _("Reviewed")
    REVIEWED_ON_TIME = "reviewed_on_time", _("Reviewed on time")
    CONTACTED = "contacted", _("First contacts")
    CONTACTED_ON_TIME = "contacted_on_time", _("First contacts on time")
    # Remote-centre operations: the call measures of calls.selectors, per advisor and day.
    DIALLED = "dialled", _("Calls dialled")
    CONNECTED = "connected", _("Calls connected")
    EFFECTIVE = "effective", _("Effective contacts")
    CALL_CONVERSIONS = "call_conversions", _("Conversions")  # amount: the sales
    PLANNED = "planned", _("Planned calls due")
    PLANNED_DONE = "planned_done", _("Planned calls done")
    DECISIONS = "decisions", _("Grades confirmed by the advisor")
    OVERRIDES = "overrides", _("Grades overridden")
    CALLBACKS = "callbacks", _("Callbacks due")
    CALLBACKS_ON_TIME = "callbacks_on_time", _("Callbacks kept on time")
    OVERDUE_TOUCHES = "overdue_touches", _("Overdue nurture touches")  # at the end of the day
    DIALLED_BY_HOUR = "dialled_by_hour", _("Calls dialled by hour")  # hour: 0–23, Asia/Shanghai
    BOOK_AUM = "book_aum", _("AUM of the book")  # amount: the owned customers' AUM that day
    # detail: the direction (in / out); amount: the flows' sum (positive either way).
    NET_NEW_MONEY = "net_new_money", _("Net new money")


class DailyFact(models.Model):
    day = models.DateField(_("day"))
    metric = models.CharField(_("measure"), max_length=24, choices=Metric.choices)
    detail = models.CharField(_("detail"), max_length=32, blank=True)
    advisor_id = models.PositiveBigIntegerField(_("advisor"), null=True, blank=True)
    team_id = models.PositiveBigIntegerField(_("team"), null=True, blank=True)
    branch_id = models.PositiveBigIntegerField(_("branch"), null=True, blank=True)
    rm_id = models.PositiveBigIntegerField(_("relationship manager"), null=True, blank=True)
    # Null: the row counts every record; set: the records attributed to that campaign (a
    # customer enrolled in it before the event), kept beside the totals.
    campaign_id = models.PositiveBigIntegerField(_("campaign"), null=True, blank=True)
    hour = models.PositiveSmallIntegerField(_("hour"), null=True, blank=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        ordering = ["-day", "metric", "id"]
        indexes = [
            models.Index(fields=["metric", "day"], name="dash_metric_day_idx"),
            models.Index(fields=["team_id", "metric", "day"], name="dash_team_metric_idx"),
            models.Index(fields=["advisor_id", "metric", "day"], name="dash_adv_metric_idx"),
            models.Index(fields=["branch_id", "metric", "day"], name="dash_branch_metric_idx"),
            models.Index(fields=["day"], name="dash_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.count}"


class DailyRefresh(models.Model):
    """When each day's figures were last counted: the dashboards' "as of HH:MM"."""

    day = models.DateField(_("day"), unique=True)
    refreshed_at = models.DateTimeField(_("counted at"))
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} {self.refreshed_at:%Y-%m-%d %H:%M}"
