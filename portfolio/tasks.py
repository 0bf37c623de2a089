from celery import shared_task

from marketdata import clock


@shared_task(name="portfolio.sync_portfolio")
def sync_portfolio() -> dict:
    """Beat, every 5 minutes: holdings, positions and funds of every connected account,
    during market hours (prices and positions do not move otherwise)."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    from .sync import portfolio_sync_all

    return {
        str(r.account_id): r.error or f"{r.holdings}h/{r.positions}p" for r in portfolio_sync_all()
    }


@shared_task(name="portfolio.end_of_day")
def end_of_day() -> dict:
    """Beat, after the close: a last sync, then the day's snapshot of every account."""
    from .snapshots import snapshot_all
    from .sync import portfolio_sync_all

    results = portfolio_sync_all()
    return {"synced": len(results), "snapshots": snapshot_all()}


@shared_task(name="portfolio.refresh_account")
def refresh_account(account_id: int) -> dict:
    """Queued by a fill (portfolio/refresh.py): this account's holdings, positions, funds."""
    from .sync import portfolio_sync_all

    return {
        str(r.account_id): r.error or f"{r.holdings}h/{r.positions}p"
        for r in portfolio_sync_all(account_id)
    }
