from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from marketdata import clock


@shared_task(name="paper.check_orders", ignore_result=True)
def check_orders() -> dict:
    """Beat, every few seconds in market hours: fill resting paper orders that may fill."""
    from .engine import check_resting_orders

    return check_resting_orders()


@shared_task(name="paper.square_off_intraday")
def square_off_intraday() -> dict:
    """Beat, every minute: at PAPER_MIS_SQUARE_OFF (India time) close MIS positions,
    once per day across all workers."""
    from .engine import is_square_off_time
    from .engine import square_off_intraday as square_off
    from .models import PaperBook

    now = timezone.localtime(timezone.now(), clock.IST)
    if not is_square_off_time(now):
        return {"skipped": "not square-off time"}
    if not cache.add(f"paper:squared-off:{now.date()}", True, 24 * 3600):
        return {"skipped": "already done today"}

    return {str(book.account_id): square_off(book) for book in PaperBook.objects.all()}
