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
from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from brokers.base import BrokerError, GttKind, GttOrder, InstrumentRef, OutcomeUnknown
from brokers.connections import calling
from brokers.models import BrokerAccount
from marketdata import clock
from marketdata.quotes import ltp
from sigmatrader.formatting import inr_tick

from .broker_request import broker_request
from .history import log
from .models import ACCOUNT_GONE, ExitPlan, Order

logger = logging.getLogger(__name__)
Status = Order.Status
Condition = Order.Condition


def native_for(account: BrokerAccount | None, product: str) -> bool:
    """Whether a GTT of `product` on `account` is armed at the broker: the broker has GTT
    and the product is not intraday (a native GTT lives for up to a year: brokers take
    it for CNC/NRML, not MIS); otherwise SigmaTrader manages it."""
    return bool(account and account.adapter_class.capabilities.gtt and product != Order.Product.MIS)


def is_native(order: Order) -> bool:
    """Armed at the broker (native_for the order's account and product)."""
    return native_for(order.account, order.product)


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


def arm(order: Order, *, actor: str) -> tuple[str, str, dict]:
    """Arm a claimed (SENDING) GTT order. Returns (status, message, extra fields)."""
    sibling = order.oco_sibling
    if not is_native(order):
        if sibling and sibling.status in Order.EXECUTABLE:
            Order.objects.filter(pk=sibling.pk, status__in=Order.EXECUTABLE).update(
                status=Status.ARMED, updated_at=timezone.now()
            )
            log(sibling, "status", "Armed with its OCO sibling", actor=actor, before=sibling.status)
        return Status.ARMED, armed_text(order, managed=True), {}
    account, instrument = order.account, order.instrument
    if account is None or instrument is None:  # validate() refuses these; said, not assumed
        raise BrokerError(ACCOUNT_GONE if account is None else "The order has no instrument.")
    caps = account.adapter_class.capabilities
    if sibling is not None and sibling.status not in Order.EXECUTABLE:
        raise BrokerError(f"The OCO sibling #{sibling.pk} is {sibling.status}, not waiting.")
    legs = (
        [order]
        if sibling is None
        else sorted([order, sibling], key=lambda o: o.condition != Condition.LTP_AT_OR_BELOW)
    )
    kind = GttKind.SINGLE if sibling is None else GttKind.OCO
    if kind not in caps.gtt_kinds:
        raise BrokerError(f"{account.broker_label} has no {kind.value} GTT.")
    last = ltp(account=account, instruments=[instrument])[instrument.pk]
    if last is None:
        raise BrokerError("No last price to anchor the GTT; try again shortly.")
    try:
        with calling(account) as adapter:
            gtt_id = adapter.create_gtt(
                kind=kind,
                instrument=InstrumentRef(
                    instrument.exchange, instrument.trading_symbol, instrument.token
                ),
                trigger_values=[_trigger_value(leg) for leg in legs],
                last_price=last,
                legs=[broker_request(leg) for leg in legs],
            )
    except OutcomeUnknown as exc:
        # The GTT may be armed with both legs: the sibling waits for the same verdict.
        if sibling and Order.objects.filter(pk=sibling.pk, status__in=Order.EXECUTABLE).update(
            status=Status.UNKNOWN,
            status_message=f"{exc.message} {GTT_RECONCILING}"[:2000],
            sent_at=timezone.now(),
            updated_at=timezone.now(),
        ):
            before = sibling.status
            sibling.refresh_from_db()
            log(sibling, "status", sibling.status_message, actor=actor, before=before)
        raise
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
    return Status.ARMED, armed_text(order, managed=False, gtt_id=gtt_id), {"gtt_id": gtt_id}


# Said of a native GTT whose arming had no clear answer. A GTT carries no client tag
# and never appears in the order book: the account's GTT list decides.
GTT_RECONCILING = "Checking the broker's GTT list; not resent."
GTT_NOT_ARMED = (
    "No clear answer when arming, and no matching GTT in the broker's GTT list: "
    "it was not armed. Safe to send again."
)


def awaiting_gtt(order: Order) -> bool:
    """A native GTT whose arming may or may not have reached the broker."""
    return (
        order.is_gtt
        and not order.gtt_id
        and not order.broker_order_id
        and order.status in (Status.UNKNOWN, Status.SENDING)
        and is_native(order)
    )


def _legs(order: Order) -> list[Order]:
    sibling = order.oco_sibling
    if sibling is None:
        return [order]
    return sorted([order, sibling], key=lambda o: o.condition != Condition.LTP_AT_OR_BELOW)


def _same(legs: list[Order], gtt: GttOrder) -> bool:
    """The broker's GTT is what arming `legs` would have created (in any state: one
    that already fired within the grace is still ours, and must not be sent again)."""
    instrument = legs[0].instrument
    if instrument is None:
        return False
    if (gtt.instrument.exchange, gtt.instrument.symbol) != (
        instrument.exchange,
        instrument.trading_symbol,
    ):
        return False
    if gtt.kind is not (GttKind.SINGLE if len(legs) == 1 else GttKind.OCO):
        return False
    if len(gtt.trigger_values) != len(legs) or len(gtt.legs) != len(legs):
        return False
    return all(
        value == leg.trigger_value
        and remote.side.value == leg.side
        and remote.quantity == leg.quantity
        and remote.price == leg.price
        for leg, value, remote in zip(legs, gtt.trigger_values, gtt.legs, strict=True)
    )


