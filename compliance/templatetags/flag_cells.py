"""Cells of the review queue's row template that need Python (``compliance.tables``)."""

from __future__ import annotations

from django import template

from compliance.tables import FLAG_CELLS

register = template.Library()


@register.simple_tag
def flag_cell(flag, column: str) -> str:
    return FLAG_CELLS[column](flag)
