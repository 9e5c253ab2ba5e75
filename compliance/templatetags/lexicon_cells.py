"""Cells of the lexicon's row template that need Python (``compliance.tables``)."""

from __future__ import annotations

from django import template

from compliance.tables import (
    lexicon_active_cell,
    lexicon_category_cell,
    lexicon_pattern_cell,
    lexicon_precision_cell,
    lexicon_severity_cell,
)

register = template.Library()


@register.simple_tag
def lexicon_pattern(rule) -> str:
    return lexicon_pattern_cell(rule)


@register.simple_tag
def lexicon_category(rule) -> str:
    return lexicon_category_cell(rule)


@register.simple_tag
def lexicon_severity(rule) -> str:
    return lexicon_severity_cell(rule)


@register.simple_tag
def lexicon_precision(rule) -> str:
    return lexicon_precision_cell(rule)


@register.simple_tag
def lexicon_active(rule) -> str:
    return lexicon_active_cell(rule)
