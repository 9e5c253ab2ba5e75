"""Tables of the referral list (the project's htmx table template renders them)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.templatetags.formatting import local_dt

from .models import Referral, ReferralStatus

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


def status_badge(referral: Referral) -> str:
    return format_html(
        '<span class="badge text-bg-{}" data-status="{}">{}</span>',
        STATUS_BADGE.get(referral.status, "secondary"),
        referral.status,
        referral.get_status_display(),
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

    # Cells are written by referrals/_referral_table.html (no per-cell rendering calls:
    # the inbox's page stays fast at a million customers).


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
