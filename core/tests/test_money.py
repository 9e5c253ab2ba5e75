"""Money reads one way: the sign before the currency, grouped digits, no negative zero."""

from decimal import Decimal

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
