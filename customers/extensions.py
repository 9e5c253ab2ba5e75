"""The customer portrait's extension points (``core.extensions``): what the apps above
show on a customer's 360° page without this app importing them.

- ``PORTRAIT_TABS``: extra tabs after the portrait's own (assets, tags, interactions,
  suitable products). A tab gives its key (in the URL), label, template and a
  ``context(request, customer) -> dict`` callable; the portrait checks the customer is
  visible and writes the PIPL access record before calling it.
- ``PORTRAIT_FACTS``: short facts in the portrait header (label and value), from a
  ``value(customer) -> str | None`` callable; None shows "—".

Apps register in their ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.extensions import Slot


@dataclass(frozen=True)
class PortraitTab:
    key: str
    label: str
    template: str
    context: Callable
    order: int = 100


@dataclass(frozen=True)
class PortraitFact:
    key: str
    label: str
    value: Callable
    order: int = 100


PORTRAIT_TABS = Slot("customers.portrait_tabs")
PORTRAIT_FACTS = Slot("customers.portrait_facts")
