"""What each kind of a halt's action does to its target (protection/halts.py runs them,
once each, and records the outcome): cancel an order, square off an intraday
position, pause an AUTO strategy, or block (which execution does by itself)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from brokers.base import BrokerError
from orders import actions as order_actions
from orders.models import Order, Strategy
from orders.sync import order_sync_account
from portfolio.models import Position
from portfolio.trading import MarketClosed, TradeRefused, exitable_quantity, square_off

from .models import HaltAction

logger = logging.getLogger(__name__)
Kind, State = HaltAction.Kind, HaltAction.State
CANCELLABLE = (
    Order.Status.WAITING,
    Order.Status.ARMED,
    Order.Status.SENDING,
    Order.Status.SENT,
    Order.Status.OPEN,
    Order.Status.PARTIALLY_FILLED,
    Order.Status.UNKNOWN,
)

Outcome = tuple[str, str, Order | None]  # (state, result, order it sent)


def order_of(action: HaltAction) -> Order:
    pk = int(action.target.split(":", 1)[1])
    return Order.objects.select_related("account", "instrument").get(pk=pk)


def _cancel(action: HaltAction, actor: str) -> Outcome:
    order = order_of(action)
    if order.status in (Order.Status.SENDING, Order.Status.UNKNOWN):
        return State.PENDING, "Waiting for the broker's answer; cancelled once it is known.", None
    if order.status not in CANCELLABLE:
        return State.DONE, f"Already {order.get_status_display().lower()}.", None
    try:
        order = order_actions.cancel(order=order, actor=actor)
    except order_actions.ActionRefused as exc:
        # Refused most often because it filled a moment ago ("cannot be cancelled as it
        # is complete"): the order book says so, and then there is nothing to retry.
        if order_book_read(order):
            order.refresh_from_db()
            if order.status not in CANCELLABLE:
                return State.DONE, f"Already {order.get_status_display().lower()}.", None
        return State.FAILED, exc.message, None
    if order.status == Order.Status.CANCELLED:
        return State.DONE, "Cancelled.", None
    return State.DONE, "Cancel sent to the broker; the order sync confirms it.", None


def order_book_read(order: Order) -> bool:
    """Read the account's order book now (orders/sync.py); False if it cannot be read."""
    try:
        order_sync_account(order.account)
    except BrokerError:
        logger.warning("halt: order book of account %s unreadable", order.account_id)
        return False
    return True


def position_of(action: HaltAction) -> Position | None:
    _, account_id, exchange, rest = action.target.split(":", 3)
    symbol = rest.rsplit(":", 1)[0]
    return (
        Position.objects.select_related("account", "instrument")
        .filter(account_id=int(account_id), exchange=exchange, symbol=symbol, product="MIS")
        .first()
    )


def _square_off(action: HaltAction, actor: str) -> Outcome:
    position = position_of(action)
    if position is None or not position.quantity:
        return State.DONE, "Already flat.", None
    quantity = exitable_quantity(position)
    lot = position.lot_size
    quantity -= quantity % lot if lot > 1 else 0
    if quantity <= 0:
        previous = action.order
        if previous is not None:
            previous.refresh_from_db()
            if previous.status in Order.LIVE:
                return State.PENDING, f"Waiting for exit #{previous.pk} to finish.", previous
        return State.DONE, "Exit orders already sent cover the open quantity.", previous
    try:
        order = square_off(
            user=position.account.user, position=position, actor=actor, quantity=quantity
        )
    except MarketClosed as exc:
        return State.FAILED, f"Market closed: {exc.message}", None
    except TradeRefused as exc:
        return State.FAILED, exc.message, None
    what = f"Square-off #{order.pk} ({order.side} {order.quantity})"
    if order.status in (Order.Status.FAILED, Order.Status.REJECTED):
        return (
            State.FAILED,
            f"{what} {order.get_status_display().lower()}: {order.status_message}",
            order,
        )
    if order.status == Order.Status.UNKNOWN:
        return State.PENDING, f"{what} sent, answer unknown: reconciling, never resent.", order
    return State.DONE, f"{what} {order.get_status_display().lower()}.", order


def _pause(action: HaltAction, actor: str) -> Outcome:
    pk = int(action.target.split(":", 1)[1])
    paused = Strategy.objects.filter(pk=pk, mode=Strategy.Mode.AUTO).update(
        mode=Strategy.Mode.MANUAL
    )
    if paused:
        return State.DONE, "Paused: now MANUAL (switch it back to AUTO yourself).", None
    return State.DONE, "Already MANUAL.", None


def _block(action: HaltAction, actor: str) -> Outcome:
    return State.DONE, "New entries are refused at execution; exits still go.", None


RUNNERS: dict[str, Callable[[HaltAction, str], Outcome]] = {
    Kind.BLOCK: _block,
    Kind.CANCEL: _cancel,
    Kind.SQUARE_OFF: _square_off,
    Kind.PAUSE: _pause,
}
