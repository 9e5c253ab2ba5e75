"""The one way the workbench hands data out as a file: CSV (UTF-8 with a BOM, streamed)
or XLSX, every text cell defused so a spreadsheet never runs it as a formula.

The caller's service records the export (who took how many rows of what) before the
response is built: ``export_response`` only writes the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell starting with one of these is a formula to Excel/WPS: names, notes and uploaded
# values are data, so they get a leading apostrophe (shown as text, never evaluated).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_row(values) -> list:
    return [spreadsheet_safe(v) for v in values]


def _cell(value):
    """A value as a spreadsheet cell: numbers stay numbers, times are local, the rest text."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    return spreadsheet_safe(str(value))


class _Echo:
    def write(self, value):
        return value


def export_response(
    *, fmt: str, filename: str, header: Sequence, rows: Iterable[Sequence], sheet: str = "data"
) -> HttpResponse:
    """A download of ``rows`` under ``header`` as ``filename``.``fmt`` (``csv`` or ``xlsx``).

    CSV streams row by row (memory stays flat for a 100,000-row export); XLSX is built
    in write-only mode. ``fmt`` must be one of :data:`FORMATS` (the view checks it).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def stream():
            yield "\ufeff"  # Excel opens UTF-8 Chinese text correctly only with a BOM
            yield writer.writerow([_cell(h) for h in header])
            for row in rows:
                yield writer.writerow([_cell(v) for v in row])

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    else:
        book = Workbook(write_only=True)
        ws = book.create_sheet(sheet[:31])
        ws.append([_cell(h) for h in header])
        for row in rows:
            ws.append([_cell(v) for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
