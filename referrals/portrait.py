"""What referrals adds to the customer portrait (``customers.extensions``): the "Leads and
referrals" tab. Imported once by ``ReferralsConfig.ready()``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from customers.extensions import PORTRAIT_TABS, PortraitTab

from . import selectors
from .access import can_view_referral


def _leads_tab(request, customer) -> dict:
    history = selectors.customer_leads_and_referrals(customer=customer)
    # A referral links to its page for those who may open it (the others read the row).
    history["viewable"] = {r.pk for r in history["referrals"] if can_view_referral(request.user, r)}
    return {"lead_history": history}


PORTRAIT_TABS.register(
    PortraitTab(
        key="leads",
        label=_("Leads and referrals"),
        order=60,
        template="referrals/portrait_leads.html",
        context=_leads_tab,
    )
)
