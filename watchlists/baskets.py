"""Baskets: preview an allocation for an account, freeze reference prices, buy the
basket as one batch of queued orders (or send them now through the normal execution
service, with its risk checks), sell what the account holds of it, and its P&L.

Prices come from the shared quote cache; what it lacks is asked of the broker in one
batched call (a preview is the trader's own click, never a page render or a poll).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from brokers.base import BrokerError
from marketdata import live, quotes, readiness
from orders import bulk
from orders.closed_market import closed_for_account
from orders.execution import create_order
from orders.models import Order
from orders.validation import InvalidOrder
from portfolio.models import Holding

from . import allocation, confirmations
from .models import BasketRun, Member, Watchlist
from .presentation import unloaded_message
from .selectors import members_of, resolve_members

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from brokers.models import BrokerAccount

MAX_BUFFER_PCT = Decimal("5")
ALREADY = "This basket order was already placed (the form was sent twice): see its orders below."
NOTHING_TO_BUY = "Nothing to buy with these funds: see each member's reason."


class BasketRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class LegView:
    member: Member
    instrument: object | None
    price: Decimal | None = None
    quantity: int = 0
    value: Decimal = Decimal("0")
    target: Decimal | None = None
    from_leftover: Decimal | None = None  # the part of `target` that came from the leftover
    problem: str = ""
    drift_pct: Decimal | None = None  # price now against the frozen reference price
    limit: Decimal | None = None  # a LIMIT buy's price (LTP + buffer): what it is sized at


@dataclass
class Preview:
    watchlist: Watchlist
    account: BrokerAccount
    funds: Decimal
    mode: str
    legs: list[LegView] = field(default_factory=list)
    spent: Decimal = Decimal("0")
    leftover: Decimal = Decimal("0")
    shortfall: Decimal = Decimal("0")
    locked_over: bool = False  # the locked members alone cost more than the funds
    available: Decimal | None = None  # the cash the account last reported
    charges: Decimal | None = None
    charges_note: str = ""
    price_error: str = ""
    closed: object | None = None  # orders.closed_market.ClosedMarket when closed
    note: str = ""  # how the funds were shared, where it is not obvious

    @property
    def over_available(self) -> Decimal | None:
        if self.available is None or self.spent <= self.available:
            return None
        return self.spent - self.available

    @property
    def orders(self) -> int:
        return sum(1 for leg in self.legs if leg.quantity > 0)


def prices(account: BrokerAccount, instruments: list) -> tuple[dict[int, Decimal], str]:
    """{instrument pk: price}: the cache's, then one batched broker call for the rest."""
    found = {pk: p.price for pk, p in live.cached(instruments).items()}
    missing = [i for i in instruments if i.pk not in found]
    error = ""
    if missing:
        try:
            for pk, price in quotes.ltp(account=account, instruments=missing).items():
                if price is not None:
                    found[pk] = price
        except BrokerError as exc:
            error = f"Prices from {account.display_name} failed: {exc.message}"
    return found, error


def _stored_cash(account: BrokerAccount) -> Decimal | None:
    from orders.funds_check import stored_cash

    return stored_cash(account)


