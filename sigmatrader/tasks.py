from celery import shared_task


@shared_task(name="sigmatrader.ping")
def ping(value: str = "pong") -> dict:
    """Answers through the task queue: proves a worker consumes what we publish."""
    return {"echo": value}


LIVE_OFF_HOURS_EVERY = 60  # seconds between quote refreshes while the market is closed


@shared_task(name="sigmatrader.refresh_live_quotes", ignore_result=True)
def refresh_live_quotes() -> dict:
    """Beat, every 5 s: one batched quote call per connected account for every open order,
    holding and position, into the cache that pages poll. Off hours, once a minute."""
    import time

    from django.core.cache import cache

    from marketdata import clock

    from .live import refresh_live_quotes as refresh

    if not clock.is_open() and not cache.add(
        "live:off-hours-refresh", time.time(), LIVE_OFF_HOURS_EVERY
    ):
        return {"skipped": "market closed"}
    return {str(pk): outcome for pk, outcome in refresh().items()}
