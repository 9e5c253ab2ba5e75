"""Queue tables (django-tables2). Rows link to the call screen.

The columns (headers, sorting) are declared here. A row's cells are written here too,
in Python, one string per row (``page_cells``), and the row template
(``calls/_*_table.html``) only puts each in its ``<tr>``: django-tables2's per-cell
rendering, and then the template engine's per-cell tags and lookups, were most of a
queue tab's server time at a million customers. ``tests/test_views.py`` pins every
column and word of each row.
"""

from __future__ import annotations

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.htmx import url_for_ids
from core.templatetags.formatting import cny, local_dt, reasons_short
from leads.models import Grade, Lead, PlannedCall, PlannedCallKind
from org.roles import staff_name
from referrals.models import Referral
from referrals.tables import CELL_SEP, EMPTY, STATUS_LABELS, TIER_LABELS, choice_label
from scoring.templatetags.scores import current_score_html, score_at_proposal, score_at_referral

from .models import CallLog

# Choice labels by value, looked up once per cell (``get_FOO_display`` rebuilds the
# field's choices for every call).
GRADE_LABELS = dict(Grade.choices)
KIND_LABELS = dict(PlannedCallKind.choices)
GRADE_BADGE = {"high": "danger", "mid": "warning", "low": "secondary"}
REFERRAL_STATUS_BADGE = {"converted": "success", "rejected": "danger", "lost": "secondary", "pending": "warning"}


def _cells(*cells) -> SafeString:
    return mark_safe(CELL_SEP.join(cells))  # noqa: S308 - every cell is built by format_html


def _customer_link(url: str, customer) -> SafeString:
    return format_html(
        '<td><a href="{}" class="fw-semibold">{}</a> <span class="text-secondary small">{}</span></td>',
        url,
        customer.name_masked,
        customer.customer_no,
    )


def _due(when, now, overdue: str) -> SafeString:
    if when < now:
        return format_html('<span class="text-danger fw-semibold">{} · {}</span>', local_dt(when), overdue)
    return format_html("{}", local_dt(when))


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

    @property
    def page_cells(self) -> list[tuple[int, SafeString]]:
        """(lead id, the row's cells) for the rows of the page."""
        words = {"overdue": gettext("overdue"), "unclaimed": gettext("Unclaimed"), "open": gettext("Open")}
        call_url = url_for_ids("calls:call")
        return [
            (row.record.pk, self.lead_cells(row.record, call_url(row.record.pk), words)) for row in self.paginated_rows
        ]

    def lead_cells(self, lead, url: str, words: dict) -> SafeString:
        c = lead.customer
        if lead.score is None:
            score = format_html('<td class="num">{}</td>', EMPTY)
        else:
            score = format_html(
                '<td class="num">{}<br>{}</td>',
                current_score_html(c),
                score_at_proposal(lead),
            )
        grade = lead.confirmed_grade or lead.proposed_grade
        if self.nurture:
            middle = (self._next_touch(lead, words), self._touches(lead))
        else:
            middle = (format_html("<td>{}</td>", reasons_short(lead.reasons)),)
        if lead.owner_id is None:
            owner = format_html('<td><span class="badge text-bg-light">{}</span></td>', words["unclaimed"])
        else:
            owner = format_html("<td>{}</td>", staff_name(lead.owner))
        return _cells(
            _customer_link(url, c),
            format_html(
                '<td class="num"><span class="text-secondary small me-1">{}</span>{}</td>',
                choice_label(TIER_LABELS, c.tier),
                cny(c.aum, 0),
            ),
            score,
            format_html(
                '<td><span class="badge text-bg-{}">{}</span></td>',
                GRADE_BADGE.get(grade, "light"),
                choice_label(GRADE_LABELS, grade),
            ),
            *middle,
            owner,
            format_html(
                '<td><a class="btn btn-sm btn-outline-primary" href="{}"><i class="bi bi-telephone"></i> {}</a></td>',
                url,
                words["open"],
            ),
        )

    def _next_touch(self, lead, words: dict) -> SafeString:
        if lead.next_touch_at is None:
            return format_html("<td>{}</td>", EMPTY)
        return format_html("<td>{}</td>", _due(lead.next_touch_at, self.now, words["overdue"]))

    @staticmethod
    def _touches(lead) -> SafeString:
        try:
            plan = lead.nurture_plan
        except ObjectDoesNotExist:
            plan = None
        if plan is None:
            return format_html("<td>{}</td>", EMPTY)
        return format_html("<td>{}/{}</td>", plan.touches_done, plan.touches_planned)


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

    @property
    def page_cells(self) -> list[tuple[int, SafeString]]:
        """(lead id, the row's cells) for the planned calls of the page."""
        overdue, call = gettext("overdue"), gettext("Call")
        call_url = url_for_ids("calls:call")
        rows = []
        for row in self.paginated_rows:
            p = row.record
            url = call_url(p.lead_id)
            kind = format_html("{}", choice_label(KIND_LABELS, p.kind) or EMPTY)
            if p.touch_no:
                kind = format_html("{} #{}", kind, p.touch_no)
            cells = _cells(
                format_html("<td>{}</td>", _due(p.due_at, self.now, overdue)),
                _customer_link(url, p.customer),
                format_html("<td>{}</td>", kind),
                format_html("<td>{}</td>", p.note or EMPTY),
                format_html("<td>{}</td>", staff_name(p.advisor)),
                format_html(
                    '<td><a class="btn btn-sm btn-primary" href="{}">'
                    '<i class="bi bi-telephone-outbound"></i> {}</a></td>',
                    url,
                    call,
                ),
            )
            rows.append((p.lead_id, cells))
        return rows


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

    @property
    def page_cells(self) -> list[SafeString]:
        """The cells of each referral of the page."""
        call_url = url_for_ids("calls:call")
        rows = []
        for row in self.paginated_rows:
            r = row.record
            rm = EMPTY if r.assigned_rm_id is None else staff_name(r.assigned_rm)
            rows.append(
                _cells(
                    _customer_link(call_url(r.lead_id), r.customer),
                    format_html("<td>{}</td>", r.branch or EMPTY),
                    format_html(
                        '<td><span class="badge text-bg-{}">{}</span></td>',
                        REFERRAL_STATUS_BADGE.get(r.status, "info"),
                        choice_label(STATUS_LABELS, r.status),
                    ),
                    format_html("<td>{}</td>", rm),
                    format_html('<td class="num">{}</td>', score_at_referral(r)),
                    format_html('<td class="num">{}</td>', cny(r.converted_amount, 0)),
                    format_html("<td>{}</td>", local_dt(r.created_at)),
                )
            )
        return rows
