"""Queue tables (django-tables2). Rows link to the call screen."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.templatetags.formatting import cny, reason_text
from leads.models import Lead, PlannedCall
from org.roles import staff_name
from referrals.models import Referral
from scoring.templatetags.scores import current_score_html, proposal_score_html

from .models import CallLog

GRADE_BADGE = {"high": "danger", "mid": "warning", "low": "secondary"}


def _customer_cell(lead_id: int, customer) -> str:
    return format_html(
        '<a href="{}" class="fw-semibold">{}</a> <span class="text-secondary small">{}</span>',
        reverse("calls:call", args=[lead_id]),
        customer.name_masked,
        customer.customer_no,
    )


def _grade_badge(value: str, label: str) -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', GRADE_BADGE.get(value, "light"), label)


class LeadQueueTable(tables.Table):
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name",))
    aum = tables.Column(verbose_name=_("AUM (CNY)"), accessor="customer__aum", attrs={"td": {"class": "num"}})
    score = tables.Column(verbose_name=_("Score"), attrs={"td": {"class": "num"}})
    proposed_grade = tables.Column(verbose_name=_("Grade"))
    reasons = tables.Column(verbose_name=_("Why"), orderable=False)
    owner = tables.Column(verbose_name=_("Advisor"), order_by=("owner__username",), empty_values=())
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta:
        empty_text = _(
            "No leads here. New leads arrive as scoring proposes them; try another tab or clear the filters."
        )
        model = Lead
        fields = ("customer", "aum", "score", "proposed_grade", "reasons", "owner")
        attrs = {"class": "table table-sm table-hover", "data-testid": "queue-table"}
        row_attrs = {"data-lead": lambda record: record.pk}
        order_by = ("-score",)

    def render_customer(self, record):
        return _customer_cell(record.pk, record.customer)

    def render_aum(self, record, value):
        # Tier and AUM in one cell: fewer cells keep a 25-row page cheap to render.
        return format_html(
            '<span class="text-secondary small me-1">{}</span>{}', record.customer.get_tier_display(), cny(value, 0)
        )

    def render_score(self, record, value):
        # The customer's current score (time and model) above the lead's own score at
        # proposal, which the queue sorts on: after a retrain the two differ, labelled.
        return format_html(
            "{}<br>{}", current_score_html(record.customer), proposal_score_html(value, record.score_taken_at)
        )

    def render_proposed_grade(self, record):
        if record.confirmed_grade:
            return _grade_badge(record.confirmed_grade, record.get_confirmed_grade_display())
        return _grade_badge(record.proposed_grade, record.get_proposed_grade_display())

    def render_reasons(self, value):
        texts = [reason_text(r) for r in (value or [])[:2] if isinstance(r, dict)]
        separator = "；" if (get_language() or "").startswith("zh") else "; "
        return separator.join(t for t in texts if t) or "—"

    def render_owner(self, record):
        if record.owner_id is None:
            return format_html('<span class="badge text-bg-light">{}</span>', _("Unclaimed"))
        return staff_name(record.owner)

    def render_actions(self, record):
        return format_html(
            '<a class="btn btn-sm btn-outline-primary" href="{}"><i class="bi bi-telephone"></i> {}</a>',
            reverse("calls:call", args=[record.pk]),
            _("Open"),
        )


class NurtureTable(LeadQueueTable):
    next_touch = tables.Column(verbose_name=_("Next touch"), accessor="next_touch_at", order_by=("next_touch_at",))
    touches = tables.Column(verbose_name=_("Touches"), accessor="nurture_plan__touches_done", orderable=False)

    class Meta(LeadQueueTable.Meta):
        empty_text = _("No leads in nurture. Mid-grade leads you confirm get a nurture plan and are listed here.")
        fields = ("customer", "aum", "score", "proposed_grade", "next_touch", "touches", "owner")
        sequence = ("customer", "aum", "score", "proposed_grade", "next_touch", "touches", "owner", "...")
        order_by = ("next_touch",)
        exclude = ("reasons",)

    def render_next_touch(self, value):
        if value is None:
            return "—"
        local = timezone.localtime(value)
        if value < timezone.now():
            return format_html(
                '<span class="text-danger fw-semibold">{} · {}</span>', f"{local:%m-%d %H:%M}", _("overdue")
            )
        return f"{local:%m-%d %H:%M}"

    def render_touches(self, record):
        plan = getattr(record, "nurture_plan", None)
        return f"{plan.touches_done}/{plan.touches_planned}" if plan else "—"


class CompletedCallTable(tables.Table):
    """The "Completed today" tab: what the advisor did today, call by call."""

    started_at = tables.DateTimeColumn(format="H:i", verbose_name=_("Time"))
    customer = tables.Column(verbose_name=_("Customer"), orderable=False)
    purpose = tables.Column(verbose_name=_("Purpose"))
    disposition = tables.Column(verbose_name=_("Outcome"), orderable=False)
    duration_seconds = tables.Column(verbose_name=_("Duration"), attrs={"td": {"class": "num"}})
    next_action = tables.Column(verbose_name=_("Next step"))
    advisor = tables.Column(verbose_name=_("Advisor"), orderable=False)

    class Meta:
        model = CallLog
        fields = ("started_at", "customer", "purpose", "disposition", "duration_seconds", "next_action", "advisor")
        attrs = {"class": "table table-sm table-hover", "data-testid": "done-table"}
        empty_text = _("No calls logged today yet. Calls you save on a call screen are listed here.")

    def render_customer(self, record):
        if record.lead_id is None:
            return format_html(
                "{} <span class='text-secondary small'>{}</span>",
                record.customer.name_masked,
                record.customer.customer_no,
            )
        return _customer_cell(record.lead_id, record.customer)

    def render_purpose(self, record):
        label = record.get_purpose_display()
        if record.service_reason:
            return format_html("{} <span class='text-secondary small'>· {}</span>", label, record.service_reason)
        return label

    def render_duration_seconds(self, value):
        return f"{value // 60}:{value % 60:02d}"

    def render_next_action(self, record):
        return record.get_next_action_display()

    def render_advisor(self, record):
        return staff_name(record.advisor)


class PlannedCallTable(tables.Table):
    due_at = tables.Column(verbose_name=_("Due"))
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name",))
    kind = tables.Column(verbose_name=_("Kind"))
    note = tables.Column(verbose_name=_("Note"), orderable=False)
    advisor = tables.Column(verbose_name=_("Advisor"), order_by=("advisor__username",))
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta:
        empty_text = _("No calls planned for today. Callbacks and nurture touches appear here on the day they are due.")
        model = PlannedCall
        fields = ("due_at", "customer", "kind", "note", "advisor")
        attrs = {"class": "table table-sm table-hover", "data-testid": "today-table"}
        row_attrs = {"data-lead": lambda record: record.lead_id}
        order_by = ("due_at",)

    def render_due_at(self, value):
        local = timezone.localtime(value)
        if value < timezone.now():
            return format_html(
                '<span class="text-danger fw-semibold">{} · {}</span>', f"{local:%m-%d %H:%M}", _("overdue")
            )
        return f"{local:%m-%d %H:%M}"

    def render_customer(self, record):
        return _customer_cell(record.lead_id, record.customer)

    def render_kind(self, record):
        label = record.get_kind_display()
        if record.touch_no:
            label = f"{label} #{record.touch_no}"
        return label

    def render_advisor(self, record):
        return staff_name(record.advisor)

    def render_actions(self, record):
        return format_html(
            '<a class="btn btn-sm btn-primary" href="{}"><i class="bi bi-telephone-outbound"></i> {}</a>',
            reverse("calls:call", args=[record.lead_id]),
            _("Call"),
        )


class ReferralQueueTable(tables.Table):
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name",))
    branch = tables.Column(verbose_name=_("Branch"))
    status = tables.Column(verbose_name=_("Branch status"))
    assigned_rm = tables.Column(verbose_name=_("Relationship manager"), order_by=("assigned_rm__username",))
    score = tables.Column(verbose_name=_("Score"), attrs={"td": {"class": "num"}})
    converted_amount = tables.Column(verbose_name=_("Converted (CNY)"), attrs={"td": {"class": "num"}})
    created_at = tables.DateTimeColumn(verbose_name=_("Referred"), format="Y-m-d H:i")

    class Meta:
        empty_text = _("No referrals yet. Confirm a lead as high on its call screen to refer it to a branch.")
        model = Referral
        fields = ("customer", "branch", "status", "assigned_rm", "score", "converted_amount", "created_at")
        attrs = {"class": "table table-sm table-hover", "data-testid": "referred-table"}
        order_by = ("-created_at",)

    def render_customer(self, record):
        return _customer_cell(record.lead_id, record.customer)

    def render_status(self, record):
        colour = {"converted": "success", "rejected": "danger", "lost": "secondary", "pending": "warning"}.get(
            record.status, "info"
        )
        return format_html('<span class="badge text-bg-{}">{}</span>', colour, record.get_status_display())

    def render_assigned_rm(self, record):
        return staff_name(record.assigned_rm)

    def render_score(self, record, value):
        # The referral's own score, dated: the customer's current one is on the referral page.
        return proposal_score_html(value, record.created_at, label=_("at referral, %(date)s: %(score)s"))

    def render_converted_amount(self, value):
        return cny(value, 0)
