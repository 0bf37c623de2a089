"""GTT triggering: watching armed orders and letting a triggered one through.

`check_conditional_orders` (beat, every few seconds) checks the last prices of
ARMED managed orders in batches and the native GTTs at the brokers; when a
condition holds, one atomic ARMED → TRIGGERED claim lets the order through the
execution service exactly once. Arming is `conditional.py`, which the execution
service calls; this module calls the execution service.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from brokers.base import BrokerError, GttKind
from brokers.connections import calling
from marketdata.quotes import ltp
from sigmatrader.formatting import inr

from .conditional import condition_met
from .execution import execute
from .history import log, rejected_event
from .models import Order

logger = logging.getLogger(__name__)
Status = Order.Status
Condition = Order.Condition
GTT_STATUS = {"cancelled": Status.CANCELLED, "expired": Status.EXPIRED, "rejected": Status.REJECTED}


def trigger(order: Order, *, actor: str = "conditional") -> bool:
    """Claim one armed order for sending; its OCO sibling is cancelled with it."""
    with transaction.atomic():
        ids = [order.pk] + ([order.oco_sibling_id] if order.oco_sibling_id else [])
        list(Order.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        claimed = Order.objects.filter(pk=order.pk, status=Status.ARMED).update(
            status=Status.TRIGGERED, updated_at=timezone.now()
        )
        if not claimed:
            return False
        if order.oco_sibling_id:
            Order.objects.filter(pk=order.oco_sibling_id, status=Status.ARMED).update(
                status=Status.CANCELLED,
                status_message="OCO: the other leg triggered.",
                updated_at=timezone.now(),
            )
    order.refresh_from_db()
    log(
        order,
        "status",
        f"Triggered: {order.get_condition_display()} {inr(order.trigger_value)}",
        actor=actor,
        before=Status.ARMED,
    )
    if order.oco_sibling_id:
        sibling = Order.objects.get(pk=order.oco_sibling_id)
        if sibling.status == Status.CANCELLED:
            log(sibling, "status", "OCO: the other leg triggered", actor=actor, before=Status.ARMED)
    execute(order=order, actor=actor)
    return True


def check_conditional_orders(now=None) -> dict:
    """Expire, then trigger, managed GTT orders; prices fetched once per account."""
    now = now or timezone.now()
    armed = list(
        Order.objects.filter(status=Status.ARMED, gtt_id="").select_related("account", "instrument")
    )
    expired = triggered = 0
    live: dict[int, list[Order]] = {}
    for order in armed:
        if order.expires_at and order.expires_at <= now:
            if Order.objects.filter(pk=order.pk, status=Status.ARMED).update(
                status=Status.EXPIRED, updated_at=now
            ):
                order.status = Status.EXPIRED
                log(
                    order,
                    "status",
                    "Expired before its condition was met",
                    actor="conditional",
                    before=Status.ARMED,
                )
                expired += 1
            continue
        if order.account and order.account.is_connected and order.instrument:
            live.setdefault(order.account.pk, []).append(order)
    for orders in live.values():
        account = orders[0].account
        assert account is not None  # only orders with a connected account were grouped
        instruments = list({o.instrument for o in orders if o.instrument is not None})
        try:
            prices = ltp(account=account, instruments=instruments, fresh=True)
        except BrokerError as exc:
            logger.warning(
                "conditional orders: no prices for account %s: %s", account.pk, exc.message
            )
            continue
        for order in orders:
            price = prices.get(order.instrument_id) if order.instrument_id else None
            if condition_met(order, price) and trigger(order):
                triggered += 1
    native = sync_native_gtts()
    return {"armed": len(armed), "expired": expired, "triggered": triggered, **native}


def sync_native_gtts() -> dict:
    armed = Order.objects.filter(status=Status.ARMED).exclude(gtt_id="").select_related("account")
    by_account: dict[int, list[Order]] = {}
    for order in armed:
        if order.account and order.account.is_connected:
            by_account.setdefault(order.account.pk, []).append(order)
    fired = 0
    for orders in by_account.values():
        account = orders[0].account
        assert account is not None  # only orders with a connected account were grouped
        try:
            with calling(account) as adapter:
                book = {gtt.gtt_id: gtt for gtt in adapter.list_gtts()}
        except BrokerError as exc:
            logger.warning("GTT sync failed for account %s: %s", orders[0].account_id, exc.message)
            continue
        for order in orders:
            gtt = book.get(order.gtt_id)
            if gtt is None or gtt.status == "active":
                continue
            fired += _apply_native(order, gtt)
    return {"native_fired": fired}


def _apply_native(order: Order, gtt) -> int:
    now = timezone.now()
    if gtt.status != "triggered":
        status = GTT_STATUS.get(gtt.status, Status.CANCELLED)
        if Order.objects.filter(pk=order.pk, status=Status.ARMED).update(
            status=status, status_message=f"GTT {gtt.status} at the broker", updated_at=now
        ):
            log(order, "sync", f"GTT {gtt.status} at the broker", actor="sync", before=Status.ARMED)
        return 0
    leg = 0
    if gtt.kind is GttKind.OCO:
        leg = 0 if order.condition == Condition.LTP_AT_OR_BELOW else 1
    broker_id = gtt.triggered_order_ids[leg] if leg < len(gtt.triggered_order_ids) else ""
    result = gtt.leg_results[leg] if leg < len(gtt.leg_results) else None
    if result is not None and result.failed:
        return _leg_failed(order, gtt, result.reason, now=now)
    if broker_id:
        moved = Order.objects.filter(pk=order.pk, status=Status.ARMED).update(
            status=Status.SENT,
            broker_order_id=broker_id,
            sent_at=now,
            updated_at=now,
            status_message=f"GTT {gtt.gtt_id} triggered; broker order {broker_id}",
        )
        if moved:
            log(
                order,
                "sync",
                f"GTT triggered at the broker: order {broker_id}",
                actor="sync",
                before=Status.ARMED,
            )
        return moved
    if Order.objects.filter(pk=order.pk, status=Status.ARMED).update(
        status=Status.CANCELLED,
        status_message="OCO: the other leg triggered at the broker.",
        updated_at=now,
    ):
        log(
            order,
            "sync",
            "OCO: the other leg triggered at the broker",
            actor="sync",
            before=Status.ARMED,
        )
    return 0


def _leg_failed(order: Order, gtt, reason: str, *, now) -> int:
    """The GTT fired but the broker could not place this leg's order."""
    message = f"GTT {gtt.gtt_id} triggered; the broker could not place the order: " + (
        reason or "no reason given."
    )
    if Order.objects.filter(pk=order.pk, status=Status.ARMED).update(
        status=Status.REJECTED, status_message=message[:2000], updated_at=now
    ):
        order.status, order.status_message = Status.REJECTED, message[:2000]
        log(order, "sync", message, actor="sync", before=Status.ARMED)
        rejected_event(
            order,
            by=order.account_name,
            reason=reason or "GTT order not placed",
            gtt_id=gtt.gtt_id,
        )
    return 0
