"""htmx helpers shared by every app's views."""

from __future__ import annotations

import django_tables2 as tables
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from .pagination import CappedPaginator


def render_table_page(
    request,
    template: str,
    table: tables.Table,
    context: dict,
    *,
    per_page: int = 50,
    partials: tuple[str, ...] = (),
    known_count: int | None = None,
) -> HttpResponse:
    """Render a list page, or only the partial htmx aims at.

    The page template defines ``{% partialdef table %}`` around ``{% render_table table %}``;
    the project table template (core/_table.html) wraps it in the element whose id is the
    table's ``htmx_target`` (default "table") and aims sort and page links at it. Other
    partials in ``partials`` are named after the DOM id they replace. Every table pages
    with the capped count of ``core.pagination`` (``known_count``: that count, when the
    page has it already).
    """
    paginate = {"per_page": per_page, "paginator_class": CappedPaginator, "default_per_page": per_page}
    if known_count is not None:
        paginate["known_count"] = known_count
    tables.RequestConfig(request, paginate=paginate).configure(table)
    context = {**context, "table": table}
    if request.htmx:
        targets = {getattr(table, "htmx_target", "table"): "table", **{p: p for p in partials}}
        if request.htmx.target in targets:
            return render(request, f"{template}#{targets[request.htmx.target]}", context)
    return render(request, template, context)


def redirect_for(request, url: str) -> HttpResponse:
    """After a POST: a client-side redirect for htmx, a plain redirect otherwise."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


_ID_SLOT = 987654321


def url_for_ids(name: str):
    """``reverse(name, args=[id])`` for every row of a page at the cost of one
    ``reverse`` (a row template's links were a fifth of its time): for URL patterns
    whose only argument is an integer id."""
    head, tail = reverse(name, args=[_ID_SLOT]).rsplit(str(_ID_SLOT), 1)
    return lambda pk: f"{head}{int(pk)}{tail}"
