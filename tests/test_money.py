from decimal import Decimal

import pytest
from django.template import Context, Template

from sigmatrader.templatetags.money import inr, inr_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0"), "₹0.00"),
        (Decimal("999.5"), "₹999.50"),
        (Decimal("1000"), "₹1,000.00"),
        (Decimal("158210"), "₹1,58,210.00"),
        (Decimal("12345678.9"), "₹1,23,45,678.90"),
        ("-2500.125", "-₹2,500.13"),
        (None, ""),
        ("not a number", ""),
    ],
)
def test_inr_uses_indian_grouping(value, expected):
    assert inr(value) == expected


def test_inr_number_for_counts():
    assert inr_number(158210) == "1,58,210"
    assert inr_number(Decimal("100000000")) == "10,00,00,000"


def test_filters_are_builtins_in_templates():
    rendered = Template("{{ v|inr }} / {{ n|inr_number }}").render(
        Context({"v": Decimal("123456.7"), "n": 1234567})
    )
    assert rendered == "₹1,23,456.70 / 12,34,567"
