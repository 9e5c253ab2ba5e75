"""What calls adds to a referral's page (``referrals.extensions``): the latest calls the
remote advisors had with the customer, so the branch reads what was said before it
picks up the phone. Registered from ``CallsConfig.ready()``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from referrals.extensions import REFERRAL_PANELS, ReferralPanel

from .selectors import customer_calls


def calls_panel_context(request, referral) -> dict:
    return {"calls": customer_calls(customer_id=referral.customer_id, limit=20)}


def register() -> None:
    REFERRAL_PANELS.register(
        ReferralPanel(
            key="calls",
            label=_("Advisors' calls with the customer"),
            order=10,
            template="calls/_referral_calls.html",
            context=calls_panel_context,
        )
    )