def preview(
    *,
    watchlist: Watchlist,
    account: BrokerAccount,
    funds: Decimal,
    mode: str,
    order_type: str = Order.OrderType.MARKET,
    buffer_pct: Decimal = Decimal("0"),
) -> Preview:
    """The allocation of `funds` at today's prices. LIMIT buys are sized at their
    limit price (LTP + buffer), so what the orders may cost stays within the funds."""
    if mode not in allocation.MODES:
        raise BasketRefused("Choose how to share the funds.")
    resolved = resolve_members(members_of(watchlist), broker=account.broker)
    instruments = [r.instrument for r in resolved if r.instrument is not None]
    found, error = prices(account, instruments)
    not_here = "Not at this broker."
    if readiness.is_missing(account.broker) or readiness.is_running(account.broker):
        not_here = unloaded_message(account)
    legs = []
    views = []
    for r in resolved:
        view = LegView(r.member, r.instrument, problem=r.problem and not_here)
        if r.instrument is not None:
            view.price = found.get(r.instrument.pk)
            ref = r.member.reference_price
            if view.price and ref:
                view.drift_pct = ((view.price - ref) / ref * 100).quantize(Decimal("0.01"))
            if view.price and order_type == Order.OrderType.LIMIT:
                view.limit = limit_price(
                    view.price, side="BUY", buffer_pct=buffer_pct, tick=r.instrument.tick_size
                )
        views.append(view)
        legs.append(
            allocation.Leg(
                key=r.member.pk,
                price=(view.limit or view.price) if r.instrument is not None else None,
                lot=r.instrument.lot_size if r.instrument is not None else 1,
                weight=r.member.weight,
                amount=r.member.amount,
                quantity=r.member.quantity,
                locked=r.member.locked,
                label=r.member.symbol,
            )
        )
    result = allocation.allocate(funds=funds, legs=legs, mode=mode)
    for view in views:
        key = view.member.pk
        view.quantity = result.quantities.get(key, 0)
        view.target = result.targets.get(key)
        view.from_leftover = result.from_leftover.get(key)
        if view.price:
            view.value = (view.limit or view.price) * view.quantity
        if not view.problem:
            view.problem = result.problems.get(key, "")
    out = Preview(
        watchlist=watchlist,
        account=account,
        funds=funds,
        mode=mode,
        legs=views,
        spent=result.spent,
        leftover=result.leftover,
        shortfall=result.shortfall,
        locked_over=result.locked_over,
        available=_stored_cash(account),
        price_error=error,
        closed=_closed(account, [i.exchange for i in instruments]),
    )
    out.note = _weights_note(mode, views)
    _charges(out)
    return out


def _weights_note(mode: str, views: list[LegView]) -> str:
    """Weights are shares of the whole: say so when they do not add up to 100."""
    if mode != allocation.WEIGHT:
        return ""
    total = sum(
        (v.member.weight for v in views if v.member.weight and v.member.weight > 0),
        start=Decimal("0"),
    )
    if not total or total == 100:
        return ""
    shown = f"{total.normalize():f}"
    return (
        f"The weights add up to {shown}, not 100: each member gets its weight ÷ {shown} of "
        "the funds."
    )


def _charges(out: Preview) -> None:
    """One charges call for every leg, where the broker offers it (never on ₹0)."""
    caps = out.account.adapter_class.capabilities
    if not caps.charges_preview:
        out.charges_note = f"{out.account.broker_label} offers no charges estimate."
        return
    if not out.account.is_connected:
        out.charges_note = "Connect the account for a charges estimate."
        return
    from brokers.base import OrderRequest, OrderType, Product, Side
    from brokers.connections import calling

    requests = [
        OrderRequest(
            instrument=leg.instrument.ref,
            side=Side.BUY,
            quantity=leg.quantity,
            order_type=OrderType.LIMIT,
            product=Product.CNC,
            tag=f"basket{n}",  # a preview only: never placed
            price=leg.limit or leg.price,
        )
        for n, leg in enumerate(out.legs)
        if leg.quantity and leg.price
    ]
    if not requests:
        return
    try:
        with calling(out.account) as adapter:
            out.charges = adapter.charges_preview(requests).total
    except BrokerError as exc:
        out.charges_note = f"No charges estimate: {exc.message}"


@transaction.atomic
def freeze_prices(*, watchlist: Watchlist, account: BrokerAccount) -> int:
    """Store each member's price now as its reference (to show drift later)."""
    if readiness.is_missing(account.broker):
        raise BasketRefused(unloaded_message(account))
    resolved = resolve_members(members_of(watchlist), broker=account.broker)
    found, error = prices(account, [r.instrument for r in resolved if r.instrument])
    if error and not found:
        raise BasketRefused(error)
    if not found:
        raise BasketRefused("No prices to freeze: none of the members has a price.")
    frozen = []
    for r in resolved:
        if r.instrument is not None and found.get(r.instrument.pk):
            r.member.reference_price = found[r.instrument.pk]
            frozen.append(r.member)
    Member.objects.bulk_update(frozen, ["reference_price"])
    watchlist.frozen_at = timezone.now()
    watchlist.save(update_fields=["frozen_at", "updated_at"])
    return len(frozen)


def limit_price(price: Decimal, *, side: str, buffer_pct: Decimal, tick: Decimal) -> Decimal:
    """LTP ± buffer, on the tick: a buy at most buffer% above, a sell at most below."""
    if side == "BUY":
        raw, rounding = price * (1 + buffer_pct / 100), ROUND_FLOOR
    else:
        raw, rounding = price * (1 - buffer_pct / 100), ROUND_CEILING
    if not tick or tick <= 0:
        return raw.quantize(Decimal("0.01"))
    return (raw / tick).to_integral_value(rounding=rounding) * tick


