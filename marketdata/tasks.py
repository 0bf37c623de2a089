import logging

from celery import shared_task

from . import readiness, refresh

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
def refresh_instruments_for(broker: str, attempts_left: int = 0) -> int | str:
    """One broker: Settings → Refresh now, or an account that connected without
    its instruments (those try again a little later: e.g. `make demo` queues
    them before the emulator listens). Progress goes to the cache for Settings."""
    readiness.started(broker)
    rows = 0
    try:
        rows = refresh.refresh_instruments(
            broker=broker, progress=lambda n: readiness.progressed(broker, n)
        ).rows
        return rows
    except refresh.RefreshFailed:  # recorded on the run and as an event
        if attempts_left > 0:
            readiness.queue_refresh(broker, attempts=attempts_left - 1, countdown=RETRY_SECONDS)
        return "failed"
    finally:
        readiness.after_refresh(broker=broker, rows=rows)


RETRY_SECONDS = 10
