"""In-page notifications from what sync (and execution) recorded.

An order of the user's that was filled, partly filled, rejected (with the broker's
reason) or became UNKNOWN is an `OrderEvent` with that `to_status`; an account's
expired session is a broker `SystemEvent`. Each browser session keeps a cursor (the
last event ids it was shown), so each event becomes one toast, once, for its owner
only. A session's first poll starts the cursor at "now": no flood of old news.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max, Q

from sigmatrader.formatting import inr, inr_number
from sigmatrader.models import SystemEvent

from .models import Order, OrderEvent

SESSION_KEY = "live_toast_cursor"
MAX_TOASTS = 8
TOAST_STATES = {
    Order.Status.EXECUTED: "ok",
    Order.Status.PARTIALLY_FILLED: "warn",
    Order.Status.REJECTED: "bad",
    Order.Status.UNKNOWN: "warn",
}


@dataclass(frozen=True)
class Toast:
    key: str
    level: str  # ok / warn / bad
    title: str
    text: str


def _order_events(user):
    # A protective exit armed (its entry filled) is news too; other GTTs armed are not.
    # One toast per pair: the OCO sibling's own "armed" line is left out.
    armed_exit = (
        Q(to_status=Order.Status.ARMED, order__source=Order.Source.PROTECTION)
        & ~Q(message__startswith="Armed with its OCO sibling")
        & ~Q(message__startswith="Armed at the broker as GTT")
    )
    return OrderEvent.objects.filter(
        Q(to_status__in=list(TOAST_STATES)) | armed_exit, order__user=user
    )


# An entry left without protection (protection/exits/ says "NOT protected").
UNPROTECTED = "NOT protected"


def _session_events(user):
    # Written by brokers.accounts.mark_expired; events marked `toast` (trading halts);
    # and protection's warning for an unprotected entry.
    return SystemEvent.objects.filter(user=user).filter(
        Q(category=SystemEvent.Category.BROKER, message__contains="session expired")
        | Q(details__toast=True)
        | Q(category=SystemEvent.Category.ORDER, message__contains=UNPROTECTED)
    )


def _system_toast(event: SystemEvent) -> Toast:
    if event.details.get("toast") if isinstance(event.details, dict) else False:
        levels: dict[str, str] = {
            SystemEvent.Level.INFO: "ok",
            SystemEvent.Level.DEBUG: "ok",
            SystemEvent.Level.WARNING: "warn",
        }
        level = levels.get(str(event.level), "bad")
        # The event may name itself (a loss limit's "Day P&L unknown" is no halt).
        title = str(event.details.get("toast_title") or "Trading halt")[:60]
        return Toast(f"s{event.pk}", level, title, event.message)
    if UNPROTECTED in event.message:
        return Toast(f"s{event.pk}", "bad", "Not protected", event.message)
    return Toast(f"s{event.pk}", "bad", "Session expired", event.message)


def _order_toast(event: OrderEvent) -> Toast:
    order = event.order
    symbol = order.instrument.trading_symbol if order.instrument else order.symbol
    quantity = inr_number(order.quantity)
    what = f"#{order.pk} {order.side} {quantity} {symbol} · {order.account_name}"
    if event.to_status == Order.Status.ARMED:
        title = "Protection armed"
        text = f"{what}: {event.message}"
        return Toast(f"o{event.pk}", "ok", title, text)
    if event.to_status == Order.Status.EXECUTED:
        title = "Order executed"
        text = what + (f" at {inr(order.average_price)}" if order.average_price else "")
    elif event.to_status == Order.Status.PARTIALLY_FILLED:
        title = "Order partly filled"
        text = f"{what}: {inr_number(order.filled_quantity)} of {quantity} filled"
    elif event.to_status == Order.Status.REJECTED:
        title = "Order rejected"
        text = f"{what}: {order.status_message or 'no reason given by the broker'}"
    else:
        title = "Order outcome unknown"
        text = f"{what}: the broker may have it; SigmaTrader is reconciling (never resent)."
    return Toast(f"o{event.pk}", TOAST_STATES[Order.Status(event.to_status)], title, text)


def pending_toasts(*, user, session) -> list[Toast]:
    """The toasts this session has not shown yet (and move its cursor past them)."""
    cursor = session.get(SESSION_KEY)
    if cursor is None:
        last_order = _order_events(user).aggregate(m=Max("id"))["m"] or 0
        last_system = _session_events(user).aggregate(m=Max("id"))["m"] or 0
        session[SESSION_KEY] = [last_order, last_system]
        return []
    last_order, last_system = cursor
    order_events = list(
        _order_events(user)
        .filter(id__gt=last_order)
        .select_related("order", "order__instrument")
        .order_by("id")[:MAX_TOASTS]
    )
    system_events = list(_session_events(user).filter(id__gt=last_system).order_by("id")[:4])
    toasts = [_order_toast(event) for event in order_events]
    toasts += [_system_toast(event) for event in system_events]
    if order_events or system_events:
        session[SESSION_KEY] = [
            order_events[-1].pk if order_events else last_order,
            system_events[-1].pk if system_events else last_system,
        ]
    return toasts
