"""The customer portrait's extension points (``core.extensions``): what the apps above
show on a customer's 360° page without this app importing them.

- ``PORTRAIT_TABS``: tabs beside the portrait's own (assets 10, tags 20, interactions 30,
  suitable products 50), placed by ``order``. A tab gives its key (in the URL
  ``customers:tab <pk> <key>``), label, template and a ``context(request, customer) ->
  dict`` callable; the portrait checks the customer is visible to the user and writes
  the PIPL access record before calling it, then renders the template inside the tab
  pane (with ``customer`` and what ``context`` returned). A key the portrait uses
  itself cannot be taken.
- ``LIST_FILTERS``: conditions of the customer list (and so of segments) on data the
  apps above own (:class:`ListFilter`).
- ``PORTRAIT_FACTS``: short facts in the portrait header (label and value), from a
  ``value(customer) -> str | None`` callable, in ``order``; None shows "—". Each
  fact is read on every portrait page: keep it to one indexed query.

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


@dataclass(frozen=True)
class ListFilter:
    """Conditions an app above adds to the customer list's filter
    (``customers.filters.CustomerFilter``), which is also the segment builder's: the list
    and a segment keep one definition, and this app never imports the model a condition
    reads (scores, campaign membership). ``filters()`` returns fresh django-filter
    ``Filter`` instances by parameter name (a name the list uses itself cannot be taken);
    ``clean(values)`` returns ``{name: message}`` for values that make no sense together
    (the list shows the message under the field, a segment refuses to save). Each
    condition must stay index-friendly at a million customers (docs/portraits.md).
    ``visible`` and ``list_only`` keep a condition to some users and to the list alone."""

    key: str
    filters: Callable
    clean: Callable | None = None
    order: int = 100
    # ``visible(user) -> bool``: the conditions are offered (and applied) only to users it
    # lets through; the list passes its request, a filter built without one has none.
    visible: Callable | None = None
    # A condition of the list alone, never of a segment (a segment of segments could name
    # itself): ``condition_names()`` leaves it out, so a segment's definition never holds it.
    list_only: bool = False


LIST_FILTERS = Slot("customers.list_filters")
