import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from marketdata import clock

from .engine import check_resting_orders, is_square_off_time
from .engine import square_off_intraday as square_off
from .models import PaperBook

logger = logging.getLogger(__name__)


@shared_task(name="paper.check_orders", ignore_result=True)
def check_orders() -> dict:
    """Beat, every few seconds in market hours: fill resting paper orders that may fill."""
    return check_resting_orders()


@shared_task(name="paper.square_off_intraday")
def square_off_intraday() -> dict:
    """Beat, every minute: at PAPER_MIS_SQUARE_OFF (India time) close MIS positions,
    once per book per day across all workers.

    A book is marked done only once its square-off finished, so a run that
    failed or that a lost worker cut short is finished by the next minute's
    run (a square-off first cancels any resting MIS order, a pending square-off
    order included, so a position is never closed twice).
    """
    now = timezone.localtime(timezone.now(), clock.IST)
    if not is_square_off_time(now):
        return {"skipped": "not square-off time"}
    results = {}
    for book in PaperBook.objects.all():
        done = f"paper:squared-off:{now.date()}:{book.pk}"
        if cache.get(done):
            continue
        try:
            results[str(book.account_id)] = square_off(book)
        except Exception:  # one book's trouble never stops the others; retried next minute
            logger.exception("paper square-off failed for book %s", book.pk)
            results[str(book.account_id)] = "failed"
            continue
        cache.set(done, True, 24 * 3600)
    return results or {"skipped": "already done today"}
