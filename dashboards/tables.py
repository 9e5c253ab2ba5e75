"""The dashboards' tables as rows for the export helper, the chart data, and the rows of
the records behind a figure (one shape per kind of record)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.selectors import MEASURES
from org.roles import staff_name

from .models import Metric
from .sources import SOURCES

RECORD_LABELS = {
    Metric.REACHED_CAMPAIGN: _("Campaign messages sent"),
    Metric.REACHED_AI: _("AI-bot conversations"),
    Metric.PROPOSED: _("Leads proposed"),
    Metric.CONFIRMED: _("Grades confirmed"),
    Metric.REFERRED: _("Referrals received"),
    Metric.ACCEPTED: _("Referrals accepted"),
    Metric.CONVERTED: _("Referrals converted"),
    Metric.REJECTED: _("Referrals rejected"),
    Metric.RETURNED: _("Referrals returned to the advisor"),
    Metric.REVIEWED_ON_TIME: _("Referrals reviewed on time"),
    Metric.CONTACTED_ON_TIME: _("First contacts on time"),
    Metric.NET_NEW_MONEY: _("Fund flows (net new money)"),
}

_RELATED = {
    Metric.REACHED_AI: ("customer__owner__staff_profile",),
    Metric.REACHED_CAMPAIGN: ("customer", "campaign"),
    Metric.PROPOSED: ("customer", "owner__staff_profile", "team"),
    Metric.CONFIRMED: ("lead__customer", "advisor__staff_profile"),
    Metric.NET_NEW_MONEY: ("customer__owner__staff_profile",),
}
_REFERRAL_RELATED = ("customer", "branch", "from_advisor__staff_profile", "assigned_rm__staff_profile")


def _source(metric: str):
    return SOURCES[
        {Metric.REVIEWED_ON_TIME: Metric.REVIEWED, Metric.CONTACTED_ON_TIME: Metric.CONTACTED}.get(metric, metric)
    ]


def ordered(metric: str, qs):
    at = _source(metric).at_field
    return qs.select_related(*_RELATED.get(metric, _REFERRAL_RELATED)).order_by(f"-{at}", "-pk")


def record_headers(metric: str) -> list:
    if metric == Metric.REACHED_AI:
        return [_("Time"), _("Customer"), _("Owner advisor"), _("Summary")]
    if metric == Metric.REACHED_CAMPAIGN:
        return [_("Time"), _("Customer"), _("Campaign"), _("Channel"), _("Status")]
    if metric == Metric.PROPOSED:
        return [_("Time"), _("Customer"), _("Advisor"), _("Team"), _("Proposed grade"), _("Status")]
    if metric == Metric.CONFIRMED:
        return [_("Time"), _("Customer"), _("Advisor"), _("Proposed grade"), _("Confirmed grade")]
    if metric == Metric.NET_NEW_MONEY:
        return [_("Time"), _("Customer"), _("Owner advisor"), _("Direction"), _("Channel"), _("Amount (CNY)")]
    return [
        _("Time"),
        _("Customer"),
        _("From advisor"),
        _("Branch"),
        _("Relationship manager"),
        _("Status"),
        _("Amount (CNY)"),
    ]


def _local(value):
    return timezone.localtime(value) if value else None


def record_rows(metric: str, records) -> list[dict]:
    """Each record as {"cells": [...], "url": the record's own page or ""}."""
    at = _source(metric).at_field
    rows = []
    for r in records:
        when = _local(getattr(r, at))
        if metric == Metric.REACHED_AI:
            cells = [
                when,
                r.customer.name_masked,
                staff_name(r.customer.owner) if r.customer.owner_id else "—",
                (r.summary or "")[:80],
            ]
            url = reverse("customers:detail", kwargs={"pk": r.customer_id})
        elif metric == Metric.REACHED_CAMPAIGN:
            cells = [
                when,
                r.customer.name_masked,
                r.campaign.name if r.campaign_id else "—",
                r.get_channel_display(),
                r.get_status_display(),
            ]
            url = reverse("campaigns:detail", kwargs={"pk": r.campaign_id}) if r.campaign_id else ""
        elif metric == Metric.PROPOSED:
            cells = [
                when,
                r.customer.name_masked,
                staff_name(r.owner) if r.owner_id else "—",
                r.team.name if r.team_id else "—",
                r.get_proposed_grade_display(),
                r.get_status_display(),
            ]
            url = reverse("customers:detail", kwargs={"pk": r.customer_id})
        elif metric == Metric.CONFIRMED:
            cells = [
                when,
                r.lead.customer.name_masked,
                staff_name(r.advisor),
                r.get_proposed_grade_display(),
                r.get_confirmed_grade_display(),
            ]
            url = reverse("customers:detail", kwargs={"pk": r.lead.customer_id})
        elif metric == Metric.NET_NEW_MONEY:
            cells = [
                when,
                r.customer.name_masked,
                staff_name(r.customer.owner) if r.customer.owner_id else "—",
                r.get_direction_display(),
                r.get_channel_display(),
            ]
            url = reverse("customers:detail", kwargs={"pk": r.customer_id})
            rows.append({"cells": cells, "url": url, "amount": r.signed_amount, "has_amount": True})
            continue
        else:
            cells = [
                when,
                r.customer.name_masked,
                staff_name(r.from_advisor) if r.from_advisor_id else "—",
                r.branch.name,
                staff_name(r.assigned_rm) if r.assigned_rm_id else "—",
                r.get_status_display(),
            ]
            url = reverse("referrals:detail", kwargs={"pk": r.pk})
            rows.append({"cells": cells, "url": url, "amount": r.converted_amount, "has_amount": True})
            continue
        rows.append({"cells": cells, "url": url, "amount": None, "has_amount": False})
    return rows


def record_table(metric: str, rows: list[dict]):
    return [str(h) for h in record_headers(metric)], [
        [*r["cells"], r["amount"]] if r["has_amount"] else r["cells"] for r in rows
    ]


def _pct(rate) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def funnel_table(stages):
    header = [
        _("Stage"),
        _("Count"),
        _("Previous period"),
        _("Change %"),
        _("Conversion from the stage before %"),
        _("Drop-off %"),
        _("Amount (CNY)"),
    ]
    rows = [
        [str(s.label), s.count, s.previous, _pct(s.change), _pct(s.conversion), _pct(s.drop_off), s.amount]
        for s in stages
    ]
    return [str(h) for h in header], rows


def breakdown_table(stages, breakdown, by):
    from_label = {"team": _("Team"), "advisor": _("Advisor"), "branch": _("Branch"), "campaign": _("Campaign")}[by]
    header = [str(from_label), *[str(s.label) for s in stages], str(_("Amount (CNY)"))]
    return header, [[r["label"], *r["figures"], r["amount"]] for r in breakdown]


def _ops_header():
    return [
        str(MEASURES["planned"].label),
        str(MEASURES["planned_done"].label),
        f"{MEASURES['execution_rate'].label} %",
        str(MEASURES["dialled"].label),
        str(MEASURES["effective"].label),
        f"{MEASURES['effective_rate'].label} %",
        str(_("Callbacks due")),
        f"{_('Callbacks kept on time')} %",
        str(MEASURES["overdue_touches"].label),
        str(MEASURES["decisions"].label),
        f"{MEASURES['override_rate'].label} %",
        str(MEASURES["conversions"].label),
        str(MEASURES["amount"].label),
    ]


def _ops_cells(r):
    k = r.kpis
    return [
        k.planned,
        k.planned_done,
        _pct(k.execution_rate),
        k.dialled,
        k.effective,
        _pct(k.effective_rate),
        r.callbacks,
        _pct(r.callbacks_on_time_rate),
        r.overdue_touches,
        r.decisions,
        _pct(r.override_rate),
        k.conversions,
        k.amount,
    ]


def operations_table(data, table: str):
    if table == "hours":
        header = [str(_("Advisor")), *[f"{h}:00" for h in data["hours"]]]
        return header, [[r["label"], *r["counts"]] for r in data["by_hour"]]
    first = {"teams": _("Team"), "days": _("Day")}.get(table, _("Advisor"))
    rows = {"teams": data["teams"], "days": data["days"]}.get(table, data["advisors"])
    return [str(first), *_ops_header()], [[r.label, *_ops_cells(r)] for r in rows]


def operations_chart(data) -> dict:
    days = data["days"]
    return {
        "labels": [r.label for r in days],
        "execution": [_pct(r.kpis.execution_rate) for r in days],
        "effective": [_pct(r.kpis.effective_rate) for r in days],
        "dialled": [r.kpis.dialled for r in days],
        "target": round(data["total"].kpis.effective_target * 100, 1),
        "names": {
            "execution": f"{MEASURES['execution_rate'].label} %",
            "effective": f"{MEASURES['effective_rate'].label} %",
            "dialled": str(MEASURES["dialled"].label),
            "target": str(_("Target")),
        },
    }


def branch_table(data, table: str):
    if table == "reasons":
        return [str(_("Reason")), str(_("Rejected"))], [[r["label"], r["count"]] for r in data["reasons"]]
    first = _("Branch") if table == "branches" else _("Relationship manager")
    header = [
        str(first),
        str(_("Received")),
        str(_("Reviewed")),
        f"{_('Reviewed on time')} %",
        str(_("Accepted")),
        str(_("Rejected")),
        str(_("First contacts")),
        f"{_('First contact on time')} %",
        str(_("Converted")),
        f"{_('Conversion')} %",
        str(_("Amount (CNY)")),
        str(_("Returned")),
    ]
    rows = data["branches"] if table == "branches" else data["rms"]
    return header, [
        [
            r["label"],
            r["received"],
            r["reviewed"],
            _pct(r["review_rate"]),
            r["accepted"],
            r["rejected"],
            r["contacted"],
            _pct(r["contact_rate"]),
            r["converted"],
            _pct(r["conversion"]),
            r["amount"],
            r["returned"],
        ]
        for r in rows
    ]
