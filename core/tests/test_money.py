"""Money reads one way: the sign before the currency, grouped digits, no negative zero."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from core.templatetags.formatting import cny


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.5"), "¥1,234.50"),
        (Decimal("-5.82"), "-¥5.82"),
        (Decimal("-0.001"), "¥0.00"),
        (0, "¥0.00"),
        (None, "—"),
    ],
)
def test_money_is_written_one_way(value, text):
    assert cny(value) == text


def test_sentences_write_money_as_the_tables_do():
    """No "1,234.00 元" / "1,234.00 CNY" in a sentence beside "¥1,234.00" in a table: every
    sentence the code builds with an amount passes it through the cny filter."""
    root = Path(__file__).resolve().parents[2]
    skipped = {".venv", "tests", "migrations"}
    sources = [p for p in root.glob("*/**/*.py") if not skipped & set(p.parts)]
    # A gettext string with an amount placeholder followed or preceded by a currency word.
    amount = r"%\((amount|aum|min|sum)\)s"
    currency_sentence = re.compile(rf"""_\(\s*["'][^"']*({amount}\s*(CNY|元)|(CNY|元)\s*{amount})""")
    offenders = [str(p.relative_to(root)) for p in sources if currency_sentence.search(p.read_text())]
    assert offenders == []
