from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from marketdata import clock

from . import engine, feeds, recovery, screener

CYCLE_LOCK_SECONDS = 60


@shared_task(name="alerts.evaluate_alerts", ignore_result=True)
def evaluate_alerts() -> dict:
    """Beat, every few seconds: prices for the watched symbols, then one evaluation
    cycle. One cycle at a time (a slow cycle is skipped, not stacked); were two to
    overlap, the fire claim still lets each firing happen once."""
    if not cache.add("alerts:cycle", 1, CYCLE_LOCK_SECONDS):
        return {"skipped": "a cycle is running"}
    try:
        rules = list(engine.due_rules(timezone.now()))
        if clock.is_open():
            feeds.refresh_quotes(rules)
        return engine.run_cycle(rules=rules)
    finally:
        cache.delete("alerts:cycle")


@shared_task(name="alerts.fetch_candles", ignore_result=True)
def fetch_candles() -> dict:
    """Beat, every minute: the candles rules need, within the history rate limits."""
    rules = list(engine.due_rules(timezone.now()))
    return feeds.fetch_due_candles(rules)


@shared_task(name="alerts.run_screener", ignore_result=True)
def run_screener(run_id: int) -> str:
    return screener.run(run_id)


@shared_task(name="alerts.fetch_screener_candles", ignore_result=True)
def fetch_screener_candles(run_id: int) -> str:
    """On request from a screener run: the daily candles its symbols lack."""
    return screener.fetch_candles(run_id)


@shared_task(name="alerts.sweep_auto_orders", ignore_result=True)
def sweep_auto_orders() -> dict:
    """Beat, every 30 s: AUTO alert orders whose worker was lost (alerts/recovery.py)."""
    return recovery.sweep_auto_orders()
