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


# Acknowledged after it ran, and given back to the queue when its worker dies
# mid-run (where the transport can: Redis, the embedded file queue): a second
# run is harmless because the claim in orders/execution.py is atomic, and it
# claims only WAITING/TRIGGERED orders. What a transport still loses (a whole
# worker killed), the sweeper below re-enqueues.
@shared_task(
    name="orders.execute_order", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def execute_order(order_id: int) -> str:
    """AUTO strategies (and swept triggers): send an order through the execution service.

    Never retried by Celery on an error: an ambiguous placement is left to the sync.
    """
    from .execution import NotExecutable, execute
    from .models import Order

    order = (
        Order.objects.select_related("account", "instrument", "strategy")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        return "gone"
    actor = f"strategy:{order.strategy.name}" if order.strategy else "webhook"
    try:
        return execute(
            order=order,
            actor=actor[:60],
            claim_from=(Order.Status.WAITING, Order.Status.TRIGGERED),
        ).status
    except NotExecutable as exc:
        return exc.message


@shared_task(name="orders.sweep_stranded_orders", ignore_result=True)
def sweep_stranded_orders() -> dict:
    """Beat, every 30 s: AUTO orders and triggered GTTs a lost worker left behind."""
    from .recovery import sweep_stranded

    return sweep_stranded()
