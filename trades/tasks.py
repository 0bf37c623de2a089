from celery import shared_task

from .capture import capture_all


@shared_task(name="trades.capture_account")
def capture_account(account_id: int) -> dict:
    """Queued by a fill (trades/capture.py): read this account's trade book."""
    return {
        str(r.account_id): r.error or f"{r.added} new of {r.read}" for r in capture_all(account_id)
    }


@shared_task(name="trades.end_of_day")
def end_of_day() -> dict:
    """Beat, 15:50 India time on weekdays: every connected account's trade book, so
    each trading day is captured even when no fill passed through the app."""
    results = capture_all(rebuild=True)
    return {str(r.account_id): r.error or f"{r.added} new of {r.read}" for r in results}
