"""Shared by every CSV/XLSX export: cells that a spreadsheet must never run as formulas."""

from __future__ import annotations

# A cell starting with one of these is a formula to Excel/WPS: names, notes and uploaded
# values are data, so they get a leading apostrophe (shown as text, never evaluated).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_row(values) -> list:
    return [spreadsheet_safe(v) for v in values]
