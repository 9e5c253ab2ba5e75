"""Tables of the referral list (the project's htmx table template renders them)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from core.htmx import url_for_ids
from core.templatetags.formatting import cny, local_dt
from customers.models import Tier
from scoring.templatetags.scores import score_at_referral

from .models import Referral, ReferralStatus, RejectReason

STATUS_BADGE = {
    ReferralStatus.PENDING: "warning",
    ReferralStatus.ACCEPTED: "info",
    ReferralStatus.CONTACTED: "info",
    ReferralStatus.MEETING: "primary",
    ReferralStatus.CONVERTED: "success",
    ReferralStatus.LOST: "secondary",
    ReferralStatus.REJECTED: "danger",
    ReferralStatus.RETURNED: "dark",
}


# Choice labels by value (``get_FOO_display`` rebuilds the field's choices per call).
STATUS_LABELS = dict(ReferralStatus.choices)
REJECT_REASON_LABELS = dict(RejectReason.choices)
TIER_LABELS = dict(Tier.choices)
EMPTY = "—"
CELL_SEP = "\n    "  # between cells, as the row template wrote them


def choice_label(labels: dict, value) -> str:
    """A choice's label, or the stored value when it is not a choice (as
    ``get_FOO_display`` answers); the queue tables use it too."""
    found = labels.get(value, value)
    return "" if found is None else str(found)


def status_badge(referral: Referral) -> str:
    return format_html(
        '<span class="badge text-bg-{}" data-status="{}">{}</span>',
        STATUS_BADGE.get(referral.status, "secondary"),
        referral.status,
        choice_label(STATUS_LABELS, referral.status),
    )


class ReferralTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk", attrs={"input": {"name": "ids", "form": "bulk-form"}, "th__input": {"data-select-all": "ids"}}
    )
    customer = tables.Column(verbose_name=_("Customer"), accessor="customer__name", order_by=("customer__name",))
    status = tables.Column(verbose_name=_("Status"))
    sla = tables.Column(verbose_name=_("SLA deadline"), empty_values=(), order_by=("review_due_at",))
    branch = tables.Column(verbose_name=_("Branch"), accessor="branch__name")
    from_advisor = tables.Column(
        verbose_name=_("Referred by"), accessor="from_advisor__staff_profile__display_name", default="—"
    )
    assigned_rm = tables.Column(
        verbose_name=_("Relationship manager"), accessor="assigned_rm__staff_profile__display_name", default="—"
    )
    score = tables.Column(verbose_name=_("Score"))
    outcome = tables.Column(verbose_name=_("Outcome"), empty_values=(), orderable=False)
    created_at = tables.DateTimeColumn(verbose_name=_("Referred at"), format="Y-m-d H:i")

    class Meta:
        model = Referral
        fields = ()
        sequence = (
            "select",
            "customer",
            "status",
            "sla",
            "branch",
            "from_advisor",
            "assigned_rm",
            "score",
            "outcome",
            "created_at",
        )
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "referral-table"}
        row_attrs = {"data-referral": lambda record: record.pk}
        empty_text = _("No referrals here. Try another tab or clear the filters.")
        template_name = "referrals/_referral_table.html"

    def __init__(self, *args, selectable: bool = False, **kwargs):
        exclude = kwargs.pop("exclude", ()) or ()
        if not selectable:
            exclude = (*exclude, "select")
        super().__init__(*args, exclude=exclude, **kwargs)
        self.selectable = selectable
        self.now = timezone.now()

    # The cells of a row are written here in Python, one string per row, and the row
    # template (referrals/_referral_table.html) puts each in its <tr>: django-tables2's
    # per-cell rendering, then the template engine's per-cell tags, were most of the
    # inbox's server time at a million customers (tests/test_views.py pins the words).
    @property
    def page_cells(self) -> list[tuple[int, SafeString]]:
        detail_url = url_for_ids("referrals:detail")
        return [
            (row.record.pk, self.referral_cells(row.record, detail_url(row.record.pk))) for row in self.paginated_rows
        ]

    def referral_cells(self, r: Referral, url: str) -> SafeString:
        cells = []
        if self.selectable:
            cells.append(format_html('<td><input type="checkbox" name="ids" value="{}" form="bulk-form" /></td>', r.pk))
        if r.status == ReferralStatus.CONVERTED and r.converted_amount is not None:
            product = r.converted_product.name if r.converted_product_id is not None else ""
            outcome = format_html("{} · {}", product, cny(r.converted_amount))
        elif r.status == ReferralStatus.REJECTED:
            outcome = choice_label(REJECT_REASON_LABELS, r.reject_reason)
        else:
            outcome = EMPTY
        cells += [
            format_html(
                '<td><a href="{}">{}</a> <span class="text-secondary small">{}</span></td>',
                url,
                r.customer.name_masked,
                choice_label(TIER_LABELS, r.customer.tier),
            ),
            format_html("<td>{}</td>", status_badge(r)),
            format_html("<td>{}</td>", sla_cell(r, self.now)),
            format_html("<td>{}</td>", r.branch.name or EMPTY),
            format_html("<td>{}</td>", _display_name(r.from_advisor)),
            format_html("<td>{}</td>", _display_name(r.assigned_rm)),
            format_html("<td>{}</td>", score_at_referral(r)),
            format_html("<td>{}</td>", outcome),
            format_html("<td>{}</td>", local_dt(r.created_at)),
        ]
        return mark_safe(CELL_SEP.join(cells))  # noqa: S308 - every cell is built by format_html


def _display_name(user) -> str:
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return (profile.display_name if profile is not None else "") or EMPTY


def sla_cell(referral: Referral, now) -> str:
    """The deadline the referral is waiting on (review, then first contact), red once passed."""
    if referral.status == ReferralStatus.PENDING:
        due, label = referral.review_due_at, _("review")
    elif referral.status == ReferralStatus.ACCEPTED and referral.first_contacted_at is None:
        due, label = referral.first_contact_due_at, _("first contact")
    else:
        return "—"
    if due is None:
        return "—"
    css = "text-danger fw-semibold" if due < now else ("text-warning-emphasis" if (due - now).days < 1 else "")
    return format_html('<span class="{}" title="{}">{}</span>', css, label, local_dt(due))
