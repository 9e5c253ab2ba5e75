"""htmx helpers shared by every app's views."""

from __future__ import annotations

import django_tables2 as tables
from django.http import HttpResponse
from django.shortcuts import render


def render_table_page(
    request, template: str, table: tables.Table, context: dict, *, per_page: int = 50, paginator_class=None
) -> HttpResponse:
    """Render a list page, or only its ``table`` partial when htmx asks for the table.

    The page template defines ``{% partialdef table %}`` around ``{% render_table table %}``;
    the project table template (_table.html) aims sort and page links at the table.
    """
    paginate: dict = {"per_page": per_page}
    if paginator_class is not None:
        paginate["paginator_class"] = paginator_class
    tables.RequestConfig(request, paginate=paginate).configure(table)
    context = {**context, "table": table}
    if request.htmx and request.htmx.target == getattr(table, "htmx_target", "table"):
        return render(request, f"{template}#table", context)
    return render(request, template, context)
