"""Small presentation filters used across the workbench."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    if not value:
        return 0
    return int(value.total_seconds() // 60)


@register.filter
def cny(value: Decimal | float | int | None) -> str:
    """Money for people: 1,234,567.89 below ten thousand yuan, 123.46万 above."""
    if value is None:
        return "—"
    value = Decimal(value)
    if abs(value) >= 10_000:
        return _("%(amount)s万") % {"amount": f"{value / 10_000:,.2f}"}
    return f"{value:,.2f}"


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"
