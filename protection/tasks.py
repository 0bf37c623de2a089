from celery import shared_task

from marketdata import clock

from .exits.sweep import sweep
from .exits.trailing import trail_stops
from .limits import watch


@shared_task(name="protection.watch_limits", ignore_result=True)
def watch_limits() -> dict:
    """Beat, every 20 s: day P&L of accounts under a loss limit (market hours only),
    halts started where a limit is reached, halts' failed actions retried."""
    return watch()


@shared_task(name="protection.trail_stops", ignore_result=True)
def trail() -> dict:
    """Beat, every 5 s in market hours: trailing stops follow the best price (never back)."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    return trail_stops()


@shared_task(name="protection.sweep", ignore_result=True)
def sweep_plans() -> dict:
    """Beat, every 15 s: fills the signal missed, finished plans, the retry policy."""
    return sweep()
