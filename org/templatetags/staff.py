"""``{{ user|staff_name }}``: a staff user as pages name them (``org.roles.staff_name``)."""

from __future__ import annotations

from django import template

from org.roles import staff_name as _staff_name

register = template.Library()


@register.filter
def staff_name(user) -> str:
    return _staff_name(user)
