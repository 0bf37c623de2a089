import logging

from celery import shared_task

from . import refresh

logger = logging.getLogger(__name__)


@shared_task(name="marketdata.refresh_instruments")
def refresh_instruments() -> dict:
    """Beat, daily (08:00 India time by default): every eligible broker's master."""
    outcome = {}
    for broker in refresh.brokers_to_refresh():
        try:
            run = refresh.refresh_instruments(broker=broker)
            outcome[broker] = run.rows
        except refresh.RefreshFailed as exc:  # recorded as an event; the others go on
            logger.warning("instrument refresh failed for %s: %s", broker, exc)
            outcome[broker] = "failed"
    return outcome


@shared_task(name="marketdata.refresh_instruments_for")
def refresh_instruments_for(broker: str) -> int | str:
    """One broker, on an operator's request (Settings → Refresh now)."""
    try:
        return refresh.refresh_instruments(broker=broker).rows
    except refresh.RefreshFailed:
        return "failed"  # recorded on the run and as an event
