"""Tables of the referral list (the project's htmx table template renders them)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.templatetags.formatting import cny, local_dt
from scoring.templatetags.scores import proposal_score_html

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

    def __init__(self, *args, selectable: bool = False, **kwargs):
        exclude = kwargs.pop("exclude", ()) or ()
        if not selectable:
            exclude = (*exclude, "select")
        super().__init__(*args, exclude=exclude, **kwargs)

    def render_customer(self, record):
        url = reverse("referrals:detail", kwargs={"pk": record.pk})
        return format_html(
            '<a href="{}">{}</a> <span class="text-secondary small">{}</span>',
            url,
            record.customer.name_masked,
            record.customer.get_tier_display(),
        )

    def render_status(self, record):
        return status_badge(record)

    def render_sla(self, record):
        now = timezone.now()
        if record.status == ReferralStatus.PENDING:
            due, label = record.review_due_at, _("review")
        elif record.status == ReferralStatus.ACCEPTED and record.first_contacted_at is None:
            due, label = record.first_contact_due_at, _("first contact")
        else:
            return "—"
        if due is None:
            return "—"
        css = "text-danger fw-semibold" if due < now else ("text-warning-emphasis" if (due - now).days < 1 else "")
        return format_html('<span class="{}" title="{}">{}</span>', css, label, local_dt(due))

    def render_score(self, record, value):
        # The referral's own score, dated: the customer's current one is on the referral page.
        return proposal_score_html(value, record.created_at, label=_("at referral, %(date)s: %(score)s"))

    def render_outcome(self, record):
        if record.status == ReferralStatus.CONVERTED and record.converted_amount is not None:
            return format_html(
                "{} · {}",
                record.converted_product.name if record.converted_product else "",
                cny(record.converted_amount),
            )
        if record.status == ReferralStatus.REJECTED:
            return record.get_reject_reason_display()
        return "—"
