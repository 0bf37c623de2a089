"""At start (`manage.py check`, runserver, the Celery worker): the paper-trading
settings, so a typo is a clear configuration error instead of an exception in
the middle of a simulated fill (or a value the engine quietly ignores)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.checks import Error, register

from .charges import DEFAULT_SCHEDULE

WHEN_CLOSED = ("queue", "reject")


def _decimal(value) -> Decimal | None:
    """The value as the engine reads it (Decimal(value), str() for floats), or None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        number = Decimal(str(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _error(name: str, value, problem: str, hint: str, number: int) -> Error:
    return Error(f"{name}={value!r}: {problem}", hint=hint, id=f"paper.E{number:03d}")


def _charges_problems(overrides) -> list[str]:
    if not isinstance(overrides, dict):
        return [f"must be a JSON object, got {type(overrides).__name__}"]
    problems = []
    for key, value in overrides.items():
        default = DEFAULT_SCHEDULE.get(key)
        if default is None:
            problems.append(f"unknown key {key!r} (known: {', '.join(DEFAULT_SCHEDULE)})")
        elif isinstance(default, dict):
            if not isinstance(value, dict):
                problems.append(f"{key!r} must be an object of rates, got {value!r}")
                continue
            for rate, raw in value.items():
                if rate not in default:
                    problems.append(f"unknown key {key}.{rate} (known: {', '.join(default)})")
                elif (number := _decimal(raw)) is None or number < 0:
                    problems.append(f"{key}.{rate} must be a number >= 0, got {raw!r}")
        elif (number := _decimal(value)) is None or number < 0:
            problems.append(f"{key} must be a number >= 0, got {value!r}")
    return problems


@register()
def paper_settings(app_configs=None, **kwargs):
    errors = []
    if hasattr(settings, "PAPER_DEFAULT_STARTING_CASH"):
        value = settings.PAPER_DEFAULT_STARTING_CASH
        cash = _decimal(value)
        if cash is None or cash <= 0:
            errors.append(
                _error(
                    "PAPER_DEFAULT_STARTING_CASH",
                    value,
                    "must be a positive amount in rupees.",
                    "Digits only, no commas or symbol, e.g. 1000000.",
                    1,
                )
            )
    if hasattr(settings, "PAPER_SLIPPAGE_BPS"):
        value = settings.PAPER_SLIPPAGE_BPS
        bps = _decimal(value)
        if bps is None or bps < 0:
            errors.append(
                _error(
                    "PAPER_SLIPPAGE_BPS",
                    value,
                    "must be a number of basis points >= 0.",
                    "0 fills MARKET orders at the last price; 5 moves them 0.05% against you.",
                    2,
                )
            )
    if hasattr(settings, "PAPER_WHEN_CLOSED"):
        value = settings.PAPER_WHEN_CLOSED
        if value not in WHEN_CLOSED:
            errors.append(
                _error(
                    "PAPER_WHEN_CLOSED",
                    value,
                    f"must be one of {', '.join(WHEN_CLOSED)}.",
                    "queue: orders placed while the market is closed rest until the open; "
                    "reject: they are refused.",
                    3,
                )
            )
    if hasattr(settings, "PAPER_MIS_SQUARE_OFF"):
        value = settings.PAPER_MIS_SQUARE_OFF
        try:
            datetime.strptime(value, "%H:%M")
        except (TypeError, ValueError):
            errors.append(
                _error(
                    "PAPER_MIS_SQUARE_OFF",
                    value,
                    "must be a time of day as HH:MM.",
                    "India time, 24-hour clock, e.g. 15:20.",
                    4,
                )
            )
    if hasattr(settings, "PAPER_MAX_VOLUME_SHARE"):
        value = settings.PAPER_MAX_VOLUME_SHARE
        share = _decimal(value)
        if share is None or not 0 <= share <= 1:
            errors.append(
                _error(
                    "PAPER_MAX_VOLUME_SHARE",
                    value,
                    "must be a fraction between 0 and 1.",
                    "0 fills whole orders; 0.1 at most a tenth of the day's volume per check.",
                    5,
                )
            )
    if hasattr(settings, "PAPER_CHARGES"):
        value = settings.PAPER_CHARGES
        problems = _charges_problems(value)
        if problems:
            errors.append(
                _error(
                    "PAPER_CHARGES",
                    value,
                    "; ".join(problems) + ".",
                    "Override keys of paper.charges.DEFAULT_SCHEDULE, e.g. "
                    '{"intraday": {"brokerage_max": "0"}}.',
                    6,
                )
            )
    return errors
