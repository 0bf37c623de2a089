from decimal import Decimal

import pytest
from django.template import Context, Template

from sigmatrader.formatting import inr, inr_number


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


def _django_reference(value, decimal_pos):
    """What format_indian gave before its fast path: Django's numberformat."""
    from decimal import ROUND_HALF_UP

    from django.utils import numberformat

    number = Decimal(str(value))
    number = number.quantize(Decimal(1).scaleb(-decimal_pos), rounding=ROUND_HALF_UP)
    return numberformat.format(
        number,
        ".",
        decimal_pos=decimal_pos,
        grouping=(3, 2, 0),
        thousand_sep=",",
        force_grouping=True,
    )


@pytest.mark.parametrize("decimal_pos", [0, 2, 4])
@pytest.mark.parametrize(
    "value",
    [
        0,
        1,
        -1,
        7,
        999,
        1000,
        -1000,
        99999,
        100000,
        158210,
        10**9,
        -(10**12) + 1,
        Decimal("0.004"),
        Decimal("-0.004"),
        Decimal("0.005"),
        Decimal("-0.005"),
        Decimal("2500.125"),
        Decimal("-2500.125"),
        Decimal("1234567.8901"),
        Decimal("-98765432.1"),
        Decimal("100.5"),
        Decimal("1E+3"),
        Decimal("5E-7"),
        Decimal("123456789012.3456"),
        Decimal("-0"),
        Decimal("0E-8"),
        12.5,
        -0.375,
    ],
)
def test_fast_formatting_matches_django_numberformat(value, decimal_pos):
    from sigmatrader.formatting import format_indian

    assert format_indian(value, decimal_pos) == _django_reference(value, decimal_pos)
