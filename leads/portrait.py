"""What leads adds to the customer portrait (``customers.extensions``): the customer's
next planned callback in the header. Registered from ``LeadsConfig.ready()``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.templatetags.formatting import local_dt
from customers.extensions import PORTRAIT_FACTS, PortraitFact

from .selectors import next_callback


def next_callback_value(customer) -> str | None:
    """When the customer's next planned call is due (local time), or None."""
    planned = next_callback(customer_id=customer.pk)
    return local_dt(planned.due_at) if planned is not None else None


def register() -> None:
    PORTRAIT_FACTS.register(
        PortraitFact(key="next_callback", label=_("Next callback"), order=10, value=next_callback_value)
    )
