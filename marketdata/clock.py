"""Is the market open? The one place that answers it (the clock is a dependency).

The `MARKET_CLOCK` setting chooses the clock:

- ``exchange`` (the default): the exchanges' regular sessions in India time,
  Monday to Friday except exchange holidays — NSE/BSE cash and F&O
  09:15–15:30, MCX 09:00–23:30, currency 09:00–17:00. Holidays come from the
  `holidays` package's NSE calendar, corrected by EXCHANGE_HOLIDAYS_EXTRA and
  EXCHANGE_TRADING_DAYS_EXTRA (the exchange announces each year's list in
  December, and moon-sighted dates move). MCX keeps its evening session on
  most NSE holidays, so its holidays are not modelled: there the broker's
  refusal (an order REJECTED with its reason) is the answer.
- ``always-open``: every moment is in market hours — the demo against the
  broker emulator (`make demo` sets it; the emulator keeps its own clock) and
  tests that are not about hours.
- ``always-closed``: no moment is — to try the closed-market choices (and tests).

`MARKET_ALWAYS_OPEN=true` is the older spelling of ``always-open``.
Callers: order execution, paper fills, the sync schedules, the closed-market
choice in the pages.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone

IST = ZoneInfo("Asia/Kolkata")
OPEN, CLOSE = time(9, 15), time(15, 30)  # NSE/BSE cash market
EXCHANGE = "exchange"
ALWAYS_OPEN = "always-open"
ALWAYS_CLOSED = "always-closed"
CLOCKS = (EXCHANGE, ALWAYS_OPEN, ALWAYS_CLOSED)

SESSIONS = {
    "NSE": (OPEN, CLOSE),
    "BSE": (OPEN, CLOSE),
    "NFO": (OPEN, CLOSE),
    "BFO": (OPEN, CLOSE),
    "MCX": (time(9, 0), time(23, 30)),
    "CDS": (time(9, 0), time(17, 0)),
    "BCD": (time(9, 0), time(17, 0)),
}
# Exchanges that close on NSE's holidays (MCX keeps an evening session on most).
HOLIDAY_EXCHANGES = {"NSE", "BSE", "NFO", "BFO", "CDS", "BCD"}


def clock_name() -> str:
    """The configured clock (validated at start-up by settings)."""
    if getattr(settings, "MARKET_ALWAYS_OPEN", False):
        return ALWAYS_OPEN
    return getattr(settings, "MARKET_CLOCK", EXCHANGE) or EXCHANGE


def session(exchange: str | None = None) -> tuple[time, time]:
    return SESSIONS.get((exchange or "NSE").upper(), (OPEN, CLOSE))


def is_open(*, exchange: str | None = None, moment: datetime | None = None) -> bool:
    """True when `exchange` (NSE by default) is in its regular session at `moment` (now)."""
    name = clock_name()
    if name != EXCHANGE:
        return name == ALWAYS_OPEN
    start, end = session(exchange)
    local = (moment or timezone.now()).astimezone(IST)
    return is_trading_day(local.date(), exchange=exchange) and start <= local.time() < end


def hours_text(exchange: str | None = None, *, moment: datetime | None = None) -> str:
    """What the page says about the hours, e.g. "09:15–15:30 India time, Monday to
    Friday"; on a holiday it names it ("today is an exchange holiday: Holi")."""
    start, end = session(exchange)
    text = f"{start:%H:%M}–{end:%H:%M} India time, Monday to Friday"
    if clock_name() == EXCHANGE:
        name = holiday_name(india_today(moment), exchange=exchange)
        if name:
            text += f"; today is an exchange holiday: {name}"
    return text


def trading_day(moment: datetime | None = None):
    """The trading day `moment` (now) belongs to: its date in India time.

    A daily limit or a halt is kept per trading day: one recorded on Friday is
    over on the next date the market opens (a weekend has no session to halt)."""
    return (moment or timezone.now()).astimezone(IST).date()


def india_today(moment: datetime | None = None) -> date:
    """The India date of `moment` (now): the same as `trading_day`, named for
    callers that want a date, not a session."""
    return trading_day(moment)


@lru_cache(maxsize=64)
def _nse_holidays(year: int) -> dict[date, str]:
    return dict(holidays.financial_holidays("XNSE", years=year))


def _configured(name: str) -> frozenset[date]:
    return _parsed(tuple(getattr(settings, name, ())))


@lru_cache(maxsize=16)
def _parsed(days: tuple[str, ...]) -> frozenset[date]:
    """Parsed once per value (a scan over a year asks for every day; a test that
    overrides the setting brings a new value, so never a stale answer)."""
    return frozenset(date.fromisoformat(day) for day in days)


def holiday_name(day: date, *, exchange: str | None = None) -> str | None:
    """The name of the exchange holiday on `day`, or None (weekends are not
    holidays here; MCX's are not modelled, see the module docstring)."""
    if (exchange or "NSE").upper() not in HOLIDAY_EXCHANGES:
        return None
    if day in _configured("EXCHANGE_TRADING_DAYS_EXTRA"):
        return None
    if day in _configured("EXCHANGE_HOLIDAYS_EXTRA"):
        return "exchange holiday (EXCHANGE_HOLIDAYS_EXTRA)"
    return _nse_holidays(day.year).get(day)


def is_trading_day(day: date, *, exchange: str | None = None) -> bool:
    """A weekday that is not an exchange holiday, or a declared special session."""
    if day in _configured("EXCHANGE_TRADING_DAYS_EXTRA"):
        return True
    return day.weekday() < 5 and holiday_name(day, exchange=exchange) is None


def trading_days(start: date, end: date) -> list[date]:
    """The trading days from `start` to `end`, both included."""
    days, day = [], start
    while day <= end:
        if is_trading_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def previous_trading_day(day: date) -> date:
    """The last trading day before `day`."""
    day -= timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def last_closed_trading_day(moment: datetime | None = None) -> date:
    """The latest trading day whose cash session has ended at `moment` (now)."""
    local = (moment or timezone.now()).astimezone(IST)
    day = local.date()
    if not (is_trading_day(day) and local.time() >= CLOSE):
        day = previous_trading_day(day)
    return day


def next_intraday_end(moment: datetime | None = None, *, at: time) -> datetime:
    """The next intraday square-off at `at` (India time) on a trading day: today's
    while it is still ahead, else the next trading day's. With the always-open clock
    (the demo at any hour) the session never closes, so the day ends at midnight."""
    local = (moment or timezone.now()).astimezone(IST)
    if clock_name() == ALWAYS_OPEN:
        return datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=IST)
    day = local.date()
    if not is_trading_day(day) or local.time() >= at:
        day += timedelta(days=1)
        while not is_trading_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=IST)
