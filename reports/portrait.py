"""What reports adds to the customer portrait (``customers.extensions``): the "Wealth
report" tab, with the button that generates this year's report, the reports on record,
their compliance check, download and "mark as sent". Imported once by
``ReportsConfig.ready()``."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.extensions import PORTRAIT_TABS, PortraitTab

from .access import can_generate_report
from .forms import DeliverForm
from .selectors import customer_reports, report_scan_states, report_script_version


def _reports_tab(request, customer) -> dict:
    reports = customer_reports(customer=customer)
    states = report_scan_states(reports)
    for report in reports:
        report.scan = states[report.pk]
    year = timezone.localdate().year
    # This year's report, once sent, is not replaced: the button goes.
    sent = any(r.year == year and r.delivered_at for r in reports)
    can_generate = can_generate_report(request.user, customer) and not sent
    return {
        "wealth_reports": reports,
        "can_generate_report": can_generate,
        "can_send_report": can_generate_report(request.user, customer),
        "report_wording_approved": report_script_version() is not None if can_generate else False,
        "report_year": year,
        "deliver_form": DeliverForm(),
    }


PORTRAIT_TABS.register(
    PortraitTab(
        key="wealth_report",
        label=_("Wealth report"),
        order=70,
        template="reports/portrait_report.html",
        context=_reports_tab,
    )
)
