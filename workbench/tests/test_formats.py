"""One way to write a date, and tables that say why they are empty.

A date is written with its year wherever it is shown (a flag, a referral or an audit
row may be from another year; "12-01" next to "2025-12-01" reads as two formats); a
time of day alone ("H:i") is for lists of today. A table with no rows says why and what
to do, not django-tables2's bare "No records"."""

from __future__ import annotations

import re
from pathlib import Path

import django_tables2 as tables
import pytest
from django.utils import translation

import calls.tables
import campaigns.tables
import compliance.tables
import customers.tables
import referrals.tables
import workbench.tables
from core.project import PROJECT_APPS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DATE = re.compile(r"""\|date:["']([^"']+)["']""")
COLUMN_FORMAT = re.compile(r"""(?:DateTimeColumn|DateColumn)\([^)]*format=["']([^"']+)["']""")


def _sources():
    for app in [*PROJECT_APPS, "templates"]:
        for path in (ROOT / app).rglob("*"):
            if path.suffix in (".html", ".py") and "tests" not in path.parts and "migrations" not in path.parts:
                yield path


def test_every_date_shown_has_its_year():
    found, without_year = 0, []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        pattern = TEMPLATE_DATE if path.suffix == ".html" else COLUMN_FORMAT
        for fmt in pattern.findall(text):
            found += 1
            if "d" in fmt and "Y" not in fmt:
                without_year.append(f"{path.relative_to(ROOT)}: {fmt}")
    assert found > 20  # the scan reads the templates and the tables
    assert not without_year, without_year


def _tables():
    modules = [calls.tables, campaigns.tables, compliance.tables, customers.tables, referrals.tables, workbench.tables]
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, tables.Table) and value.__module__ == module.__name__
    ]


@pytest.mark.parametrize(
    "table",
    [pytest.param(t, id=f"{t.__module__}.{t.__name__}") for t in _tables()],
)
def test_every_table_says_why_it_is_empty(table):
    with translation.override("en"):
        why_and_what = str(table._meta.empty_text or "")
    assert why_and_what.count(".") >= 2, why_and_what  # why it is empty, then what to do
