"""Referral exports (CSV and XLSX) for team leads, HQ and branch managers: the rows of
``ReferralFilter`` over the referrals the user may see, written by ``core.exports``.
The service records each export, with the number of rows it holds, before the file is built.
"""

from __future__ import annotations

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import export_response

from . import selectors, services


def _header() -> list[str]:
    return [
        _("Referral"),
        _("Customer number"),
        _("Customer"),
        _("Branch"),
        _("Referring advisor"),
        _("Team"),
        _("Relationship manager"),
        _("Status"),
        _("Score"),
        _("Referred at"),
        _("Accepted at"),
        _("First contact at"),
        _("Closed at"),
        _("Reject reason"),
        _("Product"),
        _("Converted amount (CNY)"),
        _("SLA breaches"),
    ]


def _row(r) -> list:
    advisor = getattr(r.from_advisor, "staff_profile", None) if r.from_advisor_id else None
    rm = getattr(r.assigned_rm, "staff_profile", None) if r.assigned_rm_id else None
    return [
        r.pk,
        r.customer.customer_no,
        r.customer.name,
        r.branch.name,
        advisor.display_name if advisor else "",
        advisor.team.name if advisor and advisor.team_id else "",
        rm.display_name if rm else "",
        r.get_status_display(),
        round(r.score, 1) if r.score is not None else "",
        r.created_at,
        r.accepted_at,
        r.first_contacted_at,
        r.closed_at,
        r.get_reject_reason_display() if r.reject_reason else "",
        r.converted_product.name if r.converted_product_id else "",
        r.converted_amount,
        r.breach_count,
    ]


def referral_export_response(*, actor, fmt: str, data):
    """The export of the referrals ``actor`` may see that ``data`` (the request's GET)
    filters, newest first; audited with its row count before anything is written."""
    filterset = selectors.referrals_filtered(user=actor, data=data)
    qs = filterset.qs
    services.referral_export_record(actor=actor, fmt=fmt, rows=qs.count(), filters=filterset.params())
    rows = (
        qs.select_related(
            "customer",
            "branch",
            "from_advisor__staff_profile__team",
            "assigned_rm__staff_profile",
            "converted_product",
        )
        .annotate(breach_count=Count("sla_breaches"))
        .order_by("-created_at", "-id")
        .iterator(chunk_size=2000)
    )
    return export_response(
        fmt=fmt,
        filename=f"referrals-{timezone.localtime():%Y%m%d-%H%M}",
        header=_header(),
        rows=(_row(r) for r in rows),
        sheet=_("Referrals"),
    )
