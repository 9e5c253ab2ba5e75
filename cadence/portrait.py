"""What the cadence adds to the customer portrait (``customers.extensions``): the
12-4-2-1 bar in the header. Registered from ``CadenceConfig.ready()``."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from customers.extensions import PORTRAIT_FACTS, PortraitFact

from .selectors import customer_progress


def cadence_bar(customer) -> str | None:
    """The bar (safe HTML from the app's template), or None outside the cadence's tiers.
    Two queries: the targets and the year's touch counts."""
    progress = customer_progress(customer=customer)
    if progress is None:
        return None
    return render_to_string("cadence/_bar.html", {"progress": progress})


def register() -> None:
    PORTRAIT_FACTS.register(PortraitFact(key="cadence", label=_("12-4-2-1 this year"), order=30, value=cadence_bar))
