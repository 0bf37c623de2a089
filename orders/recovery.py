"""The sweeper: what a lost worker leaves half-done is picked up, or shown as FAILED.

A worker can die between taking a message and claiming its order (the
embedded file queue has already dropped the message; Redis hands it back only
after its visibility timeout). Without a sweep such an order waits forever
with no event. Every state a crash can leave behind has an owner:

- AUTO order still WAITING → re-enqueued here after ORDER_SWEEP_GRACE_SECONDS
  (safe: `execute` claims atomically, so a message that was not lost after all
  finds the order claimed and does nothing); past ORDER_AUTO_MAX_AGE_SECONDS it
  is marked FAILED for the trader to review (a stale signal is not sent late).
- managed GTT claimed (TRIGGERED) but never sent → re-enqueued the same way.
- SENDING / UNKNOWN → the order sync reconciles by client tag (orders/sync.py).
- ARMED managed GTT → the conditional check runs every few seconds anyway.
- paper orders accepted but not yet filled rest OPEN in the paper book, where
  the paper fill check (paper.check_orders) fills them; every fill is one
  transaction, so a crash leaves either the whole fill or none of it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent
from sigmatrader.queueing import enqueue

from . import halts
from .history import log
from .models import Order, Strategy

logger = logging.getLogger(__name__)
Status = Order.Status


def stranded_auto_orders(now):
    grace = timedelta(seconds=settings.ORDER_SWEEP_GRACE_SECONDS)
    return Order.objects.filter(
        status=Status.WAITING,
        source=Order.Source.TRADINGVIEW,
        strategy__mode=Strategy.Mode.AUTO,
        created_at__lt=now - grace,
    ).exclude(status_message__contains=halts.QUEUED_AS_MANUAL)  # a halt queued it: the trader's


def stranded_triggers(now):
    grace = timedelta(seconds=settings.ORDER_SWEEP_GRACE_SECONDS)
    return Order.objects.filter(status=Status.TRIGGERED, updated_at__lt=now - grace)


def _fail_stale(order: Order, *, age: int, now) -> bool:
    before = order.status
    message = (
        f"Not sent: no worker sent it within {age} s of the "
        + ("alert" if before == Status.WAITING else "trigger")
        + " (a worker was lost). Review it and execute it yourself if it still applies."
    )
    moved = Order.objects.filter(pk=order.pk, status=before).update(
        status=Status.FAILED, status_message=message, updated_at=now
    )
    if moved:
        order.status = Status.FAILED
        log(order, "status", message, actor="sweeper", before=before)
        record_event(
            category=SystemEvent.Category.ORDER,
            level=SystemEvent.Level.WARNING,
            message=f"Order #{order.pk} {order.side} {order.quantity} {order.symbol}: {message}",
            user=order.user,
            details={"order_id": order.pk},
        )
    return bool(moved)


def sweep_stranded(now=None) -> dict:
    """Re-enqueue AUTO orders and triggered GTTs left behind; fail the stale ones."""
    now = now or timezone.now()
    max_age = settings.ORDER_AUTO_MAX_AGE_SECONDS
    stale_before = now - timedelta(seconds=max_age)
    requeued = failed = 0
    candidates = [*stranded_auto_orders(now), *stranded_triggers(now)]
    for order in candidates:
        started = order.created_at if order.status == Status.WAITING else order.updated_at
        if started < stale_before:
            failed += _fail_stale(order, age=max_age, now=now)
            continue
        # Once per grace period per order, however often the sweep runs.
        if not cache.add(f"orders:swept:{order.pk}", 1, settings.ORDER_SWEEP_GRACE_SECONDS):
            continue
        log(
            order,
            "sync",
            f"Still {order.get_status_display().lower()} after "
            f"{settings.ORDER_SWEEP_GRACE_SECONDS} s: handed to a worker again",
            actor="sweeper",
        )
        enqueue("orders.execute_order", order.pk)
        requeued += 1
    if requeued or failed:
        logger.warning("sweeper: %s order(s) re-enqueued, %s failed as stale", requeued, failed)
    return {"requeued": requeued, "failed": failed}
