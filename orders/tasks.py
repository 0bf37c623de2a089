import time

from celery import shared_task
from django.core.cache import cache

from marketdata import clock

from .sync import sync_all

OFF_HOURS_EVERY = 300  # seconds between syncs while the market is closed


@shared_task(name="orders.sync_orders")
def sync_orders() -> dict:
    """Beat runs this every 15 s; outside market hours it syncs every 5 minutes."""
    # Off hours, cache.add() succeeds once per window across every worker process.
    if not clock.is_open() and not cache.add("orders:off-hours-sync", time.time(), OFF_HOURS_EVERY):
        return {"skipped": "market closed"}
    results = sync_all()
    return {str(r.account_id): r.error or r.updated for r in results}


@shared_task(name="orders.check_conditional_orders")
def check_conditional_orders() -> dict:
    """Beat, every few seconds: managed GTTs (trigger/expire) and native GTT state."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    from .conditional import check_conditional_orders as check

    return check()


@shared_task(name="orders.execute_order", acks_late=False, ignore_result=True)
def execute_order(order_id: int) -> str:
    """AUTO strategies: send a webhook's order through the execution service.

    Not retried by Celery: a second run would find the order claimed anyway,
    and an ambiguous placement is left to the sync.
    """
    from .execution import NotExecutable, execute
    from .models import Order

    order = Order.objects.select_related("account", "instrument", "strategy").get(pk=order_id)
    actor = f"strategy:{order.strategy.name}" if order.strategy else "webhook"
    try:
        return execute(order=order, actor=actor[:60]).status
    except NotExecutable as exc:
        return exc.message
