"""The global holdout's pages: its draws with the re-draw action (campaign managers and
administrators) and the monthly report of touched against held-out customers (with
compliance reading it too). Group totals only: no individual customer is shown."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.access import require
from core.exports import FORMATS, export_response
from core.forms import form_add_service_errors
from customers.models import Customer

from . import access
from .holdout import (
    PERCENT_MAX,
    PERCENT_MIN,
    earliest_redraw,
    held_out_q,
    holdout_history,
    holdout_redraw,
    holdout_report_export_record,
    holdout_report_for_page,
)


class RedrawForm(forms.Form):
    """Parses the page's input; ``holdout_redraw`` decides what is valid."""

    percent = forms.IntegerField(
        label=gettext_lazy("Held-out share (%)"),
        min_value=PERCENT_MIN,
        max_value=PERCENT_MAX,
        help_text=gettext_lazy("1 to 5 percent of all customers, whom no campaign contacts."),
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The first day of a month, in a later quarter than the current draw."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I understand: from that day other customers are held out, and those held out until then may be "
            "contacted again."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm the re-draw.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-check-input" if name == "confirm" else "form-control")


@require(access.can_manage_holdout)
def holdout_page(request):
    today = timezone.localdate()
    history = holdout_history(today=today)
    current = next((row for row in history if row.is_current), None)
    form = RedrawForm(
        request.POST if request.method == "POST" else None,
        initial={"percent": current.draw.percent if current else 5, "valid_from": earliest_redraw(today=today)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            draw = holdout_redraw(
                actor=request.user, percent=data["percent"], valid_from=data["valid_from"], note=data["note"]
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The global holdout is re-drawn: %(percent)s%% of customers from %(day)s.")
                % {"percent": draw.percent, "day": draw.valid_from.isoformat()},
            )
            return redirect("campaigns:holdout")
    held = Customer.objects.filter(held_out_q(current.draw)).count() if current else 0
    return render(
        request,
        "campaigns/holdout.html",
        {
            "history": history,
            "current": current,
            "held": held,
            "form": form,
            "earliest": earliest_redraw(today=today),
        },
    )


def _chart_data(months) -> dict:
    def pct(value):
        return round(100 * value, 2) if value is not None else None

    def money(moments):
        return round(moments.mean, 2) if moments is not None and moments.mean is not None else None

    return {
        "labels": [m.month.strftime("%Y-%m") for m in months],
        "touched": [pct(m.touched.rate) for m in months],
        "holdout": [pct(m.holdout.rate) for m in months],
        "touched_change": [money(m.touched.change) for m in months],
        "holdout_change": [money(m.holdout.change) for m in months],
    }


def _interval(pair):
    return (pair[0], pair[1]) if pair else ("", "")


def _export_rows(months) -> list[list]:
    rows = []
    for m in months:
        diff, change = m.rate_difference, m.change_difference
        for label, g in ((_("Touched customers"), m.touched), (_("Held-out customers"), m.holdout)):
            low, high = _interval(g.rate_interval)
            aum_low, aum_high = _interval(g.aum.interval if g.aum else None)
            rows.append(
                [
                    m.month.strftime("%Y-%m"),
                    str(label),
                    g.customers,
                    g.conversions,
                    g.converted,
                    g.rate,
                    low,
                    high,
                    g.aum.mean if g.aum else None,
                    aum_low,
                    aum_high,
                    g.change.mean if g.change else None,
                    diff.estimate if diff else None,
                    diff.p_value if diff else None,
                    change.estimate if change else None,
                    change.p_value if change else None,
                ]
            )
    return rows


def _export_header() -> list[str]:
    return [
        _("Calendar month"),
        _("Group"),
        _("Customers"),
        _("Conversions"),
        _("Customers who converted"),
        _("Conversion rate"),
        _("Rate: 95% interval from"),
        _("Rate: 95% interval to"),
        _("Mean AUM at month end (CNY)"),
        _("AUM: 95% interval from"),
        _("AUM: 95% interval to"),
        _("Mean AUM change in the month (CNY)"),
        _("Rate difference, touched minus held out"),
        _("Rate difference: p-value"),
        _("AUM change difference (CNY)"),
        _("AUM change difference: p-value"),
    ]


@require(access.can_view_holdout_report)
def holdout_report_page(request):
    report = holdout_report_for_page()
    months = report.months
    return render(
        request,
        "campaigns/holdout_report.html",
        {
            "months": months[::-1],
            "report": report,
            "chart": _chart_data(months),
            "can_manage": access.can_manage_holdout(request.user),
        },
    )


@require(access.can_view_holdout_report)
def holdout_report_export(request, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    rows = _export_rows(holdout_report_for_page().months)
    holdout_report_export_record(actor=request.user, fmt=fmt, rows=len(rows))
    return export_response(
        fmt=fmt,
        filename=f"global-holdout-{timezone.localdate().isoformat()}",
        header=_export_header(),
        rows=rows,
        sheet="holdout",
    )
