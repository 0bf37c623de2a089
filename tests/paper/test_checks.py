"""`manage.py check` validates the paper-trading settings (paper/checks.py)."""

import pytest
from django.core import checks

from paper.checks import paper_settings


def ids(errors):
    return [error.id for error in errors]


def test_the_default_settings_pass():
    assert paper_settings() == []


def test_the_check_is_registered_and_runs_with_manage_py_check(settings):
    settings.PAPER_WHEN_CLOSED = "later"
    assert "paper.E003" in ids(checks.run_checks())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PAPER_DEFAULT_STARTING_CASH", "0", "paper.E001"),
        ("PAPER_DEFAULT_STARTING_CASH", "-5", "paper.E001"),
        ("PAPER_DEFAULT_STARTING_CASH", "10,00,000", "paper.E001"),
        ("PAPER_DEFAULT_STARTING_CASH", "lots", "paper.E001"),
        ("PAPER_DEFAULT_STARTING_CASH", "Infinity", "paper.E001"),
        ("PAPER_SLIPPAGE_BPS", -1.0, "paper.E002"),
        ("PAPER_SLIPPAGE_BPS", "five", "paper.E002"),
        ("PAPER_WHEN_CLOSED", "Queue", "paper.E003"),
        ("PAPER_WHEN_CLOSED", "", "paper.E003"),
        ("PAPER_MIS_SQUARE_OFF", "3pm", "paper.E004"),
        ("PAPER_MIS_SQUARE_OFF", "25:00", "paper.E004"),
        ("PAPER_MIS_SQUARE_OFF", None, "paper.E004"),
        ("PAPER_MAX_VOLUME_SHARE", 1.5, "paper.E005"),
        ("PAPER_MAX_VOLUME_SHARE", -0.1, "paper.E005"),
        ("PAPER_CHARGES", [], "paper.E006"),
        ("PAPER_CHARGES", {"intraday": {"brokerage": "0"}}, "paper.E006"),
        ("PAPER_CHARGES", {"intraday": {"brokerage_max": "free"}}, "paper.E006"),
        ("PAPER_CHARGES", {"gst": "-0.18"}, "paper.E006"),
        ("PAPER_CHARGES", {"delivery": "0"}, "paper.E006"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_setting(settings, name, value, expected):
    setattr(settings, name, value)
    errors = paper_settings()
    assert ids(errors) == [expected]
    assert name in errors[0].msg
    assert errors[0].hint


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAPER_DEFAULT_STARTING_CASH", "250000.50"),
        ("PAPER_DEFAULT_STARTING_CASH", 500000),
        ("PAPER_SLIPPAGE_BPS", 0),
        ("PAPER_SLIPPAGE_BPS", 7.5),
        ("PAPER_WHEN_CLOSED", "reject"),
        ("PAPER_MIS_SQUARE_OFF", "09:30"),
        ("PAPER_MAX_VOLUME_SHARE", 1),
        ("PAPER_CHARGES", {"intraday": {"brokerage_max": "0"}, "gst_rate": "0.18"}),
    ],
)
def test_a_good_value_passes(settings, name, value):
    setattr(settings, name, value)
    assert paper_settings() == []
