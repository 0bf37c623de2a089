"""AUTO alert orders a lost worker left behind.

An AUTO action creates a WAITING order and queues `orders.execute_order` after
its commit. If that message is lost (a queue down, a worker killed before it
claimed the order), the order would wait in the queue for ever: the orders
sweeper only knows AUTO strategies. Here: such an order, still WAITING after
ORDER_SWEEP_GRACE_SECONDS, is handed to a worker again (once per grace period;
the execution claim makes a second delivery harmless); one older than
ORDER_AUTO_MAX_AGE_SECONDS is not sent late: it stays in the queue for the
trader, and its alert event says so.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from orders.models import Order
from sigmatrader.queueing import enqueue

from .models import AlertEvent

logger = logging.getLogger(__name__)
TOO_OLD = " Not sent automatically: its worker was lost; it waits in the queue for you."


def sweep_auto_orders(now=None) -> dict:
    now = now or timezone.now()
    grace = timedelta(seconds=settings.ORDER_SWEEP_GRACE_SECONDS)
    max_age = timedelta(seconds=settings.ORDER_AUTO_MAX_AGE_SECONDS)
    stranded = AlertEvent.objects.filter(
        auto_send=True, order__status=Order.Status.WAITING, order__created_at__lt=now - grace
    )
    too_old = stranded.filter(order__created_at__lt=now - max_age)
    given_up = too_old.update(auto_send=False, outcome=Concat(F("outcome"), Value(TOO_OLD)))
    requeued = 0
    for order_id in stranded.values_list("order_id", flat=True):
        if cache.add(f"alerts:swept:{order_id}", 1, settings.ORDER_SWEEP_GRACE_SECONDS):
            enqueue("orders.execute_order", order_id)
            requeued += 1
    # Sent (or failed, cancelled…) since: nothing more to watch.
    AlertEvent.objects.filter(auto_send=True).exclude(order__status=Order.Status.WAITING).update(
        auto_send=False
    )
    if requeued or given_up:
        logger.warning(
            "alert sweeper: %s order(s) re-enqueued, %s left to the trader", requeued, given_up
        )
    return {"requeued": requeued, "left_to_trader": given_up}
