"""Order sync: bring live orders up to date from each account's order book.

One order-book call per account per cycle. Orders are matched by broker order
id, or by client tag for orders whose placement had no clear answer (UNKNOWN,
or SENDING left behind by a crashed worker): found → their real state and id;
still absent after a grace period → FAILED "not received by broker". Such a
FAILED order stays watched for ORDER_ADOPT_WINDOW_SECONDS: if its tag turns up
at the broker after all, the order is adopted (state, broker id, an event).
A native GTT whose arming had no clear answer has no tag and is not in the
order book: the account's GTT list decides it (orders/conditional.py).
A broker row is applied only if it is the same order (orders/identity.py): a
reused broker id is recorded as an event, never applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from brokers.base import BrokerError
from brokers.base import OrderStatus as BrokerStatus
from brokers.connections import calling
from brokers.models import BrokerAccount
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from .broker_request import uses_price, uses_trigger
from .conditional import awaiting_gtt, reconcile_gtts
from .history import rejected_event
from .identity import mismatch
from .models import Order, OrderEvent
from .signals import order_events_written, order_filled

logger = logging.getLogger(__name__)
Status = Order.Status

STATUS_FROM_BROKER = {
    BrokerStatus.PENDING: Status.SENT,
    BrokerStatus.OPEN: Status.OPEN,
    BrokerStatus.TRIGGER_PENDING: Status.OPEN,
    BrokerStatus.PARTIALLY_FILLED: Status.PARTIALLY_FILLED,
    BrokerStatus.EXECUTED: Status.EXECUTED,
    BrokerStatus.CANCELLED: Status.CANCELLED,
    BrokerStatus.REJECTED: Status.REJECTED,
}
FIELDS = [
    "status",
    "filled_quantity",
    "average_price",
    "status_message",
    "broker_order_id",
    "quantity",
    "price",
    "trigger_price",
    "updated_at",
]
# While an order is open at the broker its terms can change there (a modify whose
# answer was lost): the broker's copy is the right one.
OPEN_AT_BROKER = (Status.SENT, Status.OPEN, Status.PARTIALLY_FILLED)


@dataclass
class OrderSyncResult:
    account_id: int
    checked: int = 0
    updated: int = 0
    reconciled: int = 0
    failed: int = 0
    error: str = ""
    changes: list[str] = field(default_factory=list)


# The sync's verdict on an order whose placement had no clear answer and that
# the broker did not show within the grace. Its client tag may still surface
# (the broker was slower than the grace): such orders are watched, and adopted
# when it does.
NOT_RECEIVED = "Not received by the broker."


def may_surface(now: datetime | None = None) -> Q:
    """FAILED orders whose client tag the broker may still show (watched for a day)."""
    now = now or timezone.now()
    return Q(
        status=Status.FAILED,
        status_message=NOT_RECEIVED,
        updated_at__gte=now - timedelta(seconds=settings.ORDER_ADOPT_WINDOW_SECONDS),
    )


def order_sync_account(account: BrokerAccount, *, actor: str = "sync") -> OrderSyncResult:
    result = OrderSyncResult(account_id=account.pk)
    now = timezone.now()
    grace = timedelta(seconds=settings.ORDER_RECONCILE_GRACE_SECONDS)
    live = [
        order
        for order in Order.objects.filter(
            Q(account=account) & (Q(status__in=Order.LIVE) | may_surface(now))
        ).select_related("instrument")
        # A fresh SENDING order is being placed right now: leave it to its sender.
        if order.status != Status.SENDING or now - order.updated_at > grace
    ]
    result.checked = len(live)
    if not live:
        return result
    # A native GTT carries no tag and is not in the order book: its GTT list decides.
    arming = [order for order in live if awaiting_gtt(order)]
    live = [order for order in live if not awaiting_gtt(order)]
    with calling(account) as adapter:
        book = adapter.order_book() if live else []
        gtts = adapter.list_gtts() if arming else []
    if arming:
        decided = reconcile_gtts(account, arming, gtts, grace=grace, actor=actor)
        result.changes.extend(decided)
        result.updated += len(decided)
    by_id = {remote.broker_order_id: remote for remote in book}
    by_tag = {remote.tag: remote for remote in book if remote.tag}
    changed, events = [], []
    filled_before = {order.pk: order.filled_quantity or 0 for order in live}
    mismatched = []
    for order in live:
        remote, refused = _match(order, by_id, by_tag)
        if refused:
            mismatched.append((order, refused))
            continue
        before = order.status
        original = _snapshot(order)
        if before == Status.FAILED and remote is None:
            continue  # still not at the broker: keep watching
        if remote is None:
            started = order.sent_at or order.updated_at
            if order.status in (Status.UNKNOWN, Status.SENDING) and now - started > grace:
                order.status, order.status_message = Status.FAILED, NOT_RECEIVED
                result.failed += 1
            else:
                continue
        else:
            if order.status in (Status.UNKNOWN, Status.SENDING, Status.FAILED):
                result.reconciled += 1
            if order.status == Status.FAILED:
                record_event(
                    category=SystemEvent.Category.ORDER,
                    level=SystemEvent.Level.WARNING,
                    message=f"Order #{order.pk} {order.side} {order.quantity} {order.symbol} "
                    f"was marked failed but {account.display_name} has it "
                    f"(order {remote.broker_order_id}): adopted.",
                    user=order.user,
                    details={"order_id": order.pk, "broker_order_id": remote.broker_order_id},
                )
                order.status_message = ""
            order.broker_order_id = remote.broker_order_id
            order.status = STATUS_FROM_BROKER[remote.status]
            order.filled_quantity = remote.filled_quantity
            order.average_price = remote.average_price or None
            order.status_message = remote.status_message or order.status_message
            if order.status in OPEN_AT_BROKER:
                drift = _take_broker_terms(order, remote)
                if drift:
                    events.append(
                        OrderEvent(
                            order=order,
                            kind="sync",
                            actor=actor,
                            at=now,
                            message="The broker holds different terms; copied here: "
                            + ", ".join(drift),
                            details={"broker_order_id": remote.broker_order_id},
                        )
                    )
        if _snapshot(order) == original:
            continue
        adopted = before == Status.FAILED and order.status != Status.FAILED
        order.updated_at = now
        changed.append(order)
        message = (
            f"{order.get_status_display()}: {order.filled_quantity}/{order.quantity} filled"
            + (f" at {order.average_price}" if order.average_price else "")
            + (
                f" — {order.status_message}"
                if order.status in (Status.REJECTED, Status.FAILED) and order.status_message
                else ""
            )
        )
        if adopted:
            message = "Found at the broker after being marked failed: adopted. " + message
        events.append(
            OrderEvent(
                order=order,
                kind="sync",
                actor=actor,
                at=now,
                from_status=before if before != order.status else "",
                to_status=order.status if before != order.status else "",
                message=message,
                details={"broker_status": remote.broker_status if remote else ""},
            )
        )
        result.changes.append(f"#{order.pk} {before}→{order.status}")
        if order.status == Status.REJECTED and before != Status.REJECTED:
            rejected_event(order, by=account.display_name, reason=order.status_message)
    filled = [
        order
        for order in changed
        if order.status in (Status.EXECUTED, Status.PARTIALLY_FILLED)
        and order.filled_quantity > filled_before.get(order.pk, 0)
    ]
    with transaction.atomic():
        _write(changed)
        OrderEvent.objects.bulk_create(events, batch_size=500)
        if events:  # inside the transaction: listeners write with the transitions
            order_events_written.send(sender=OrderEvent, events=events)
        if filled:  # the account's positions and holdings moved: portfolio refreshes them
            filled_ids = [order.pk for order in filled]
            transaction.on_commit(
                lambda: order_filled.send(
                    sender=Order, account_id=account.pk, order_ids=filled_ids
                ),
                robust=True,
            )
    _record_mismatches(account, mismatched, actor=actor, at=now)
    result.updated += len(changed)
    return result


def _take_broker_terms(order: Order, remote) -> list[str]:
    """Copy the broker's quantity, price and trigger price onto an open order where
    they differ (a blank or zero from the broker is no value). Returns what changed."""
    drift = []
    if remote.quantity and remote.quantity != order.quantity:
        drift.append(f"quantity {remote.quantity} (was {order.quantity})")
        order.quantity = remote.quantity
    if uses_price(order.order_type) and remote.price and remote.price != order.price:
        drift.append(f"price {remote.price} (was {order.price})")
        order.price = remote.price
    if (
        uses_trigger(order.order_type)
        and remote.trigger_price
        and remote.trigger_price != order.trigger_price
    ):
        drift.append(f"trigger price {remote.trigger_price} (was {order.trigger_price})")
        order.trigger_price = remote.trigger_price
    return drift


def _match(order: Order, by_id: dict, by_tag: dict):
    """(the broker row that is this order or None, why the row under its id is not it)."""
    candidate = by_id.get(order.broker_order_id) if order.broker_order_id else None
    why = mismatch(order, candidate) if candidate is not None else ""
    if candidate is not None and not why:
        return candidate, ""
    tagged = by_tag.get(order.client_tag)
    if tagged is not None and tagged is not candidate and not mismatch(order, tagged):
        return tagged, ""
    return None, why


def _record_mismatches(
    account: BrokerAccount, mismatched: list, *, actor: str, at: datetime
) -> None:
    """An order's broker id now names a different order: say so once, change nothing."""
    if not mismatched:
        return
    said = set(
        OrderEvent.objects.filter(
            order__in=[order for order, _ in mismatched], kind=OrderEvent.Kind.SYNC
        ).values_list("order_id", "message")
    )
    for order, why in mismatched:
        message = f"Not applied: broker order {order.broker_order_id} is a different order ({why})."
        if (order.pk, message) in said:
            continue
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.SYNC,
            actor=actor,
            at=at,
            message=message,
            details={"mismatch": True, "broker_order_id": order.broker_order_id},
        )
        record_event(
            category=SystemEvent.Category.ORDER,
            level=SystemEvent.Level.WARNING,
            message=f"Order #{order.pk} {order.side} {order.quantity} {order.symbol} on "
            f"{account.display_name}: broker order {order.broker_order_id} is a different "
            f"order ({why}); its state was not applied. Check the order at the broker.",
            user=order.user,
            details={"order_id": order.pk, "broker_order_id": order.broker_order_id},
        )


