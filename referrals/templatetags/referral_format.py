"""Money display for referral pages: ¥ with comma grouping, as Chinese bank statements print it.

(Django's zh-hans number format has no thousands separator, which makes 200000.00 hard to read.)
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def cny(value, places: int = 2) -> str:
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"¥{amount:,.{int(places)}f}"


@register.filter
def isodate(value: str) -> str:
    """An ISO timestamp kept in JSON (AI-bot highlights), shown in local time."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(moment) else str(moment)
