"""The risk engine: a user's policy (optionally a strategy's override) applied to
one order before it is sent. Every decision, with its numbers, is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from brokers.connections import calling
from marketdata.quotes import ltp

from .models import Order, RiskPolicy

if TYPE_CHECKING:
    from brokers.models import BrokerAccount
    from marketdata.models import Instrument

COUNTED_TODAY = (
    Order.Status.SENDING,
    Order.Status.SENT,
    Order.Status.OPEN,
    Order.Status.PARTIALLY_FILLED,
    Order.Status.EXECUTED,
    Order.Status.UNKNOWN,
)


@dataclass
class Decision:
    allowed: bool = True
    quantity: int = 0
    reasons: list[str] = field(default_factory=list)
    numbers: dict = field(default_factory=dict)

    def reject(self, reason: str) -> Decision:
        self.allowed = False
        self.reasons.append(reason)
        return self

    @property
    def summary(self) -> str:
        if not self.allowed:
            return "Blocked by risk policy: " + "; ".join(self.reasons)
        if self.reasons:
            return "Risk policy: " + "; ".join(self.reasons)
        return "Risk policy: within limits"


def policy_for(order: Order) -> RiskPolicy | None:
    """The strategy's override when it has one, else the user's own policy."""
    # One query for both (by id: no need to load the user for it).
    scope = Q(strategy__isnull=True)
    if order.strategy_id:
        scope |= Q(strategy_id=order.strategy_id)
    found = list(RiskPolicy.objects.filter(scope, user_id=order.user_id).order_by("pk"))
    override = next((p for p in found if p.strategy_id is not None), None)
    return override or next((p for p in found if p.strategy_id is None), None)


def _placed(order: Order) -> tuple[BrokerAccount, Instrument]:
    """The order's account and instrument: risk is evaluated on an order validate()
    accepted (execution), which has both."""
    account, instrument = order.account, order.instrument
    assert account is not None and instrument is not None, f"order #{order.pk} not validated"
    return account, instrument


def _floor_to_lot(quantity: int, lot: int) -> int:
    return quantity // lot * lot


def price_for_value(order: Order) -> Decimal | None:
    """LIMIT and SL at their price; MARKET and SL-M at the last traded price."""
    if order.order_type in (Order.OrderType.LIMIT, Order.OrderType.SL) and order.price:
        return order.price
    account, instrument = _placed(order)
    return ltp(account=account, instruments=[instrument])[instrument.pk]


def _held_quantity(order: Order) -> int:
    """What this account holds of the instrument: holdings plus every net position.

    Delivery positions count too: today's delivery buys are positions, not yet
    holdings, and a sale out of holdings today is a negative delivery position
    while the holding keeps its quantity until settlement (as brokers report them)."""
    account, instrument = _placed(order)
    with calling(account) as adapter:
        holdings, positions = adapter.holdings(), adapter.positions()
    ref = instrument.ref
    held = sum(
        h.quantity
        for h in holdings
        if h.instrument.symbol == ref.symbol and h.instrument.exchange == ref.exchange
    )
    net = sum(
        p.quantity
        for p in positions
        if p.instrument.symbol == ref.symbol and p.instrument.exchange == ref.exchange
    )
    return held + net


def _open_positions(order: Order) -> tuple[int, bool]:
    account, instrument = _placed(order)
    with calling(account) as adapter:
        positions = [p for p in adapter.positions() if p.quantity != 0]
    ref = instrument.ref
    already = any(
        p.instrument.symbol == ref.symbol and p.instrument.exchange == ref.exchange
        for p in positions
    )
    return len(positions), already


def evaluate(order: Order, policy: RiskPolicy | None = None) -> Decision:
    policy = policy if policy is not None else policy_for(order)
    decision = Decision(quantity=order.quantity)
    if policy is None:
        return decision
    clamp = policy.mode == RiskPolicy.Mode.CLAMP
    if order.source == Order.Source.PROTECTION:
        return _protective_exit(order, policy, decision)
    _account, instrument = _placed(order)
    lot = instrument.lot_size
    symbol = instrument.canonical_symbol.upper()
    # A list entry is SYMBOL (any exchange) or EXCHANGE:SYMBOL (orders/risk_symbols.py).
    names = {symbol, f"{instrument.exchange.upper()}:{symbol}"}

    denied, allowed = (
        RiskPolicy.symbols(policy.denied_symbols),
        RiskPolicy.symbols(policy.allowed_symbols),
    )
    if names & denied:
        return decision.reject(f"{symbol} is on your deny list")
    if allowed and not names & allowed:
        return decision.reject(f"{symbol} is not on your allow list")

    if policy.max_orders_per_day is not None:
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        sent = (
            Order.objects.filter(user=order.user, created_at__gte=today, status__in=COUNTED_TODAY)
            .exclude(pk=order.pk)
            .count()
        )
        decision.numbers["orders_today"] = sent
        if sent >= policy.max_orders_per_day:
            return decision.reject(
                f"{sent} orders already sent today (limit {policy.max_orders_per_day})"
            )

    if policy.max_quantity is not None and decision.quantity > policy.max_quantity:
        if not clamp:
            return decision.reject(
                f"quantity {decision.quantity} is above the limit {policy.max_quantity}"
            )
        decision.quantity = _floor_to_lot(policy.max_quantity, lot)
        decision.reasons.append(
            f"quantity reduced to {decision.quantity} (limit {policy.max_quantity})"
        )

    if order.side == Order.Side.SELL and not policy.allow_short_selling:
        held = _held_quantity(order)
        decision.numbers["held"] = held
        if decision.quantity > held:
            if not clamp or held <= 0:
                where = order.account_name
                return decision.reject(
                    f"selling {decision.quantity} would go short: {held} held in {where}"
                )
            decision.quantity = _floor_to_lot(held, lot)
            decision.reasons.append(f"quantity reduced to {decision.quantity} (held)")

    if policy.max_order_value is not None:
        price = price_for_value(order)
        if price is None:
            return decision.reject("no price is available to value this order")
        value = price * decision.quantity
        decision.numbers.update(price=str(price), value=str(value))
        if value > policy.max_order_value:
            fitting = _floor_to_lot(int(policy.max_order_value // price), lot)
            if not clamp or fitting <= 0:
                return decision.reject(
                    f"value ₹{value:,.2f} is above the limit ₹{policy.max_order_value:,.2f}"
                )
            decision.quantity = fitting
            decision.reasons.append(
                f"quantity reduced to {fitting} to stay under ₹{policy.max_order_value:,.2f}"
            )

    if policy.max_open_positions is not None and order.side == Order.Side.BUY:
        count, already = _open_positions(order)
        decision.numbers["open_positions"] = count
        if not already and count >= policy.max_open_positions:
            return decision.reject(
                f"{count} positions already open (limit {policy.max_open_positions})"
            )

    if decision.quantity <= 0:
        return decision.reject("nothing left to send after the limits")
    return decision


def _protective_exit(order: Order, policy: RiskPolicy, decision: Decision) -> Decision:
    """A protective exit (stop-loss / target of a filled entry) reduces risk: the entry
    limits (lists, counts, quantity, value, positions) do not hold it back. Only the
    short-selling rule applies: an exit never sells more than is held."""
    if order.side == Order.Side.SELL and not policy.allow_short_selling:
        held = _held_quantity(order)
        decision.numbers["held"] = held
        if decision.quantity > held:
            return decision.reject(
                f"exit of {decision.quantity} would go short: {held} held in {order.account_name}"
            )
    decision.reasons.append("protective exit: entry limits do not apply")
    return decision