def _write(orders: list[Order]) -> None:
    """One parameterised UPDATE per changed order, sent as a batch.

    Django's bulk_update builds a CASE expression per field and row, which
    spent most of a 1,000-order sync in query compilation.
    """
    if not orders:
        return
    ops = connection.ops
    table = Order._meta.db_table
    sql = (
        f"UPDATE {table} SET {', '.join(f'{name} = %s' for name in FIELDS)} "  # noqa: S608
        "WHERE id = %s"
    )
    rows = [
        (
            order.status,
            order.filled_quantity,
            _decimal(order.average_price),
            order.status_message,
            order.broker_order_id,
            order.quantity,
            _decimal(order.price),
            _decimal(order.trigger_price),
            ops.adapt_datetimefield_value(order.updated_at),
            order.pk,
        )
        for order in orders
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _decimal(value):
    return None if value is None else connection.ops.adapt_decimalfield_value(value, 14, 4)


def _snapshot(order: Order) -> tuple:
    return (
        order.status,
        order.filled_quantity,
        order.average_price,
        order.status_message,
        order.broker_order_id,
        order.quantity,
        order.price,
        order.trigger_price,
    )


class CannotReconcile(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def reconcile_before_resending(order: Order) -> Order:
    """Before a watched FAILED order is sent again: one look at its account's
    order book, adopting it if its tag is there. Raises CannotReconcile when the
    broker cannot be asked (then it must not be sent again yet)."""
    account = order.account
    refusal = (
        f"Order #{order.pk}'s earlier placement may still appear at the broker, and "
        "{why}: it is not sent again until the broker's order book has been checked."
    )
    if account is None or not account.is_connected:
        raise CannotReconcile(refusal.format(why="its account is not connected"))
    try:
        order_sync_account(account, actor="reconcile")
    except BrokerError as exc:
        why = f"the broker did not answer ({exc.message})"
        raise CannotReconcile(refusal.format(why=why)) from exc
    order.refresh_from_db()
    return order


def accounts_for_order_sync(account_id: int | None = None) -> QuerySet[BrokerAccount]:
    accounts = BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
    if account_id:
        accounts = accounts.filter(pk=account_id)
    watched = Order.objects.filter(Q(status__in=Order.LIVE) | may_surface()).values("account_id")
    return accounts.filter(pk__in=watched)


def order_sync_all(account_id: int | None = None) -> list[OrderSyncResult]:
    results = []
    for account in accounts_for_order_sync(account_id):
        try:
            results.append(order_sync_account(account))
        except BrokerError as exc:  # one account's trouble never stops the others
            logger.warning("order sync failed for account %s: %s", account.pk, exc.message)
            results.append(OrderSyncResult(account_id=account.pk, error=exc.message))
    return results