@dataclass
class Terms:
    product: str = Order.Product.CNC
    order_type: str = Order.OrderType.LIMIT
    buffer_pct: Decimal = Decimal("0.5")
    send_now: bool = False
    amo: bool = False
    request_key: str = ""  # the form's one-time key: a second send of it is refused


def _closed(account: BrokerAccount, exchanges) -> object | None:
    """Why the market is closed for any of `exchanges` (and whether AMO is offered)."""
    for exchange in sorted(set(exchanges)) or ["NSE"]:
        closed = closed_for_account(account=account, exchange=exchange)
        if closed is not None:
            return closed
    return None


def _variety(account: BrokerAccount, terms: Terms, exchanges) -> str:
    closed = _closed(account, exchanges)
    if closed is None:
        return Order.Variety.REGULAR
    if terms.amo and closed.amo:
        return Order.Variety.AMO
    if terms.send_now:
        offer = " Choose AMO to send it after hours." if closed.amo else ""
        raise BasketRefused(f"{closed.message} Queue the basket for the open instead.{offer}")
    return Order.Variety.REGULAR


def _check_terms(terms: Terms) -> None:
    if terms.product not in Order.Product.values:
        raise BasketRefused("Choose a product.")
    if terms.order_type not in (Order.OrderType.MARKET, Order.OrderType.LIMIT):
        raise BasketRefused("A basket goes as MARKET or LIMIT orders.")
    if not Decimal("0") <= terms.buffer_pct <= MAX_BUFFER_PCT:
        raise BasketRefused(f"The limit buffer is between 0% and {MAX_BUFFER_PCT}%.")


def _create(
    *,
    user: User,
    watchlist: Watchlist,
    account: BrokerAccount,
    side: str,
    legs,
    terms: Terms,
    funds: Decimal | None,
    actor: str,
) -> BasketRun:
    """Every order in one transaction (one invalid leg: none is created, and it is named)."""
    if len(legs) > bulk.MAX_ORDERS:
        raise BasketRefused(f"At most {bulk.MAX_ORDERS} orders in one basket.")
    variety = _variety(account, terms, [instrument.exchange for instrument, _, _ in legs])
    key = terms.request_key[:40]
    if key and BasketRun.objects.filter(watchlist=watchlist, request_key=key).exists():
        raise BasketRefused(ALREADY)
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = BasketRun.objects.create(
                    watchlist=watchlist,
                    account=account,
                    account_name=account.display_name,
                    side=side,
                    executed_now=terms.send_now,
                    funds=funds,
                    request_key=key,
                )
        except IntegrityError:
            raise BasketRefused(ALREADY) from None
        created = []
        for instrument, quantity, price in legs:
            limit = None
            if terms.order_type == Order.OrderType.LIMIT:
                limit = limit_price(
                    price, side=side, buffer_pct=terms.buffer_pct, tick=instrument.tick_size
                )
            try:
                created.append(
                    create_order(
                        user=user,
                        account=account,
                        symbol=f"{instrument.exchange}:{instrument.trading_symbol}",
                        instrument=instrument,
                        side=side,
                        quantity=quantity,
                        order_type=terms.order_type,
                        product=terms.product,
                        price=limit,
                        variety=variety,
                        source=Order.Source.BASKET,
                        actor=actor,
                    )
                )
            except InvalidOrder as exc:
                transaction.set_rollback(True)
                raise BasketRefused(
                    f"{instrument.exchange}:{instrument.canonical_symbol}: {exc}. "
                    "No order was created."
                ) from None
        run.orders.set(created)
    if terms.send_now:
        bulk.run(user=user, action="execute", order_ids=[o.pk for o in created], actor=actor)
    return run


def locked_refusal(plan: Preview) -> str:
    from sigmatrader.formatting import inr

    return (
        f"The locked members alone cost {inr(plan.spent)}, {inr(plan.shortfall)} more than "
        f"the funds ({inr(plan.funds)}): nothing was queued. Raise the funds or unlock them."
    )


