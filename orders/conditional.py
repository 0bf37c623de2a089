"""GTT: one concept for the trader, native or managed by capability.

An order with `is_gtt` is armed by the execution service instead of placed:
where the account's broker declares native GTT, the trigger lives at the
broker (an OCO pair becomes one two-leg GTT); otherwise it is ARMED here and
`check_conditional_orders` (beat, every few seconds) watches last prices in
batches. When a condition holds, one atomic ARMED → TRIGGERED claim lets the
order through the execution service exactly once; an OCO sibling is
cancelled in the same transaction; a missing price never triggers.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from brokers.base import BrokerError, GttKind, InstrumentRef
from brokers.connections import calling
from marketdata.quotes import ltp

from .history import log, rejected_event
from .models import Order

logger = logging.getLogger(__name__)
Status = Order.Status
Condition = Order.Condition


def is_native(order: Order) -> bool:
    return bool(order.account and order.account.adapter_class.capabilities.gtt)


def condition_met(order: Order, price: Decimal | None) -> bool:
    if price is None or price <= 0 or order.trigger_value is None:
        return False  # no price, no trigger: a zero once fired stop-losses
    if order.condition == Condition.LTP_AT_OR_ABOVE:
        return price >= order.trigger_value
    return price <= order.trigger_value


def link_oco(first: Order, second: Order) -> None:
    Order.objects.filter(pk=first.pk).update(oco_sibling=second)
    Order.objects.filter(pk=second.pk).update(oco_sibling=first)
    first.oco_sibling, second.oco_sibling = second, first


def arm(order: Order, *, actor: str, request_for) -> tuple[str, str, dict]:
    """Arm a claimed (SENDING) GTT order. Returns (status, message, extra fields).

    `request_for(order)` builds the broker OrderRequest for a leg.
    """
    sibling = order.oco_sibling
    if not is_native(order):
        if sibling and sibling.status in Order.EXECUTABLE:
            Order.objects.filter(pk=sibling.pk, status__in=Order.EXECUTABLE).update(
                status=Status.ARMED, updated_at=timezone.now()
            )
            log(sibling, "status", "Armed with its OCO sibling", actor=actor, before=sibling.status)
        return Status.ARMED, _armed_text(order, managed=True), {}
    caps = order.account.adapter_class.capabilities
    if sibling is not None and sibling.status not in Order.EXECUTABLE:
        raise BrokerError(f"The OCO sibling #{sibling.pk} is {sibling.status}, not waiting.")
    legs = (
        [order]
        if sibling is None
        else sorted([order, sibling], key=lambda o: o.condition != Condition.LTP_AT_OR_BELOW)
    )
    kind = GttKind.SINGLE if sibling is None else GttKind.OCO
    if kind not in caps.gtt_kinds:
        raise BrokerError(f"{order.account.broker_label} has no {kind.value} GTT.")
    instrument = order.instrument
    last = ltp(account=order.account, instruments=[instrument])[instrument.pk]
    if last is None:
        raise BrokerError("No last price to anchor the GTT; try again shortly.")
    with calling(order.account) as adapter:
        gtt_id = adapter.create_gtt(
            kind=kind,
            instrument=InstrumentRef(
                instrument.exchange, instrument.trading_symbol, instrument.token
            ),
            trigger_values=[leg.trigger_value for leg in legs],
            last_price=last,
            legs=[request_for(leg) for leg in legs],
        )
    if sibling:
        Order.objects.filter(pk=sibling.pk, status__in=Order.EXECUTABLE).update(
            status=Status.ARMED, gtt_id=gtt_id, updated_at=timezone.now()
        )
        log(
            sibling,
            "status",
            f"Armed at the broker as GTT {gtt_id} (OCO)",
            actor=actor,
            before=sibling.status,
        )
    return Status.ARMED, _armed_text(order, managed=False, gtt_id=gtt_id), {"gtt_id": gtt_id}


def _armed_text(order: Order, *, managed: bool, gtt_id: str = "") -> str:
    when = f"{order.get_condition_display()} {order.trigger_value}"
    if managed:
        return f"Armed here (managed GTT): sends when {when}."
    return f"Armed at {order.account_name} as GTT {gtt_id}: sends when {when}."


# --- Managed: the poller --------------------------------------------------------------------


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
        f"Triggered: {order.get_condition_display()} {order.trigger_value}",
        actor=actor,
        before=Status.ARMED,
    )
    if order.oco_sibling_id:
        sibling = Order.objects.get(pk=order.oco_sibling_id)
        if sibling.status == Status.CANCELLED:
            log(sibling, "status", "OCO: the other leg triggered", actor=actor, before=Status.ARMED)
    from .execution import execute

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
            live.setdefault(order.account_id, []).append(order)
    for orders in live.values():
        account = orders[0].account
        try:
            prices = ltp(
                account=account, instruments=list({o.instrument for o in orders}), fresh=True
            )
        except BrokerError as exc:
            logger.warning(
                "conditional orders: no prices for account %s: %s", account.pk, exc.message
            )
            continue
        for order in orders:
            if condition_met(order, prices.get(order.instrument_id)) and trigger(order):
                triggered += 1
    native = sync_native_gtts()
    return {"armed": len(armed), "expired": expired, "triggered": triggered, **native}


# --- Native: follow the broker's GTT book -------------------------------------------------------

GTT_STATUS = {"cancelled": Status.CANCELLED, "expired": Status.EXPIRED, "rejected": Status.REJECTED}


def sync_native_gtts() -> dict:
    armed = Order.objects.filter(status=Status.ARMED).exclude(gtt_id="").select_related("account")
    by_account: dict[int, list[Order]] = {}
    for order in armed:
        if order.account and order.account.is_connected:
            by_account.setdefault(order.account_id, []).append(order)
    fired = 0
    for orders in by_account.values():
        try:
            with calling(orders[0].account) as adapter:
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


def cancel_armed(order: Order, *, actor: str) -> None:
    """Disarm: at the broker for a native GTT, here otherwise; siblings go too."""
    if order.gtt_id:
        with calling(order.account) as adapter:
            adapter.cancel_gtt(order.gtt_id)
    ids = [order.pk] + ([order.oco_sibling_id] if order.oco_sibling_id else [])
    for armed in Order.objects.filter(pk__in=ids, status=Status.ARMED):
        Order.objects.filter(pk=armed.pk, status=Status.ARMED).update(
            status=Status.CANCELLED, status_message="GTT cancelled.", updated_at=timezone.now()
        )
        log(armed, "status", "GTT cancelled", actor=actor, before=Status.ARMED)


def default_expiry(days: int = 365):
    return timezone.now() + timedelta(days=days)


def make_gtt(
    order: Order,
    *,
    condition: str,
    trigger_value,
    expires_days: int = 365,
    oco_trigger_value=None,
    oco_price=None,
    actor: str,
) -> list[Order]:
    """Turn a new order into a GTT (and, with an OCO leg, create its sibling)."""
    expires = default_expiry(expires_days)
    Order.objects.filter(pk=order.pk).update(
        is_gtt=True, condition=condition, trigger_value=trigger_value, expires_at=expires
    )
    order.refresh_from_db()
    made = [order]
    if oco_trigger_value:
        other = (
            Condition.LTP_AT_OR_ABOVE
            if condition == Condition.LTP_AT_OR_BELOW
            else Condition.LTP_AT_OR_BELOW
        )
        sibling = Order.objects.create(
            user=order.user,
            account=order.account,
            account_name=order.account_name,
            source=order.source,
            instrument=order.instrument,
            symbol=order.symbol,
            exchange=order.exchange,
            side=order.side,
            quantity=order.quantity,
            order_type=order.order_type,
            product=order.product,
            price=oco_price,
            validity=order.validity,
            is_gtt=True,
            condition=other,
            trigger_value=oco_trigger_value,
            expires_at=expires,
        )
        link_oco(order, sibling)
        log(sibling, "created", f"OCO leg of order #{order.pk}", actor=actor)
        made.append(sibling)
    return made
