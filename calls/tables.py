"""Queue tables (django-tables2). Rows link to the call screen.

The columns (headers, sorting) are declared here; the cells are written by a row template
per table (``calls/_*_table.html``), as the customer list does: django-tables2's per-cell
rendering was most of a queue tab's server time at a million customers.
"""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leads.models import Lead, PlannedCall
from referrals.models import Referral

from .models import CallLog


class LeadQueueTable(tables.Table):
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name",))
    # Tier and AUM in one cell: fewer cells keep a 25-row page cheap to render.
    aum = tables.Column(verbose_name=_("AUM (CNY)"), accessor="customer__aum", attrs={"td": {"class": "num"}})
    # The customer's current score (time and model) above the lead's own score at
    # proposal, which the queue sorts on: after a retrain the two differ, labelled.
    score = tables.Column(verbose_name=_("Score"), attrs={"td": {"class": "num"}})
    proposed_grade = tables.Column(verbose_name=_("Grade"))
    reasons = tables.Column(verbose_name=_("Why"), orderable=False)
    owner = tables.Column(verbose_name=_("Advisor"), order_by=("owner__username",), empty_values=())
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False)

    nurture = False  # the row template shows the next touch and touches instead of the reasons

    class Meta:
        empty_text = _(
            "No leads here. New leads arrive as scoring proposes them; try another tab or clear the filters."
        )
        model = Lead
        fields = ("customer", "aum", "score", "proposed_grade", "reasons", "owner")
        attrs = {"class": "table table-sm table-hover", "data-testid": "queue-table"}
        row_attrs = {"data-lead": lambda record: record.pk}
        order_by = ("-score",)
        template_name = "calls/_lead_table.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = timezone.now()  # what "overdue" is measured against, once per page


class NurtureTable(LeadQueueTable):
    next_touch = tables.Column(verbose_name=_("Next touch"), accessor="next_touch_at", order_by=("next_touch_at",))
    touches = tables.Column(verbose_name=_("Touches"), accessor="nurture_plan__touches_done", orderable=False)

    nurture = True

    class Meta(LeadQueueTable.Meta):
        empty_text = _("No leads in nurture. Mid-grade leads you confirm get a nurture plan and are listed here.")
        fields = ("customer", "aum", "score", "proposed_grade", "next_touch", "touches", "owner")
        sequence = ("customer", "aum", "score", "proposed_grade", "next_touch", "touches", "owner", "...")
        order_by = ("next_touch",)
        exclude = ("reasons",)


class CompletedCallTable(tables.Table):
    """The "Completed today" tab: what the advisor did today, call by call."""

    started_at = tables.DateTimeColumn(format="H:i", verbose_name=_("Time"))
    customer = tables.Column(verbose_name=_("Customer"), orderable=False)
    purpose = tables.Column(verbose_name=_("Purpose"))
    disposition = tables.Column(verbose_name=pgettext_lazy("call", "Outcome"), orderable=False)
    duration_seconds = tables.Column(verbose_name=_("Duration"), attrs={"td": {"class": "num"}})
    next_action = tables.Column(verbose_name=_("Next step"))
    advisor = tables.Column(verbose_name=_("Advisor"), orderable=False)

    class Meta:
        model = CallLog
        fields = ("started_at", "customer", "purpose", "disposition", "duration_seconds", "next_action", "advisor")
        attrs = {"class": "table table-sm table-hover", "data-testid": "done-table"}
        empty_text = _("No calls logged today yet. Calls you save on a call screen are listed here.")
        template_name = "calls/_completed_call_table.html"


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
        template_name = "calls/_planned_call_table.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = timezone.now()


class ReferralQueueTable(tables.Table):
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name",))
    branch = tables.Column(verbose_name=_("Branch"))
    status = tables.Column(verbose_name=_("Branch status"))
    assigned_rm = tables.Column(verbose_name=_("Relationship manager"), order_by=("assigned_rm__username",))
    # The referral's own score, dated: the customer's current one is on the referral page.
    score = tables.Column(verbose_name=_("Score"), attrs={"td": {"class": "num"}})
    converted_amount = tables.Column(verbose_name=_("Converted (CNY)"), attrs={"td": {"class": "num"}})
    created_at = tables.DateTimeColumn(verbose_name=_("Referred"), format="Y-m-d H:i")

    class Meta:
        empty_text = _("No referrals yet. Confirm a lead as high on its call screen to refer it to a branch.")
        model = Referral
        fields = ("customer", "branch", "status", "assigned_rm", "score", "converted_amount", "created_at")
        attrs = {"class": "table table-sm table-hover", "data-testid": "referred-table"}
        order_by = ("-created_at",)
        template_name = "calls/_referral_queue_table.html"