def buy(
    *,
    user: User,
    watchlist: Watchlist,
    account: BrokerAccount,
    funds: Decimal,
    mode: str,
    terms: Terms,
    actor: str,
    token: str | None = None,
) -> BasketRun:
    """Buy the basket with `funds`. With `token` (the "Buy now" confirmation,
    watchlists/confirmations.py), exactly the legs the trader confirmed; without
    it, the legs sized now."""
    if account.user_id != user.pk or watchlist.user_id != user.pk:
        raise BasketRefused("No such account or basket.")
    _check_terms(terms)
    if token is not None:
        legs = confirmations.read(
            token,
            watchlist=watchlist,
            account=account,
            side="BUY",
            terms=terms,
            funds=funds,
            mode=mode,
        )
    else:
        plan = preview(
            watchlist=watchlist,
            account=account,
            funds=funds,
            mode=mode,
            order_type=terms.order_type,
            buffer_pct=terms.buffer_pct,
        )
        if plan.price_error and not any(leg.price for leg in plan.legs):
            raise BasketRefused(plan.price_error)
        if plan.locked_over:
            raise BasketRefused(locked_refusal(plan))
        legs = [(leg.instrument, leg.quantity, leg.price) for leg in plan.legs if leg.quantity > 0]
    if not legs:
        raise BasketRefused(NOTHING_TO_BUY)
    return _create(
        user=user,
        watchlist=watchlist,
        account=account,
        side="BUY",
        legs=legs,
        terms=terms,
        funds=funds,
        actor=actor,
    )


def holdings_to_sell(*, watchlist: Watchlist, account: BrokerAccount) -> list[tuple]:
    """[(instrument, quantity held)] of the members that `account` holds (the list's
    per-row Sell link offers these)."""
    resolved = resolve_members(members_of(watchlist), broker=account.broker)
    wanted = {r.instrument.pk: r.instrument for r in resolved if r.instrument is not None}
    held = Holding.objects.filter(account=account, instrument_id__in=wanted, quantity__gt=0)
    return [(wanted[h.instrument_id], h.quantity) for h in held]


_DEAD = (
    Order.Status.CANCELLED,
    Order.Status.REJECTED,
    Order.Status.FAILED,
    Order.Status.EXPIRED,
)


def _held(account: BrokerAccount, instrument_ids) -> dict[int, int]:
    """{instrument pk: what the account holds}: holdings plus today's positions."""
    from portfolio.models import Position

    held: dict[int, int] = {}
    rows = Holding.objects.filter(account=account, instrument_id__in=instrument_ids)
    for h in rows:
        held[h.instrument_id] = held.get(h.instrument_id, 0) + max(0, h.quantity)
    day: dict[int, int] = {}
    for p in Position.objects.filter(account=account, instrument_id__in=instrument_ids):
        day[p.instrument_id] = day.get(p.instrument_id, 0) + p.quantity
    for pk, quantity in day.items():
        held[pk] = held.get(pk, 0) + max(0, quantity)
    return held


def basket_to_sell(*, watchlist: Watchlist, account: BrokerAccount) -> list[tuple]:
    """[(instrument, quantity)]: what THIS basket bought in `account` (its buy orders'
    filled quantities), less what its sells took or still may take, never more than the
    account holds (holdings and today's positions). Older holdings are never sold."""
    net: dict[int, int] = {}
    instruments: dict[int, object] = {}
    runs = watchlist.runs.filter(account=account).prefetch_related("orders__instrument")
    for run in runs:
        for order in run.orders.all():
            if not order.instrument_id:
                continue
            instruments[order.instrument_id] = order.instrument
            if order.side == Order.Side.BUY:
                quantity = order.filled_quantity or 0
            elif order.status in _DEAD:
                quantity = -(order.filled_quantity or 0)
            else:  # a sell still working may fill all of it
                quantity = -max(order.quantity, order.filled_quantity or 0)
            net[order.instrument_id] = net.get(order.instrument_id, 0) + quantity
    held = _held(account, list(net))
    legs = []
    for pk in sorted(net, key=lambda pk: str(instruments[pk])):
        quantity = min(net[pk], held.get(pk, 0))
        if quantity > 0:
            legs.append((instruments[pk], quantity))
    return legs


def sells_working(*, watchlist: Watchlist, account: BrokerAccount) -> int:
    """How many of this basket's sells in `account` may still fill."""
    ids = BasketRun.orders.through.objects.filter(basketrun__watchlist=watchlist).values("order_id")
    return (
        Order.objects.filter(pk__in=ids, account=account, side="SELL")
        .exclude(status__in=_DEAD)
        .exclude(status=Order.Status.EXECUTED)
        .count()
    )


