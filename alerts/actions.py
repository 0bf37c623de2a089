"""What a rule does when it fires: always an AlertEvent (the in-app notification)
and an audit event; for order actions, an order on the rule's account through the
normal order service — queued for review (MANUAL) or sent (AUTO) by the same
execution task, its risk checks and its exactly-once claim.

Sizing: a quantity, a ₹ amount (at the price that fired) or a % of the holding on
the order's account, floored to whole lots; a sell never exceeds what the account
holds (holdings plus today's delivery position), and no order is made for zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction

from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent
from sigmatrader.queueing import enqueue

from .models import AlertEvent, AlertRule, values_text

logger = logging.getLogger(__name__)


@dataclass
class Sized:
    quantity: int
    reason: str = ""  # why there is no order (quantity 0)


def size_order(*, rule: AlertRule, price: Decimal | None, held: int, lot_size: int = 1) -> Sized:
    lot = max(1, int(lot_size or 1))
    size = rule.size if rule.size is not None else Decimal(0)
    if size <= 0:
        return Sized(0, "The order size is not set.")
    if rule.sizing == AlertRule.Sizing.QUANTITY:
        if size != size.to_integral_value():
            # The form refuses it; a rule saved before that never trades another size.
            return Sized(
                0, f"The quantity {size.normalize()} is not a whole number: edit the alert."
            )
        raw = int(size)
    elif rule.sizing == AlertRule.Sizing.AMOUNT:
        if not price or price <= 0:
            return Sized(0, "No price to size a ₹ amount with.")
        raw = int((size / price).to_integral_value(rounding=ROUND_FLOOR))
    else:
        raw = int((Decimal(held) * size / 100).to_integral_value(rounding=ROUND_FLOOR))
    quantity = raw // lot * lot
    if rule.side == "SELL":
        cap = held // lot * lot
        if cap <= 0:
            return Sized(
                0, "Nothing held on the order's account to sell (less sells already waiting)."
            )
        quantity = min(quantity, cap)
    if quantity <= 0:
        unit = f"{lot} (one lot)" if lot > 1 else "1"
        return Sized(0, f"The size comes to less than {unit}: no order.")
    return Sized(quantity)


def fire(*, rule: AlertRule, look, now) -> AlertEvent:
    """Record the firing and run the action (inside the claim's transaction)."""
    item = look.item
    values = dict(look.values)
    if look.price is not None:
        values.setdefault("price", round(look.price, 4))
    where = f" ({item.account_name})" if item.account_name else ""
    message = f"{rule.name}: {item.name}{where} — {rule.expression}"
    if values:
        message += f" ({values_text(values)})"
    event = AlertEvent.objects.create(
        rule=rule,
        user=rule.user,
        at=now,
        symbol=item.name,
        account_id=item.account_id,
        values=values,
        message=message[:2000],
    )
    outcome = ""
    if rule.has_order:
        outcome = _order(rule=rule, event=event, look=look)
        event.outcome = outcome
        event.save(update_fields=["outcome", "order", "auto_send"])
    AlertRule.objects.filter(pk=rule.pk).update(last_fired_at=now, fired_count=rule.fired_count + 1)
    rule.fired_count += 1
    rule.last_fired_at = now
    record_event(
        category=SystemEvent.Category.ALERT,
        message=message + (f" → {outcome}" if outcome else ""),
        user=rule.user,
        details={"rule_id": rule.pk, "event_id": event.pk, "values": values},
    )
    return event


def _order(*, rule: AlertRule, event: AlertEvent, look) -> str:
    from marketdata.resolution import SymbolNotFound, resolve
    from orders.execution import create_order
    from orders.models import Order
    from orders.validation import InvalidOrder
    from portfolio.selectors import held_quantity
    from portfolio.trading import sells_in_flight

    account = rule.action_account
    if account is None or account.user_id != rule.user_id:
        return "No order: the rule's account is gone."
    item = look.item
    try:
        instrument = resolve(broker=account.broker, symbol=item.symbol, exchange=item.exchange)
    except SymbolNotFound as exc:
        return f"No order: {exc}"
    held = held_quantity(account, item.symbol, item.exchange)
    if rule.side == "SELL":
        # Sells already queued or open for these shares: the broker would refuse the rest.
        held = max(0, held - sells_in_flight(account, instrument))
    price = Decimal(str(look.price)) if look.price is not None else None
    sized = size_order(rule=rule, price=price, held=held, lot_size=instrument.lot_size)
    if not sized.quantity:
        return f"No order: {sized.reason}"
    try:
        order = create_order(
            user=rule.user,
            account=account,
            symbol=item.symbol,
            exchange=item.exchange,
            side=rule.side,
            quantity=sized.quantity,
            product=rule.product or Order.Product.CNC,
            source=Order.Source.ALERT,
            actor=f"alert:{rule.name}"[:60],
            instrument=instrument,
        )
    except (InvalidOrder, ValueError, PermissionError) as exc:
        return f"No order: {exc}"
    event.order = order
    if rule.action == AlertRule.Action.AUTO:
        event.auto_send = True
        order_id = order.pk
        # After the commit, so the worker finds the order; robust: a refusing queue
        # leaves a WAITING order in the queue for the trader, never a lost firing.
        transaction.on_commit(lambda: enqueue("orders.execute_order", order_id), robust=True)
        return f"Order #{order.pk} {rule.side} {sized.quantity} sent to {account.display_name}."
    return f"Order #{order.pk} {rule.side} {sized.quantity} queued for review."
