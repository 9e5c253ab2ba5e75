"""What scoring adds to the customer portrait (``customers.extensions``): the "needs and
propensities" tab. Registered from ``ScoringConfig.ready()``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from customers.extensions import PORTRAIT_TABS, PortraitTab

from . import selectors


def needs_tab_context(request, customer) -> dict:
    return {"needs": selectors.portrait_needs(customer=customer)}


def register() -> None:
    PORTRAIT_TABS.register(
        PortraitTab(
            key="needs",
            label=_("Needs and propensities"),
            order=40,
            template="scoring/portrait_needs.html",
            context=needs_tab_context,
        )
    )