def nothing_to_sell(*, watchlist: Watchlist, account: BrokerAccount) -> str:
    """Why there is nothing to sell, in the trader's words."""
    working = sells_working(watchlist=watchlist, account=account)
    if working:
        return (
            f"{watchlist.name}'s sells in {account.display_name} ({working} "
            f"order{'s' if working != 1 else ''}) are still waiting in the queue or at the "
            "broker: nothing more to sell until they fill or are cancelled."
        )
    return (
        f"{watchlist.name} bought nothing in {account.display_name} that it still holds: "
        "nothing to sell."
    )


def sell(
    *,
    user: User,
    watchlist: Watchlist,
    account: BrokerAccount,
    terms: Terms,
    actor: str,
    token: str | None = None,
) -> BasketRun:
    """Sell what the basket bought in `account`. With `token` (the sell preview's
    confirmation), exactly the legs confirmed, refused if the basket now holds less."""
    if account.user_id != user.pk or watchlist.user_id != user.pk:
        raise BasketRefused("No such account or basket.")
    _check_terms(terms)
    held = basket_to_sell(watchlist=watchlist, account=account)
    if not held:
        raise BasketRefused(nothing_to_sell(watchlist=watchlist, account=account))
    if token is not None:
        confirmed = confirmations.read(
            token, watchlist=watchlist, account=account, side="SELL", terms=terms
        )
        now = {instrument.pk: quantity for instrument, quantity in held}
        if any(quantity > now.get(instrument.pk, 0) for instrument, quantity, _ in confirmed):
            raise confirmations.PlanRefused(
                "What the basket holds changed after the confirmation appeared: nothing was "
                "sold. Here is what it holds now; confirm again."
            )
        held = [(instrument, quantity) for instrument, quantity, _ in confirmed]
    found, error = prices(account, [i for i, _ in held])
    if terms.order_type == Order.OrderType.LIMIT and any(i.pk not in found for i, _ in held):
        raise BasketRefused(error or "No price for every holding: sell at MARKET or retry.")
    legs = [(i, q, found.get(i.pk)) for i, q in held]
    return _create(
        user=user,
        watchlist=watchlist,
        account=account,
        side="SELL",
        legs=legs,
        terms=terms,
        funds=None,
        actor=actor,
    )


# --- Status and P&L ----------------------------------------------------------------


@dataclass
class RunStatus:
    run: BasketRun
    counts: dict[str, int]
    failures: list[tuple[str, str]]  # (symbol, reason)

    @property
    def summary(self) -> str:
        return ", ".join(f"{n} {status.lower()}" for status, n in self.counts.items())


def run_status(run: BasketRun) -> RunStatus:
    counts: dict[str, int] = {}
    failures = []
    for order in run.orders.all():
        label = order.get_status_display()
        counts[label] = counts.get(label, 0) + 1
        if order.status in (Order.Status.FAILED, Order.Status.REJECTED):
            failures.append((order.symbol, order.status_message))
    return RunStatus(run, counts, failures)


@dataclass
class AccountPnl:
    account_name: str
    account_id: int | None
    invested: Decimal = Decimal("0")
    value: Decimal = Decimal("0")
    priced: bool = True

    @property
    def pnl(self) -> Decimal:
        return self.value - self.invested


def pnl(*, watchlist: Watchlist) -> list[AccountPnl]:
    """Per account: what the basket's filled buys cost and are worth now (the live cache's
    price, else the fill price, said as unpriced), less what its sells took out."""
    result: dict[int | None, AccountPnl] = {}
    runs = watchlist.runs.prefetch_related("orders__instrument")
    orders = [(run, o) for run in runs for o in run.orders.all() if o.filled_quantity]
    prices_now = live.cached({o.instrument for _, o in orders if o.instrument_id})
    for run, order in orders:
        row = result.setdefault(run.account_id, AccountPnl(run.account_name, run.account_id))
        average = order.average_price or order.price or Decimal("0")
        now = prices_now.get(order.instrument_id)
        if now is None:
            row.priced = False
        price = now.price if now is not None else average
        sign = 1 if order.side == Order.Side.BUY else -1
        row.invested += sign * average * order.filled_quantity
        row.value += sign * price * order.filled_quantity
    return list(result.values())
