"""The dashboards: the funnel, remote-centre operations, the branch view, and the list
of records behind any figure. Thin: parse the parameters, read the selectors, render
the page (or its htmx partial), or hand a table to the export helper."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.selectors import MEASURES
from core.access import require
from core.exports import FORMATS, export_response
from core.pagination import CappedPaginator, capped_count
from leads.models import Grade

from . import selectors, tables
from .access import (
    can_open_stage,
    can_pick_advisor,
    can_pick_branch,
    can_pick_team,
    can_view_branch_dashboard,
    can_view_funnel,
    can_view_operations,
    records_for,
    scope_of,
)
from .forms import ID_FIELDS, PERIOD_KINDS, read_params
from .models import Metric
from .services import dashboard_export_record, day_bounds

GRADE_WORDS = dict(Grade.choices)
TABS = (
    ("dashboards:funnel", gettext_lazy("Funnel"), can_view_funnel),
    ("dashboards:operations", gettext_lazy("Remote-centre operations"), can_view_operations),
    ("dashboards:branch", gettext_lazy("Branch view"), can_view_branch_dashboard),
)


def _params(request, default_kind: str = "week"):
    period, filters, by, form = read_params(request.GET, default_kind=default_kind)
    if form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return period, filters, by, form


def _query(period, filters, **extra) -> str:
    """The query string that gives the same period and filters (for links to the records)."""
    params = {"period": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}
    params.update({k: v for k, v in filters.items() if v is not None})
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return urlencode(params)


def _context(request, period, filters, form) -> dict:
    user = request.user
    return {
        "period": period,
        "previous_period": period.previous(),
        "filters": filters,
        "form": form,
        "scope": scope_of(user),
        "choices": selectors.filter_choices(user=user),
        "pick_team": can_pick_team(user),
        "pick_advisor": can_pick_advisor(user),
        "pick_branch": can_pick_branch(user),
        "as_of": selectors.as_of(period=period),
        "query": _query(period, filters),
        "period_kinds": PERIOD_KINDS,
        "dashboard_tabs": [(name, label) for name, label, allowed in TABS if allowed(user)],
    }


def _export(request, name: str, filters: dict, period, header, rows):
    fmt = request.GET.get("export", "")
    if fmt not in FORMATS:
        return HttpResponse(_("Unknown export format."), status=400)
    rows = list(rows)
    dashboard_export_record(
        actor=request.user,
        table=name,
        fmt=fmt,
        rows=len(rows),
        filters={"start": period.start, "end": period.end, **filters},
    )
    return export_response(fmt=fmt, filename=f"{name}-{period.start}-{period.end}", header=header, rows=rows)


@require(can_view_funnel)
def funnel(request):
    period, filters, by, form = _params(request)
    user = request.user
    breakdowns = selectors.breakdowns_for(user)
    by = by if by in breakdowns else breakdowns[0]
    stages = selectors.funnel(user=user, period=period, filters=filters)
    breakdown = selectors.funnel_breakdown(user=user, period=period, filters=filters, by=by)
    if "export" in request.GET:
        table = request.GET.get("table")
        if table == "breakdown":
            header, rows = tables.breakdown_table(stages, breakdown, by)
        else:
            header, rows = tables.funnel_table(stages)
        return _export(request, f"funnel-{table or 'stages'}", filters, period, header, rows)
    context = {
        **_context(request, period, filters, form),
        "stages": stages,
        "breakdown": breakdown,
        "by": by,
        "breakdowns": [(k, selectors.BREAKDOWNS[k]) for k in breakdowns],
        "trend": selectors.funnel_trend(user=user, period=period, filters=filters),
    }
    for stage in stages:
        stage.url = (
            f"{reverse('dashboards:records')}?{_query(period, filters, metric=stage.metric)}" if stage.linkable else ""
        )
        stage.grade_cells = [
            (
                g,
                GRADE_WORDS[g],
                n,
                f"{reverse('dashboards:records')}?{_query(period, filters, metric=stage.metric, detail=g)}"
                if stage.linkable
                else "",
            )
            for g, n in stage.grades.items()
        ]
    dim_field = {"team": "team", "advisor": "advisor", "branch": "branch", "campaign": "campaign"}[by]
    for row in breakdown:
        links = [
            f"{reverse('dashboards:records')}?{_query(period, {**filters, dim_field: row['key']}, metric=s.metric)}"
            if s.linkable and row["key"] is not None
            else ""
            for s in stages
        ]
        row["cells"] = list(zip(row["figures"], links, strict=True))
    trend = context["trend"]
    context["trend_rows"] = [
        (label, [s["data"][i] for s in trend["series"]]) for i, label in enumerate(trend["labels"])
    ]
    context["by_label"] = selectors.BREAKDOWNS[by]
    if request.htmx:
        return render(request, "dashboards/funnel.html#dashboard-body", context)
    return render(request, "dashboards/funnel.html", context)


@require(can_view_operations)
def operations(request):
    period, filters, _by, form = _params(request)
    user = request.user
    data = selectors.operations(user=user, period=period, filters=filters)
    if "export" in request.GET:
        table = request.GET.get("table", "advisors")
        header, rows = tables.operations_table(data, table)
        return _export(request, f"operations-{table}", filters, period, header, rows)
    flows = data["flows"]
    flows["url"] = (
        f"{reverse('dashboards:records')}?{_query(period, filters, metric=Metric.NET_NEW_MONEY)}"
        if flows["linkable"]
        else ""
    )
    context = {
        **_context(request, period, filters, form),
        **data,
        "net_new_money_help": selectors.NET_NEW_MONEY_HELP,
        "measures": MEASURES,
        "chart": tables.operations_chart(data),
        "target": data["total"].kpis.effective_target,
    }
    if request.htmx:
        return render(request, "dashboards/operations.html#dashboard-body", context)
    return render(request, "dashboards/operations.html", context)


@require(can_view_branch_dashboard)
def branch(request):
    period, filters, _by, form = _params(request)
    user = request.user
    data = selectors.branch_view(user=user, period=period, filters=filters)
    if "export" in request.GET:
        table = request.GET.get("table", "rms")
        header, rows = tables.branch_table(data, table)
        return _export(request, f"branch-{table}", filters, period, header, rows)
    context = {**_context(request, period, filters, form), **data}
    link = {}
    for metric in (
        Metric.REFERRED,
        Metric.REVIEWED_ON_TIME,
        Metric.ACCEPTED,
        Metric.REJECTED,
        Metric.CONTACTED_ON_TIME,
        Metric.CONVERTED,
        Metric.RETURNED,
    ):
        if can_open_stage(user, metric):
            link[metric] = f"{reverse('dashboards:records')}?{_query(period, filters, metric=metric)}"
    context["links"] = link
    if request.htmx:
        return render(request, "dashboards/branch.html#dashboard-body", context)
    return render(request, "dashboards/branch.html", context)


@require(can_view_funnel)
def records(request):
    """The records behind a figure: the same rows the figure counts, in their row rules."""
    period, filters, _by, form = _params(request)
    user = request.user
    metric = request.GET.get("metric", "")
    detail = request.GET.get("detail", "")[:32]
    if metric not in tables.RECORD_LABELS or not can_open_stage(user, metric):
        if metric:
            messages.error(request, _("These figures have no list of records for you."))
        metric = ""
    start = day_bounds(period.start)[0]
    end = day_bounds(period.end)[1]
    qs = records_for(user, metric, start=start, end=end, filters=filters, detail=detail) if metric else None
    total = capped_count(qs) if qs is not None else 0
    if "export" in request.GET and qs is not None:
        header, rows = tables.record_table(metric, tables.record_rows(metric, qs))
        return _export(request, f"records-{metric}", filters, period, header, rows)
    page = None
    rows = []
    if qs is not None:
        paginator = CappedPaginator(tables.ordered(metric, qs), 50)
        page = paginator.get_page(request.GET.get("page"))
        rows = tables.record_rows(metric, page.object_list)
    context = {
        **_context(request, period, filters, form),
        "metric": metric,
        "metric_label": tables.RECORD_LABELS.get(metric, ""),
        "detail": detail,
        "total": total,
        "rows": rows,
        "page": page,
        "headers": tables.record_headers(metric) if metric else [],
        "flows": selectors.flow_totals(qs) if metric == Metric.NET_NEW_MONEY else None,
        "query": _query(period, filters, metric=metric, detail=detail),
        "id_fields": ID_FIELDS,
    }
    return render(request, "dashboards/records.html", context)
