import time

from celery import shared_task
from django.core.cache import cache

from marketdata import clock

from .live import refresh_live_quotes as refresh
from .snapshots import snapshot_all
from .sync import portfolio_sync_all

LIVE_OFF_HOURS_EVERY = 60  # seconds between quote refreshes while the market is closed


@shared_task(name="portfolio.sync_portfolio")
def sync_portfolio() -> dict:
    """Beat, every 5 minutes: holdings, positions and funds of every connected account,
    during market hours (prices and positions do not move otherwise)."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    return {
        str(r.account_id): r.error or f"{r.holdings}h/{r.positions}p" for r in portfolio_sync_all()
    }


@shared_task(name="portfolio.end_of_day")
def end_of_day() -> dict:
    """Beat, after the close: a last sync, then the day's snapshot of every account."""
    results = portfolio_sync_all()
    return {"synced": len(results), "snapshots": snapshot_all()}


@shared_task(name="portfolio.refresh_account")
def refresh_account(account_id: int) -> dict:
    """Queued by a fill (portfolio/refresh.py): this account's holdings, positions, funds."""
    return {
        str(r.account_id): r.error or f"{r.holdings}h/{r.positions}p"
        for r in portfolio_sync_all(account_id)
    }


# Named as when it lived in sigmatrader/: the beat schedule row (a migration) keeps it.
@shared_task(name="sigmatrader.refresh_live_quotes", ignore_result=True)
def refresh_live_quotes() -> dict:
    """Beat, every 5 s: one batched quote call per connected account for every open order,
    holding and position, into the cache that pages poll. Off hours, once a minute."""
    if not clock.is_open() and not cache.add(
        "live:off-hours-refresh", time.time(), LIVE_OFF_HOURS_EVERY
    ):
        return {"skipped": "market closed"}
    return {str(pk): outcome for pk, outcome in refresh().items()}
