"""The one set of display filters for money, percentages, counts and times.

``{% load formatting %}`` in any template:

- ``{{ amount|cny }}`` → ``¥1,234,567.89`` (``|cny:0`` → ``¥1,234,568``): money with
  thousands separators, as Chinese bank statements print it (Django's zh-hans number
  format has none, which makes 200000.00 hard to read); ``—`` for nothing;
- ``{{ amount|wan }}`` → ``123.46万`` for large figures on cards and dashboards;
- ``{{ rate|percent }}`` → ``81.3%`` for a ratio 0..1 (``|percent:0``);
- ``{{ when|local_dt }}`` → ``2026-12-01 14:05`` in the user's time zone, also for an ISO
  timestamp kept in JSON; ``{{ duration|minutes }}`` → whole minutes;
- ``{{ reason|reason_text }}``: a stored reason (``{"code", "text", "text_en", ...}``) in
  the reader's language: ``text_en`` on English pages when it was written, else ``text``;
  ``{{ reasons|reasons_short }}``: the first two of a list, joined;
- ``{{ seconds|call_duration }}`` → ``4:05``;
- ``{{ event.verb|audit_verb }}``, ``{{ event.target_type|audit_target }}``,
  ``{{ event.details|audit_details:event.verb }}``: an audit event in words (``core.audit``).

Row templates of the long lists call these instead of django-tables2's per-cell
``render_*`` methods (much cheaper per cell).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.audit import details_text, target_label, verb_label
from core.languages import in_reader_language

register = template.Library()

EMPTY = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def cny(value, places: int = 2) -> str:
    amount = _decimal(value)
    if amount is None:
        return EMPTY if value in (None, "") else str(value)
    text = f"{abs(amount):,.{int(places)}f}"
    if amount < 0 and text.strip("0.,"):
        return f"-¥{text}"  # the sign before the currency, and no "-¥0.00"
    return f"¥{text}"


@register.filter
def wan(value, places: int = 2) -> str:
    """Money in 万 (ten thousands) from ten thousand up, plain grouped yuan below."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY if value in (None, "") else str(value)
    if abs(amount) >= 10_000:
        return _("%(amount)s万") % {"amount": f"{amount / 10_000:,.{int(places)}f}"}
    return f"{amount:,.{int(places)}f}"


@register.filter
def percent(value, digits: int = 1) -> str:
    if value is None or value == "":
        return EMPTY
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    if not value:
        return 0
    return int(value.total_seconds() // 60)


@register.filter
def local_dt(value) -> str:
    """An aware datetime (or an ISO timestamp string) in local time, to the minute."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, dt.datetime):
        return EMPTY if value in (None, "") else str(value)
    if timezone.is_naive(value):
        return value.strftime("%Y-%m-%d %H:%M")
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@register.filter
def in_language(stored: dict, key: str):
    """``stored[key]`` in the reader's language: ``stored[key + "_en"]`` on English pages
    when it was written (``{% for r in check|in_language:"reasons" %}``)."""
    return in_reader_language(stored.get(key) or "", stored.get(f"{key}_en") or "")


@register.filter
def reason_text(reason) -> str:
    if not isinstance(reason, dict):
        return str(reason)
    return in_reader_language(reason.get("text") or reason.get("code", ""), reason.get("text_en") or "")


@register.filter
def reasons_short(reasons) -> str:
    """The first two reasons of a lead, in the reader's language, on one line."""
    texts = [reason_text(r) for r in (reasons or [])[:2] if isinstance(r, dict)]
    separator = "；" if (get_language() or "").startswith("zh") else "; "
    return separator.join(t for t in texts if t) or EMPTY


@register.filter
def call_duration(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.filter
def audit_verb(verb: str) -> str:
    return verb_label(verb) if verb else EMPTY


@register.filter
def audit_target(target_type: str) -> str:
    return target_label(target_type) if target_type else EMPTY


@register.filter
def audit_details(details: dict, verb: str = "") -> str:
    return details_text(details, verb=verb) if details else EMPTY
