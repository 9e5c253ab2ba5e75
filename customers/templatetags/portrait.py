"""Display helpers for the portrait: money in CNY with grouping, intent codes in words."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def cny(value, places: int = 2) -> str:
    """1234567.5 -> "1,234,567.50" (banks group by thousands in Chinese too)."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{d:,.{int(places)}f}"


@register.filter
def intent_label(code: str) -> str:
    from customers.selectors import INTENT_LABELS

    return INTENT_LABELS().get(code, code)
