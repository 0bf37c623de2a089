import contextlib
import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from brokers.base import EndpointClass
from brokers.models import BrokerAccount
from brokers.ratelimit import prepaid, reserve, scope_for
from marketdata import clock

from .execution import NotExecutable, execute
from .models import Order
from .recovery import sweep_stranded
from .sync import order_sync_all
from .triggers import check_conditional_orders as check_conditional

OFF_HOURS_EVERY = 300  # seconds between syncs while the market is closed


@shared_task(name="orders.sync_orders")
def sync_orders() -> dict:
    """Beat runs this every 15 s; outside market hours it syncs every 5 minutes."""
    # Off hours, cache.add() succeeds once per window across every worker process.
    if not clock.is_open() and not cache.add("orders:off-hours-sync", time.time(), OFF_HOURS_EVERY):
        return {"skipped": "market closed"}
    results = order_sync_all()
    return {str(r.account_id): r.error or r.updated for r in results}


@shared_task(name="orders.check_conditional_orders")
def check_conditional_orders() -> dict:
    """Beat, every few seconds: managed GTTs (trigger/expire) and native GTT state."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    return check_conditional()


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
    order = (
        Order.objects.select_related("account", "instrument", "strategy")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        return "gone"
    claimable = (Order.Status.WAITING, Order.Status.TRIGGERED)
    if order.status not in claimable and order.status != Order.Status.FAILED:
        # A redelivery of a sent order: refused as the claim would, without using a slot.
        state = order.get_status_display().lower()
        return f"Order #{order.pk} is {state}: an order is sent only once."
    # An account deleted since the alert has no order slot to take: execution refuses
    # the order and says why (FAILED), so no sweep re-enqueues it for ever.
    slot = (
        order_slot(order.account) if order.account is not None else _Slot("", 0.0, reserved=False)
    )
    if slot.wait > settings.BROKER_RATE_LIMIT_MAX_WAIT:
        # A long window is full (per minute/hour/day): not worth holding the
        # order back for; the placement refuses it as before (FAILED, says why).
        slot = _Slot(slot.scope, 0.0, reserved=False)
    if slot.wait:
        if execute_order.request.is_eager:  # tests/one-process runs: no queue to come back from
            time.sleep(slot.wait)
            return execute_order.run(order_id)
        # Full window for this account: come back when it rolls over, without
        # holding a worker slot (other accounts' orders go on meanwhile) and
        # without claiming (the order stays WAITING; the claim stays atomic).
        execute_order.apply_async((order_id,), countdown=slot.wait)
        return f"deferred {slot.wait:.3f} s (rate limit of {order.account_name})"
    actor = f"strategy:{order.strategy.name}" if order.strategy else "webhook"
    try:
        with slot.prepaid():
            return execute(order=order, actor=actor[:60], claim_from=claimable).status
    except NotExecutable as exc:
        return exc.message


class _Slot:
    def __init__(self, scope: str, wait: float, *, reserved: bool = True):
        self.scope, self.wait, self.reserved = scope, wait, reserved

    def prepaid(self):
        if not self.reserved:
            return contextlib.nullcontext()
        return prepaid(self.scope, EndpointClass.ORDERS)


def order_slot(account: BrokerAccount) -> _Slot:
    """Reserve one order slot of `account` under its broker's order limits now,
    or say how long until one frees (`wait` > 0, nothing reserved)."""
    adapter = account.adapter_class
    scope = scope_for(adapter.name, str(account.pk))
    limits = adapter.capabilities.rate_limits.get(EndpointClass.ORDERS)
    wait = reserve(scope=scope, endpoint=EndpointClass.ORDERS, limits=limits) if limits else 0.0
    return _Slot(scope, wait)


@shared_task(name="orders.sweep_stranded_orders", ignore_result=True)
def sweep_stranded_orders() -> dict:
    """Beat, every 30 s: AUTO orders and triggered GTTs a lost worker left behind."""
    return sweep_stranded()
