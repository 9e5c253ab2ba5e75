"""Display helpers of the portrait: intent codes in words. (Money, percentages and times
use the project's one filter set, ``{% load formatting %}``.)"""

from __future__ import annotations

from django import template

from customers.selectors import INTENT_LABELS

register = template.Library()


@register.filter
def intent_label(code: str) -> str:
    return INTENT_LABELS().get(code, code)
