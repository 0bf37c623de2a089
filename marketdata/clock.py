"""Is the market open? The one place that answers it (the clock is a dependency).

The `MARKET_CLOCK` setting chooses the clock:

- ``exchange`` (the default): the exchanges' regular sessions in India time,
  Monday to Friday — NSE/BSE cash and F&O 09:15–15:30, MCX 09:00–23:30,
  currency 09:00–17:00. Exchange holidays are not modelled: on a holiday the
  broker itself refuses a regular order, which comes back as REJECTED with the
  broker's reason.
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
from zoneinfo import ZoneInfo

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
    return local.weekday() < 5 and start <= local.time() < end


def hours_text(exchange: str | None = None) -> str:
    """What the page says about the hours, e.g. "09:15–15:30 India time, Monday to Friday"."""
    start, end = session(exchange)
    return f"{start:%H:%M}–{end:%H:%M} India time, Monday to Friday"


def trading_day(moment: datetime | None = None):
    """The trading day `moment` (now) belongs to: its date in India time.

    A daily limit or a halt is kept per trading day: one recorded on Friday is
    over on the next date the market opens (a weekend has no session to halt)."""
    return (moment or timezone.now()).astimezone(IST).date()


def india_today(moment: datetime | None = None) -> date:
    """The India date of `moment` (now): the same as `trading_day`, named for
    callers that want a date, not a session."""
    return trading_day(moment)


def is_trading_day(day: date) -> bool:
    """A weekday (exchange holidays are not modelled, as for the hours above)."""
    return day.weekday() < 5


def trading_days(start: date, end: date) -> list[date]:
    """The trading days from `start` to `end`, both included."""
    days, day = [], start
    while day <= end:
        if is_trading_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def last_closed_trading_day(moment: datetime | None = None) -> date:
    """The latest trading day whose cash session has ended at `moment` (now)."""
    local = (moment or timezone.now()).astimezone(IST)
    day = local.date()
    if not (is_trading_day(day) and local.time() >= CLOSE):
        day -= timedelta(days=1)
        while not is_trading_day(day):
            day -= timedelta(days=1)
    return day
