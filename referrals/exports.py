"""Referral exports (CSV and XLSX) for team leads, HQ and branch managers; every export is audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import spreadsheet_row

from . import selectors, services

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _headers() -> list[str]:
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


def _fmt(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _exported(*, user, since=None, until=None):
    """The referrals an export holds: the user's visible ones created in the period."""
    qs = selectors.referrals_visible(user=user)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    return qs


def export_rows(*, user, since=None, until=None):
    """The rows of the export, streamed (iterator) from the user's visible referrals."""
    rows = _export_rows(user=user, since=since, until=until)
    return (spreadsheet_row(row) for row in rows)


def _export_rows(*, user, since=None, until=None):
    from django.db.models import Count

    qs = (
        _exported(user=user, since=since, until=until)
        .select_related(
            "customer",
            "branch",
            "from_advisor__staff_profile__team",
            "assigned_rm__staff_profile",
            "converted_product",
        )
        .annotate(breach_count=Count("sla_breaches"))
        .order_by("-created_at", "-id")
    )
    for r in qs.iterator(chunk_size=2000):
        advisor = getattr(r.from_advisor, "staff_profile", None) if r.from_advisor_id else None
        rm = getattr(r.assigned_rm, "staff_profile", None) if r.assigned_rm_id else None
        yield [
            r.pk,
            r.customer.customer_no,
            r.customer.name,
            r.branch.name,
            advisor.display_name if advisor else "",
            advisor.team.name if advisor and advisor.team_id else "",
            rm.display_name if rm else "",
            r.get_status_display(),
            round(r.score, 1) if r.score is not None else "",
            _fmt(r.created_at),
            _fmt(r.accepted_at),
            _fmt(r.first_contacted_at),
            _fmt(r.closed_at),
            r.get_reject_reason_display() if r.reject_reason else "",
            r.converted_product.name if r.converted_product_id else "",
            r.converted_amount if r.converted_amount is not None else "",
            r.breach_count,
        ]


class _Echo:
    def write(self, value):
        return value


def referral_export_response(*, actor, fmt: str, since=None, until=None):
    count = _exported(user=actor, since=since, until=until).count()
    services.referral_export_record(
        actor=actor,
        fmt=fmt,
        rows=count,
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"referrals-{stamp}.{fmt}"
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def stream():
            yield "\ufeff"  # so Excel opens the UTF-8 Chinese text correctly
            yield writer.writerow(_headers())
            for row in export_rows(user=actor, since=since, until=until):
                yield writer.writerow(row)

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Referrals"))
        sheet.append(_headers())
        for row in export_rows(user=actor, since=since, until=until):
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
