"""Cancel and modify: locally while an order waits, at the broker once it is live."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from brokers.base import BrokerError, OrderChange
from brokers.base import OrderType as BrokerOrderType
from brokers.base import Variety as BrokerVariety
from brokers.connections import calling

from . import conditional
from .history import log
from .models import Order

Status = Order.Status
AT_BROKER = (Status.SENT, Status.OPEN, Status.PARTIALLY_FILLED)


class ActionRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cancel(*, order: Order, actor: str) -> Order:
    before = order.status
    if order.status == Status.ARMED:
        try:
            conditional.cancel_armed(order, actor=actor)
        except BrokerError as exc:
            raise ActionRefused(exc.message) from exc
        order.refresh_from_db()
        return order
    if order.status in (Status.WAITING, Status.FAILED):
        moved = Order.objects.filter(pk=order.pk, status=before).update(
            status=Status.CANCELLED, updated_at=timezone.now()
        )
        order.refresh_from_db()
        if not moved:
            raise ActionRefused(f"Order #{order.pk} changed meanwhile: it is now {order.status}.")
        log(order, "status", "Cancelled before sending", actor=actor, before=before)
        return order
    if order.status not in AT_BROKER or not order.broker_order_id:
        raise ActionRefused(f"A {order.get_status_display().lower()} order cannot be cancelled.")
    try:
        with calling(order.account) as adapter:
            adapter.cancel_order(order.broker_order_id, variety=BrokerVariety(order.variety))
    except BrokerError as exc:
        log(order, "broker", f"Cancel refused: {exc.message}", actor=actor)
        raise ActionRefused(exc.message) from exc
    log(order, "broker", "Cancel sent to the broker; the sync confirms it", actor=actor)
    return order


def modify(
    *,
    order: Order,
    actor: str,
    quantity: int | None = None,
    price: Decimal | None = None,
    trigger_price: Decimal | None = None,
    order_type: str | None = None,
) -> Order:
    """Change an open order at the broker (where the adapter declares modify)."""
    if order.status not in AT_BROKER or not order.broker_order_id:
        raise ActionRefused("Only an order open at the broker can be modified there.")
    if not order.account.adapter_class.capabilities.modify:
        raise ActionRefused(f"{order.account.broker_label} does not allow modifying orders.")
    change = OrderChange(
        quantity=quantity,
        price=price,
        trigger_price=trigger_price,
        order_type=BrokerOrderType(order_type) if order_type else None,
    )
    try:
        with calling(order.account) as adapter:
            adapter.modify_order(
                order.broker_order_id, change, variety=BrokerVariety(order.variety)
            )
    except BrokerError as exc:
        log(order, "broker", f"Modify refused: {exc.message}", actor=actor)
        raise ActionRefused(exc.message) from exc
    fields = {
        k: v
        for k, v in {
            "quantity": quantity,
            "price": price,
            "trigger_price": trigger_price,
            "order_type": order_type,
        }.items()
        if v is not None
    }
    Order.objects.filter(pk=order.pk).update(**fields, updated_at=timezone.now())
    order.refresh_from_db()
    log(
        order,
        "broker",
        "Modified at the broker",
        actor=actor,
        details={k: str(v) for k, v in fields.items()},
    )
    return order
