"""Cancel and modify: locally while an order waits, at the broker once it is live."""

from __future__ import annotations

import copy
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from brokers.base import BrokerError, OrderChange, OutcomeUnknown
from brokers.base import OrderType as BrokerOrderType
from brokers.base import Variety as BrokerVariety
from brokers.connections import calling
from brokers.models import BrokerAccount

from . import conditional
from .broker_request import uses_price, uses_trigger
from .history import log
from .models import ACCOUNT_GONE, Order
from .sync import NOT_RECEIVED, CannotReconcile, reconcile_before_resending
from .validation import InvalidOrder, validate

logger = logging.getLogger(__name__)
Status = Order.Status
AT_BROKER = (Status.SENT, Status.OPEN, Status.PARTIALLY_FILLED)


def _account(order: Order) -> BrokerAccount:
    """The account an order at the broker is acted on through; refused (not a crash)
    when the account was deleted since."""
    if order.account is None:
        raise ActionRefused(f"Order #{order.pk}: {ACCOUNT_GONE}")
    return order.account


class ActionRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cancel(*, order: Order, actor: str) -> Order:
    if order.status == Status.FAILED and order.status_message == NOT_RECEIVED:
        # It may be at the broker after all: look first, cancel it there if so.
        try:
            order = reconcile_before_resending(order)
        except CannotReconcile as exc:
            raise ActionRefused(exc.message) from exc
    before = order.status
    if order.status == Status.ARMED:
        if order.gtt_id:  # a native GTT is cancelled at the broker, through the account
            _account(order)
        try:
            conditional.cancel_armed(order, actor=actor)
        except BrokerError as exc:
            log(order, "broker", f"GTT cancel not confirmed: {exc.message}", actor=actor)
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
    account = _account(order)
    try:
        with calling(account) as adapter:
            adapter.cancel_order(order.broker_order_id, variety=BrokerVariety(order.variety))
    except BrokerError as exc:
        log(order, "broker", f"Cancel refused: {exc.message}", actor=actor)
        raise ActionRefused(exc.message) from exc
    log(order, "broker", "Cancel sent to the broker; the sync confirms it", actor=actor)
    return order


def _decimal(name: str, value) -> Decimal | None:
    """A price as the trader typed it (or as a Decimal): finite and positive, or refused."""
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ActionRefused(f"{name} must be a number.") from None
    if not number.is_finite():
        raise ActionRefused(f"{name} must be a finite number.")
    return number


def _quantity(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ActionRefused("Quantity must be a whole number.")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ActionRefused("Quantity must be a whole number.") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ActionRefused("Quantity must be a whole number.")
    return int(number)


def check_modification(
    order: Order,
    *,
    quantity: int | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
    order_type: str | None,
) -> Order:
    """The order as it would be after the change, checked with a new order's rules
    (positive, finite, tick, lot, the account's order types). Raises ActionRefused."""
    if order_type is not None and order_type not in Order.OrderType.values:
        raise ActionRefused(f"Unknown order type {order_type!r}.")
    candidate = copy.copy(order)
    candidate.quantity = order.quantity if quantity is None else quantity
    candidate.price = order.price if price is None else price
    candidate.trigger_price = order.trigger_price if trigger_price is None else trigger_price
    candidate.order_type = order_type or order.order_type
    try:
        validate(candidate)
    except InvalidOrder as exc:
        raise ActionRefused(str(exc)) from exc
    if quantity is not None and quantity < order.filled_quantity:
        raise ActionRefused(
            f"Quantity {quantity} is below the {order.filled_quantity} already filled."
        )
    return candidate


def modify(
    *,
    order: Order,
    actor: str,
    quantity: int | None = None,
    price: Decimal | None = None,
    trigger_price: Decimal | None = None,
    order_type: str | None = None,
) -> Order:
    """Change an open order at the broker (where the adapter declares modify).

    The new values are checked like a new order's before any broker call; the
    broker's answer is written to the order's history first, so it survives a
    failure to save the new values locally (the sync then catches up).
    """
    if order.status not in AT_BROKER or not order.broker_order_id:
        raise ActionRefused("Only an order open at the broker can be modified there.")
    account = _account(order)
    if not account.adapter_class.capabilities.modify:
        raise ActionRefused(f"{account.broker_label} does not allow modifying orders.")
    quantity = _quantity(quantity)
    price = _decimal("Price", price)
    trigger_price = _decimal("Trigger price", trigger_price)
    order_type = order_type or None
    check_modification(
        order, quantity=quantity, price=price, trigger_price=trigger_price, order_type=order_type
    )
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
    if not fields:
        raise ActionRefused("Nothing to change.")
    change = OrderChange(
        quantity=quantity,
        price=price,
        trigger_price=trigger_price,
        order_type=BrokerOrderType(order_type) if order_type else None,
    )
    asked = {k: str(v) for k, v in fields.items()}
    try:
        with calling(account) as adapter:
            adapter.modify_order(
                order.broker_order_id, change, variety=BrokerVariety(order.variety)
            )
    except OutcomeUnknown as exc:
        # Not a refusal: the change may be in force at the broker. Nothing is saved
        # here on a guess; the order sync copies back what the broker holds.
        message = (
            f"No clear answer from {account.display_name}: the broker may have applied "
            "the change; the next sync shows what it holds."
        )
        log(order, "broker", f"Modify unconfirmed: {message}", actor=actor, details=asked)
        raise ActionRefused(message) from exc
    except BrokerError as exc:
        log(order, "broker", f"Modify refused: {exc.message}", actor=actor, details=asked)
        raise ActionRefused(exc.message) from exc
    # The broker has the change: its answer is recorded whatever happens here.
    try:
        with transaction.atomic():
            log(order, "broker", "Modified at the broker", actor=actor, details=asked)
            saved: dict[str, Any] = dict(fields)
            # A type that no longer uses a price (MARKET, SL-M) or trigger keeps no stale one.
            if order_type and not uses_price(order_type):
                saved["price"] = None
            if order_type and not uses_trigger(order_type):
                saved["trigger_price"] = None
            Order.objects.filter(pk=order.pk).update(**saved, updated_at=timezone.now())
    except DatabaseError:
        logger.exception("order %s modified at the broker but not saved here", order.pk)
        recorded = "the order's history records it"
        try:
            log(
                order,
                "broker",
                "Modified at the broker, but the new values could not be saved here; "
                "the broker's copy is the right one.",
                actor=actor,
                details=asked,
            )
        except DatabaseError:
            recorded = "the application log records it"
            logger.error(
                "order %s modified at the broker with %s; nothing could be saved here",
                order.pk,
                asked,
            )
        raise ActionRefused(
            f"The broker accepted the change, but it could not be saved here; {recorded}."
        ) from None
    order.refresh_from_db()
    return order
