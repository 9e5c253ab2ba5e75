"""The referral page's extension points (``core.extensions``): what the apps above show on
a referral's detail page without this app importing them.

- ``REFERRAL_PANELS``: sections of the referral detail page (for example the advisor's
  calls with the customer, from ``calls``). A panel gives its key, label, template and a
  ``context(request, referral) -> dict`` callable; the page has already checked that the
  user may see the referral. The page draws a card headed by the label and fills its
  body with the template, rendered with ``referral``, the keys ``context`` returns and
  the request (``referrals.views._panels``), in ``order``.

Apps register in their ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.extensions import Slot


@dataclass(frozen=True)
class ReferralPanel:
    key: str
    label: str
    template: str
    context: Callable
    order: int = 100


REFERRAL_PANELS = Slot("referrals.panels")
