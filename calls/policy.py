"""The contact policy: may this customer get a marketing call now, and if not, why.

Rules (DOMAIN.md, "Contact rules"): marketing needs phone consent; do-not-disturb blocks;
calls only inside the configured hours (default 09:00–21:00 Asia/Shanghai); at most N
marketing calls per customer per window (default 3 in 7 days, practice) and at most M
marketing contacts over all channels, both counted in the one contact ledger
(``customers.services.ledger``: manual calls and every campaign's contacts); no marketing
during the cooling-off window after a private-product purchase. A service call may go
ahead anyway with a typed reason (the call service audits it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Channel, ContactPreference, Holding
from customers.services.ledger import cooling_off_ends, ledger_usage
from org.calendar import call_hours


@dataclass(frozen=True)
class PolicyBlock:
    code: str
    message: str


@dataclass(frozen=True)
class ContactVerdict:
    """``allowed`` is for a marketing call; ``blocks`` say why not, in the user's language."""

    allowed: bool
    blocks: list[PolicyBlock] = field(default_factory=list)
    calls_in_window: int = 0

    @property
    def codes(self) -> list[str]:
        return [b.code for b in self.blocks]

    @property
    def messages(self) -> list[str]:
        return [b.message for b in self.blocks]


def contact_policy_verdict(*, customer, now: dt.datetime | None = None) -> ContactVerdict:
    """Check every rule for a marketing phone call to ``customer`` at ``now`` (3 queries)."""
    now = now or timezone.now()
    blocks: list[PolicyBlock] = []

    pref = ContactPreference.objects.filter(customer=customer, channel=Channel.PHONE).first()
    if pref is not None and pref.dnd_until is not None and pref.dnd_until > now:
        until = timezone.localtime(pref.dnd_until).date().isoformat()
        blocks.append(
            PolicyBlock(
                "do_not_disturb",
                _("The customer is on phone do-not-disturb until %(date)s: no marketing call.") % {"date": until},
            )
        )
    elif pref is None or not pref.consent:
        blocks.append(
            PolicyBlock("no_consent", _("The customer has not consented to phone marketing: no marketing call."))
        )

    start, end, tz = call_hours()
    local = now.astimezone(tz)
    if not (start <= local.time() < end):
        blocks.append(
            PolicyBlock(
                "quiet_hours",
                _("It is %(now)s now: marketing calls are allowed only between %(start)s and %(end)s (%(tz)s).")
                % {
                    "now": local.strftime("%H:%M"),
                    "start": start.strftime("%H:%M"),
                    "end": end.strftime("%H:%M"),
                    "tz": _("Beijing time") if settings.WORKBENCH_CALL_HOURS_TZ == "Asia/Shanghai" else tz.key,
                },
            )
        )

    # The one contact ledger: manual marketing calls and every campaign's contacts (calls
    # and messages alike) that are made or reserved in the window.
    cap = settings.WORKBENCH_CALL_WEEKLY_CAP
    days = settings.WORKBENCH_CALL_CAP_WINDOW_DAYS
    per_channel, total = ledger_usage(customer_ids=[customer.pk], now=now)
    recent = per_channel[(customer.pk, Channel.PHONE)]
    if recent >= cap:
        blocks.append(
            PolicyBlock(
                "weekly_cap",
                _(
                    "The customer has had %(n)s marketing calls in the last %(days)s days; "
                    "the limit is %(cap)s: no more marketing calls for now."
                )
                % {"n": recent, "days": days, "cap": cap},
            )
        )

    hours = settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS
    earliest = (now - dt.timedelta(hours=hours + 24)).astimezone(tz).date()
    private = (
        Holding.objects.filter(customer=customer, product__is_private=True, opened_on__gte=earliest)
        .select_related("product")
        .order_by("-opened_on")
        .first()
    )
    if private is not None and cooling_off_ends(private.opened_on) > now:
        blocks.append(
            PolicyBlock(
                "cooling_off",
                _(
                    "The customer bought the private product %(product)s on %(date)s and is in the cooling-off "
                    "period until %(until)s: no marketing call."
                )
                % {
                    "product": private.product.name,
                    "date": private.opened_on.isoformat(),
                    "until": cooling_off_ends(private.opened_on).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                },
            )
        )
    total_cap = settings.WORKBENCH_CONTACT_TOTAL_CAP
    if recent < cap and total[customer.pk] >= total_cap:
        blocks.append(
            PolicyBlock(
                "total_cap",
                _(
                    "The customer has had %(n)s marketing contacts on all channels in the last %(days)s days; "
                    "the limit is %(cap)s: no marketing call for now."
                )
                % {"n": total[customer.pk], "days": days, "cap": total_cap},
            )
        )
    return ContactVerdict(allowed=not blocks, blocks=blocks, calls_in_window=recent)