def reconcile_gtts(
    account: BrokerAccount,
    orders: list[Order],
    gtts: list[GttOrder],
    *,
    grace: timedelta,
    actor: str,
) -> list[str]:
    """Decide native GTT orders whose arming had no clear answer, from the
    account's GTT list: a matching GTT no other order holds → ARMED with its id
    (an OCO sibling too; an active one is preferred, and one that already fired,
    expired or was cancelled is then followed by the native GTT sync like any
    other); none after `grace` → FAILED, safe to send again. Until then they stay
    as they are (never resent). Returns what changed."""
    now = timezone.now()
    changes: list[str] = []
    done: set[int] = set()
    for order in sorted(orders, key=lambda o: o.pk):
        if order.pk in done:
            continue
        legs = _legs(order)
        done.update(leg.pk for leg in legs)
        for gtt in sorted(gtts, key=lambda g: g.status != "active"):
            if _same(legs, gtt) and _claim(account, order, legs, gtt.gtt_id, actor=actor):
                changes.append(f"#{order.pk} {order.status}→{Status.ARMED} (GTT {gtt.gtt_id})")
                break
        else:
            started = order.sent_at or order.updated_at
            if now - started > grace:
                changes.extend(_not_armed(legs, actor=actor))
    return changes


def _claim(account: BrokerAccount, order: Order, legs: list[Order], gtt_id: str, *, actor) -> bool:
    """Link `legs` to the broker's GTT `gtt_id`, unless another order holds it."""
    held = Order.objects.filter(account=account, gtt_id=gtt_id)
    message = f"Found in {order.account_name}'s GTT list as GTT {gtt_id}: armed, not resent."
    with transaction.atomic():
        # One claimer per account at a time (a row lock where the database has them).
        list(BrokerAccount.objects.select_for_update().filter(pk=account.pk))
        free = ~Exists(held.exclude(pk=OuterRef("pk")))
        moved = Order.objects.filter(
            free,
            pk=order.pk,
            gtt_id="",
            status__in=(Status.UNKNOWN, Status.SENDING),
        ).update(
            status=Status.ARMED, gtt_id=gtt_id, status_message=message, updated_at=timezone.now()
        )
        if not moved:
            return False
        for leg in legs:
            before = order.status if leg.pk == order.pk else leg.status
            if leg.pk != order.pk:
                Order.objects.filter(
                    pk=leg.pk,
                    gtt_id="",
                    status__in=(Status.UNKNOWN, Status.SENDING, *Order.EXECUTABLE),
                ).update(
                    status=Status.ARMED,
                    gtt_id=gtt_id,
                    status_message=message,
                    updated_at=timezone.now(),
                )
            leg.refresh_from_db()
            log(leg, "sync", message, actor=actor, before=before, details={"gtt_id": gtt_id})
    return True


def _not_armed(legs: list[Order], *, actor: str) -> list[str]:
    changes = []
    for leg in legs:
        before = leg.status
        if Order.objects.filter(
            pk=leg.pk, gtt_id="", status__in=(Status.UNKNOWN, Status.SENDING)
        ).update(status=Status.FAILED, status_message=GTT_NOT_ARMED, updated_at=timezone.now()):
            leg.refresh_from_db()
            log(leg, "sync", GTT_NOT_ARMED, actor=actor, before=before)
            changes.append(f"#{leg.pk} {before}→{Status.FAILED}")
    return changes


def armed_text(order: Order, *, managed: bool, gtt_id: str = "") -> str:
    """Where the armed GTT lives, in the words the Orders page uses for exits (ExitPlan.Mode:
    held at the broker / managed by SigmaTrader), and what it waits for, as money."""
    tick = order.instrument.tick_size if order.instrument is not None else None
    when = f"{order.get_condition_display()} {inr_tick(order.trigger_value, tick)}"
    if managed:
        return f"{ExitPlan.Mode.MANAGED.label}: sends when {when}."
    return f"Held at {order.account_name} as GTT {gtt_id}: sends when {when}."


# --- Managed: the poller --------------------------------------------------------------------


# --- Native: follow the broker's GTT book -------------------------------------------------------


def _trigger_value(leg: Order) -> Decimal:
    if leg.trigger_value is None:  # execute() refuses a GTT without one before arming
        raise BrokerError(f"GTT leg #{leg.pk} has no trigger value.")
    return leg.trigger_value


def cancel_armed(order: Order, *, actor: str, why: str = "GTT cancelled.") -> None:
    """Disarm: at the broker for a native GTT, here otherwise; siblings go too. `why`
    becomes the legs' status message (and their history line)."""
    if order.gtt_id:
        if order.account is None:
            raise BrokerError(ACCOUNT_GONE)
        with calling(order.account) as adapter:
            adapter.cancel_gtt(order.gtt_id)
    ids = [order.pk] + ([order.oco_sibling_id] if order.oco_sibling_id else [])
    for armed in Order.objects.filter(pk__in=ids, status=Status.ARMED):
        Order.objects.filter(pk=armed.pk, status=Status.ARMED).update(
            status=Status.CANCELLED, status_message=why, updated_at=timezone.now()
        )
        log(armed, "status", why.rstrip("."), actor=actor, before=Status.ARMED)


def default_expiry(days: int = 365):
    return timezone.now() + timedelta(days=days)


def intraday_end(now=None):
    """When an MIS GTT (or a protective MIS exit) ends: the intraday square-off
    (PROTECTION_MIS_END, 15:20 India time) of today, or of the next trading day once
    past. An intraday order cannot be placed after it, so a later trigger must not fire."""
    hours, minutes = str(settings.PROTECTION_MIS_END).split(":")
    return clock.next_intraday_end(now, at=time(int(hours), int(minutes)))


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
    """Turn a new order into a GTT (and, with an OCO leg, create its sibling). An
    intraday (MIS) GTT ends at the day's square-off, whatever `expires_days` says."""
    expires = default_expiry(expires_days)
    if order.product == Order.Product.MIS:
        expires = min(expires, intraday_end())
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
