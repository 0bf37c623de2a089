"""The paper exchange: orders, fills, funds, holdings and positions of paper books.

Fill rules (checked at placement and by the beat task while orders rest):
- MARKET fills at LTP moved against the trader by PAPER_SLIPPAGE_BPS;
- LIMIT fills when LTP reaches the limit (BUY: LTP <= price, SELL: LTP >= price):
  an order marketable as it arrives (placed, modified, or a stop triggering now)
  fills at LTP, as an exchange gives it the resting side's better price; one that
  rested and is reached later fills at its limit;
- SL triggers when LTP crosses the trigger (BUY: >=, SELL: <=), then acts as LIMIT;
- SL-M fills at LTP once triggered;
- with PAPER_MAX_VOLUME_SHARE > 0 and the day's volume known, one check fills at
  most that share of the volume (partial fills).

Funds: a BUY (and a short SELL) blocks its estimated value plus charges until it
fills or is cancelled; a BUY beyond available cash and a delivery SELL beyond
free holdings are rejected with the reason. Every fill deducts the charges of
paper.charges. Each fill runs in one transaction with the book row locked and
the order re-read, so two checkers running at once never fill an order twice.

Days are India dates, as at the real brokers: a day's delivery (CNC) trades are
positions only; they settle into holdings on the next trading day (a buy shows
as T1 there for that day), so holdings + the day's net positions is what the
book holds. The order book lists the day's orders and any still resting.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from brokers.base import (
    AuthExpired,
    BrokerOrder,
    BrokerUnavailable,
    Holding,
    InstrumentRef,
    OrderChange,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    Side,
    Trade,
    Variety,
)
from brokers.models import BrokerAccount
from marketdata import clock
from marketdata.models import Instrument
from sigmatrader.formatting import inr

from .charges import charges_for
from .models import PaperBook, PaperHolding, PaperOrder, PaperPosition, PaperTrade
from .prices import Price, no_price_message, prices

PAISA = Decimal("0.01")
ZERO = Decimal("0")
Status = PaperOrder.Status

STATUS = {
    Status.OPEN: OrderStatus.OPEN,
    Status.TRIGGER_PENDING: OrderStatus.TRIGGER_PENDING,
    Status.COMPLETE: OrderStatus.EXECUTED,
    Status.CANCELLED: OrderStatus.CANCELLED,
    Status.REJECTED: OrderStatus.REJECTED,
}


# --- Books and sessions -------------------------------------------------------------------


def book_for(account_key: str) -> PaperBook:
    """The paper book of a paper account (created with its starting cash on first use)."""
    account = BrokerAccount.objects.filter(pk=int(account_key or 0)).first()
    if account is None:
        raise AuthExpired("This paper account no longer exists.")
    book = PaperBook.objects.filter(account=account).first()
    if book is None:
        cash = starting_cash(account)
        book, _ = PaperBook.objects.get_or_create(
            account=account, defaults={"starting_cash": cash, "cash": cash}
        )
    return book


def starting_cash(account: BrokerAccount) -> Decimal:
    raw = str((account.credentials or {}).get("starting_cash", "")).replace(",", "").strip()
    try:
        value = Decimal(raw or settings.PAPER_DEFAULT_STARTING_CASH)
    except ArithmeticError:
        value = Decimal(settings.PAPER_DEFAULT_STARTING_CASH)
    return value if value > 0 else Decimal(settings.PAPER_DEFAULT_STARTING_CASH)


def session_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(book: PaperBook) -> str:
    """A new session; the book keeps only the token's hash (the account's encrypted
    session blob holds the token, as for a real broker)."""
    token = secrets.token_urlsafe(24)
    PaperBook.objects.filter(pk=book.pk).update(session_token_hash=session_token_hash(token))
    return token


def close_session(book: PaperBook) -> None:
    PaperBook.objects.filter(pk=book.pk).update(session_token_hash="")


def check_session(book: PaperBook, token: str) -> None:
    if not book.session_token_hash or not secrets.compare_digest(
        book.session_token_hash, session_token_hash(token or "")
    ):
        raise AuthExpired("The paper session has ended: connect the account again.")


def reset(book: PaperBook) -> None:
    """Back to the starting cash: no orders, trades, holdings or positions."""
    with transaction.atomic():
        book = PaperBook.objects.select_for_update().get(pk=book.pk)
        book.orders.all().delete()
        book.holdings.all().delete()
        book.positions.all().delete()
        book.starting_cash = starting_cash(book.account)
        book.cash, book.blocked, book.reset_at = book.starting_cash, ZERO, timezone.now()
        book.save()


# --- Prices -------------------------------------------------------------------------------


def _ref(order: PaperOrder) -> InstrumentRef:
    return InstrumentRef(order.exchange, order.symbol, order.token)


def _price_of(book: PaperBook, ref: InstrumentRef) -> Price:
    found, problem = prices(book.account, [ref])
    if ref not in found:
        raise BrokerUnavailable(no_price_message(ref, problem))
    return found[ref]


def _paisa(value: Decimal) -> Decimal:
    return Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)


def market_price(side: str, last_price: Decimal) -> Decimal:
    """LTP moved against the trader by the configured slippage."""
    bps = Decimal(str(settings.PAPER_SLIPPAGE_BPS)) / Decimal(10000)
    factor = 1 + bps if side == Side.BUY else 1 - bps
    return _paisa(last_price * factor)


# --- Placing, modifying, cancelling ---------------------------------------------------------


def _instrument(ref: InstrumentRef) -> Instrument | None:
    return Instrument.objects.filter(exchange=ref.exchange, canonical_symbol=ref.symbol).first()


def _estimate(order_type: str, side: str, price, trigger, ltp: Decimal | None) -> Decimal | None:
    if order_type in (OrderType.LIMIT, OrderType.SL) and price:
        return Decimal(price)
    if order_type == OrderType.SL_M and trigger:
        return Decimal(trigger)
    return market_price(side, ltp) if ltp else None


def _needs_block(side: str, product: str) -> bool:
    # A delivery sale is covered by the holding; everything else needs cash or margin.
    return not (side == Side.SELL and product == Product.CNC)


def _block_for(side, product, quantity, estimate: Decimal) -> Decimal:
    if not _needs_block(side, product):
        return ZERO
    return _paisa(
        estimate * quantity
        + charges_for(side=side, quantity=quantity, price=estimate, product=product).total
    )


def today() -> date:
    """The paper exchange's trading date (India)."""
    return timezone.localdate(timezone.now(), timezone=clock.IST)


def _start_of_today() -> datetime:
    return datetime.combine(today(), datetime.min.time(), tzinfo=clock.IST)


def settle(book: PaperBook) -> None:
    """Fold the delivery positions of past days into holdings, once (what a
    broker does overnight): a day's net buy joins the holding at that day's
    average buy price and is T1 until it is delivered; a net sell leaves it."""
    day = today()
    if book.settled_on is not None and book.settled_on >= day:
        return
    with transaction.atomic():
        locked = PaperBook.objects.select_for_update().get(pk=book.pk)
        if locked.settled_on is None or locked.settled_on < day:
            past = PaperPosition.objects.filter(book=locked, product=Product.CNC, day__lt=day)
            if locked.settled_on is not None:
                past = past.filter(day__gte=locked.settled_on)
            for position in past.order_by("day", "pk"):
                _settle_position(locked, position)
            locked.settled_on = day
            locked.save(update_fields=["settled_on"])
        book.settled_on = locked.settled_on


def _settle_position(book: PaperBook, position: PaperPosition) -> None:
    net = position.quantity
    if not net:
        return
    holding, _ = PaperHolding.objects.select_for_update().get_or_create(
        book=book,
        exchange=position.exchange,
        symbol=position.symbol,
        defaults={"token": position.token},
    )
    if net > 0:
        bought_at = position.buy_value / position.buy_quantity
        total = holding.average_price * holding.quantity + bought_at * net
        holding.quantity += net
        holding.average_price = _paisa(total / holding.quantity)
        if holding.t1_date != position.day:
            holding.t1_quantity = 0
        holding.t1_quantity += net
        holding.t1_date = position.day
    else:
        holding.quantity += net
        holding.t1_quantity = max(0, min(holding.t1_quantity, holding.quantity))
    if holding.quantity <= 0:
        holding.delete()
    else:
        holding.save()


def _free_holding(book: PaperBook, exchange: str, symbol: str, excluding=None) -> int:
    """What a delivery sale may take: settled holdings and the day's net delivery trades."""
    settle(book)
    held = (
        PaperHolding.objects.filter(book=book, exchange=exchange, symbol=symbol)
        .values_list("quantity", flat=True)
        .first()
        or 0
    )
    day = (
        PaperPosition.objects.filter(
            book=book, day=today(), exchange=exchange, symbol=symbol, product=Product.CNC
        )
        .values_list("buy_quantity", "sell_quantity")
        .first()
    )
    held += (day[0] - day[1]) if day else 0
    selling = PaperOrder.objects.filter(
        book=book,
        exchange=exchange,
        symbol=symbol,
        side=Side.SELL,
        product=Product.CNC,
        status__in=PaperOrder.ACTIVE,
    )
    if excluding is not None:
        selling = selling.exclude(pk=excluding.pk)
    reserved = sum(o.quantity - o.filled_quantity for o in selling)
    return held - reserved


def place(book: PaperBook, request: OrderRequest) -> str:
    """Accept (or reject into the book) one order; returns its id.

    Raises OrderRejected for an unknown instrument or an unsupported request, and
    BrokerUnavailable when an order that needs a price cannot get one.
    """
    ref = request.instrument
    if ref.exchange not in ("NSE", "BSE"):
        raise OrderRejected("Paper trading simulates NSE and BSE cash-market orders only.")
    if _instrument(ref) is None:
        raise OrderRejected(f"Unknown instrument {ref.exchange}:{ref.symbol}.")
    if request.quantity < 1:
        raise OrderRejected("Quantity must be at least 1.")
    if request.variety not in (Variety.REGULAR, Variety.AMO):
        raise OrderRejected(f"Paper trading does not simulate {request.variety} orders.")
    side, product, kind = str(request.side), str(request.product), str(request.order_type)
    if kind == OrderType.MARKET:
        quote = _price_of(book, ref)  # no price, no market order: never a fill at 0
    else:  # a resting order: priced if possible, to try it at once
        found, _ = prices(book.account, [ref])
        quote = found.get(ref)
    estimate = _estimate(
        kind, side, request.price, request.trigger_price, quote.last_price if quote else None
    )
    now = timezone.now()
    with transaction.atomic():
        book = PaperBook.objects.select_for_update().get(pk=book.pk)
        number = book.next_order_number
        book.next_order_number = number + 1
        order = PaperOrder(
            book=book,
            order_id=f"PAPER{book.pk}-{number:06d}",
            tag=request.tag,
            exchange=ref.exchange,
            symbol=ref.symbol,
            token=ref.token,
            side=side,
            quantity=request.quantity,
            order_type=kind,
            product=product,
            price=request.price,
            trigger_price=request.trigger_price,
            validity=str(request.validity),
            variety=str(request.variety),
            placed_at=now,
            updated_at=now,
            status=Status.TRIGGER_PENDING
            if kind in (OrderType.SL, OrderType.SL_M)
            else Status.OPEN,
        )
        reason = _refusal(book, order, estimate)
        if reason:
            order.status, order.status_message = Status.REJECTED, reason
        else:
            order.blocked_amount = _block_for(side, product, request.quantity, estimate)
            book.blocked += order.blocked_amount
        book.save(update_fields=["next_order_number", "blocked"])
        order.save()
    if (
        order.status != Status.REJECTED
        and quote is not None
        and clock.is_open(exchange=ref.exchange)
    ):
        try_fill(order.pk, quote, arriving=True)
    return order.order_id


def _refusal(book: PaperBook, order: PaperOrder, estimate: Decimal | None) -> str:
    if not clock.is_open(exchange=order.exchange) and settings.PAPER_WHEN_CLOSED == "reject":
        return "Market closed: paper orders are not accepted outside market hours."
    if estimate is None:
        return "No price to check funds against."
    if _needs_block(order.side, order.product):
        need = _block_for(order.side, order.product, order.quantity, estimate)
        if need > book.available:
            return (
                f"Insufficient funds: this order needs {inr(need)}, "
                f"available {inr(book.available)}."
            )
    else:
        free = _free_holding(book, order.exchange, order.symbol)
        if order.quantity > free:
            return (
                f"Insufficient holdings: {free} {order.symbol} free to sell; "
                "delivery (CNC) sales cannot go short."
            )
    return ""


def _active(book: PaperBook, order_id: str) -> PaperOrder:
    order = PaperOrder.objects.select_for_update().filter(book=book, order_id=order_id).first()
    if order is None:
        raise OrderRejected(f"No paper order {order_id}.")
    if order.status not in PaperOrder.ACTIVE:
        raise OrderRejected(f"Order {order_id} is {order.get_status_display().lower()}.")
    return order


def cancel(book: PaperBook, order_id: str, message: str = "") -> None:
    with transaction.atomic():
        book = PaperBook.objects.select_for_update().get(pk=book.pk)
        order = _active(book, order_id)
        book.blocked -= order.blocked_amount
        book.save(update_fields=["blocked"])
        order.blocked_amount = ZERO
        order.status, order.status_message = Status.CANCELLED, message
        order.updated_at = timezone.now()
        order.save()


def modify(book: PaperBook, order_id: str, change: OrderChange) -> None:
    ref_order = PaperOrder.objects.filter(book=book, order_id=order_id).first()
    quote = None
    if ref_order is not None:
        found, _ = prices(book.account, [_ref(ref_order)])
        quote = found.get(_ref(ref_order))
    with transaction.atomic():
        book = PaperBook.objects.select_for_update().get(pk=book.pk)
        order = _active(book, order_id)
        quantity = change.quantity or order.quantity
        if quantity < order.filled_quantity or quantity <= 0:
            raise OrderRejected(f"Quantity {quantity} is below what has filled.")
        kind = str(change.order_type or order.order_type)
        price = change.price if change.price is not None else order.price
        trigger = change.trigger_price if change.trigger_price is not None else order.trigger_price
        estimate = _estimate(kind, order.side, price, trigger, quote.last_price if quote else None)
        if estimate is None:
            raise OrderRejected("No price to check funds against.")
        remaining = quantity - order.filled_quantity
        block = _block_for(order.side, order.product, remaining, estimate)
        if block - order.blocked_amount > book.available:
            raise OrderRejected(
                f"Insufficient funds for the change: needs {inr(block)}, "
                f"available {inr(book.available + order.blocked_amount)}."
            )
        book.blocked += block - order.blocked_amount
        book.save(update_fields=["blocked"])
        order.quantity, order.order_type, order.price, order.trigger_price = (
            quantity,
            kind,
            price,
            trigger,
        )
        order.blocked_amount = block
        if change.validity:
            order.validity = str(change.validity)
        order.updated_at = timezone.now()
        order.save()
    if quote is not None and clock.is_open():
        try_fill(order.pk, quote, arriving=True)


# --- Filling ----------------------------------------------------------------------------


def fill_price(order: PaperOrder, ltp: Decimal, *, arriving: bool = False) -> Decimal | None:
    """The price this order fills at with the market at `ltp`, or None (not yet).
    `arriving`: the order reaches the market now (placed or modified). May flip
    `order.triggered` (the caller saves it)."""
    buying = order.side == Side.BUY
    if order.order_type in (OrderType.SL, OrderType.SL_M) and not order.triggered:
        crossed = ltp >= order.trigger_price if buying else ltp <= order.trigger_price
        if not crossed:
            return None
        order.triggered = True
        arriving = True  # the stop's limit order reaches the market now
    if order.order_type == OrderType.MARKET:
        return market_price(order.side, ltp)
    if order.order_type == OrderType.SL_M:
        return _paisa(ltp)
    # LIMIT, and SL once triggered: marketable on arrival, at LTP (never worse
    # than the limit); resting until the market reaches it, at the limit.
    reached = ltp <= order.price if buying else ltp >= order.price
    if not reached:
        return None
    return _paisa(ltp) if arriving else _paisa(order.price)


def _fill_quantity(order: PaperOrder, volume: int | None) -> int:
    share = Decimal(str(settings.PAPER_MAX_VOLUME_SHARE))
    if share <= 0 or not volume:
        return order.remaining
    return max(1, min(order.remaining, int(Decimal(volume) * share)))


def try_fill(order_pk: int, quote: Price, *, arriving: bool = False) -> bool:
    """Fill what the rules allow at this price. True when something filled.
    `arriving`: the order was just placed or modified (see fill_price)."""
    with transaction.atomic():
        order = PaperOrder.objects.select_for_update().filter(pk=order_pk).first()
        if order is None or order.status not in PaperOrder.ACTIVE:
            return False  # another checker got here first
        was_triggered = order.triggered
        price = fill_price(order, quote.last_price, arriving=arriving)
        if order.triggered and not was_triggered:
            order.status = Status.OPEN  # a stop that triggered now waits as a limit
        if price is None:
            if order.triggered != was_triggered:
                order.updated_at = timezone.now()
                order.save(update_fields=["triggered", "status", "updated_at"])
            return False
        book = PaperBook.objects.select_for_update().get(pk=order.book_id)
        quantity = _fill_quantity(order, quote.volume)
        if order.side == Side.SELL and order.product == Product.CNC:
            free = _free_holding(book, order.exchange, order.symbol, excluding=order)
            if quantity > free:
                order.status, order.status_message = (
                    Status.REJECTED,
                    f"Insufficient holdings at fill time: {free} {order.symbol}.",
                )
                order.save()
                return False
        _execute(book, order, quantity, price)
        order.save()
        book.save(update_fields=["cash", "blocked"])
    return True


def _execute(book: PaperBook, order: PaperOrder, quantity: int, price: Decimal) -> None:
    now = timezone.now()
    cost = charges_for(side=order.side, quantity=quantity, price=price, product=order.product)
    value = price * quantity
    # Release this part's share of the block, then move the cash.
    share = (
        order.blocked_amount
        if quantity == order.remaining
        else _paisa(order.blocked_amount * quantity / order.remaining)
    )
    order.blocked_amount -= share
    book.blocked -= share
    book.cash += (-value if order.side == Side.BUY else value) - cost.total
    filled_before = order.filled_quantity
    order.filled_quantity += quantity
    previous = (order.average_price or ZERO) * filled_before
    order.average_price = _paisa((previous + value) / order.filled_quantity)
    order.updated_at = now
    if order.filled_quantity == order.quantity:
        order.status = Status.COMPLETE
    # Shown with the order in the app (the sync copies the broker's message).
    order_charges = charges_total_of(order) + cost.total
    order.status_message = (
        f"Filled {order.filled_quantity} of {order.quantity} at {inr(order.average_price)} avg; "
        f"charges {inr(order_charges)} (last fill: brokerage {inr(cost.brokerage)}, "
        f"STT {inr(cost.stt)}, exchange {inr(cost.exchange)}, SEBI {inr(cost.sebi)}, "
        f"stamp {inr(cost.stamp)}, GST {inr(cost.gst)})"
    )[:300]
    PaperTrade.objects.create(
        order=order,
        trade_id=f"{order.order_id}-T{PaperTrade.objects.filter(order=order).count() + 1}",
        quantity=quantity,
        price=price,
        charges=cost.total,
        charges_breakdown=cost.as_dict(),
        traded_at=now,
    )
    _move_position(book, order, quantity, price, now)


def _move_position(book, order, quantity: int, price: Decimal, now) -> None:
    """The day's position moves; delivery trades reach holdings when they settle."""
    day = timezone.localdate(now, timezone=clock.IST)
    position, _ = PaperPosition.objects.select_for_update().get_or_create(
        book=book,
        day=day,
        exchange=order.exchange,
        symbol=order.symbol,
        product=order.product,
        defaults={"token": order.token},
    )
    if order.side == Side.BUY:
        position.buy_quantity += quantity
        position.buy_value += price * quantity
    else:
        position.sell_quantity += quantity
        position.sell_value += price * quantity
    position.save()


def check_resting_orders(book: PaperBook | None = None) -> dict:
    """The beat task's work: price every resting order's instrument once, fill what may."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    active = PaperOrder.objects.filter(status__in=PaperOrder.ACTIVE).select_related("book__account")
    if book is not None:
        active = active.filter(book=book)
    by_book: dict[int, list[PaperOrder]] = {}
    for order in active:
        by_book.setdefault(order.book_id, []).append(order)
    filled = unpriced = 0
    for orders in by_book.values():
        found, _ = prices(orders[0].book.account, [_ref(o) for o in orders])
        for order in orders:
            quote = found.get(_ref(order))
            if quote is None:
                unpriced += 1
            elif try_fill(order.pk, quote):
                filled += 1
    return {
        "checked": sum(len(v) for v in by_book.values()),
        "filled": filled,
        "unpriced": unpriced,
    }


def is_square_off_time(moment) -> bool:
    """Trading days from PAPER_MIS_SQUARE_OFF (India time) until the close."""
    local = moment.astimezone(clock.IST)
    at = datetime.strptime(settings.PAPER_MIS_SQUARE_OFF, "%H:%M").time()
    return clock.is_trading_day(local.date()) and at <= local.time() < clock.CLOSE


def square_off_intraday(book: PaperBook) -> int:
    """Cancel resting MIS orders and close today's open MIS positions at market."""
    for order in PaperOrder.objects.filter(
        book=book, product=Product.MIS, status__in=PaperOrder.ACTIVE
    ):
        cancel(book, order.order_id, "Cancelled by the intraday square-off.")
    closed = 0
    for position in PaperPosition.objects.filter(book=book, day=today(), product=Product.MIS):
        if not position.quantity:
            continue
        ref = InstrumentRef(position.exchange, position.symbol, position.token)
        quote = _price_of(book, ref)
        side = Side.SELL if position.quantity > 0 else Side.BUY
        with transaction.atomic():
            locked = PaperBook.objects.select_for_update().get(pk=book.pk)
            number = locked.next_order_number
            locked.next_order_number = number + 1
            locked.save(update_fields=["next_order_number"])
            order = PaperOrder.objects.create(
                book=locked,
                order_id=f"PAPER{book.pk}-{number:06d}",
                tag="SQUAREOFF",
                exchange=position.exchange,
                symbol=position.symbol,
                token=position.token,
                side=side,
                quantity=abs(position.quantity),
                order_type=OrderType.MARKET,
                product=Product.MIS,
                status=Status.OPEN,
                status_message="Intraday square-off",
            )
        try_fill(order.pk, quote)
        closed += 1
    return closed


# --- Reading ------------------------------------------------------------------------------


def funds(book: PaperBook) -> tuple[Decimal, Decimal, Decimal]:
    book.refresh_from_db(fields=["cash", "blocked"])
    return book.cash - book.blocked, book.blocked, book.cash


def order_book(book: PaperBook) -> list[BrokerOrder]:
    return [
        BrokerOrder(
            broker_order_id=o.order_id,
            status=(
                OrderStatus.PARTIALLY_FILLED
                if o.status == Status.OPEN and 0 < o.filled_quantity < o.quantity
                else STATUS[o.status]
            ),
            instrument=_ref(o),
            side=Side(o.side),
            quantity=o.quantity,
            filled_quantity=o.filled_quantity,
            order_type=OrderType(o.order_type),
            product=Product(o.product),
            tag=o.tag,
            price=o.price,
            trigger_price=o.trigger_price,
            average_price=o.average_price,
            status_message=o.status_message,
            broker_status=o.status,
            variety=Variety(o.variety)
            if o.variety in Variety.__members__.values()
            else Variety.REGULAR,
            placed_at=o.placed_at,
            updated_at=o.updated_at,
        )
        # As at a real broker: the day's orders, and those still resting from earlier.
        for o in PaperOrder.objects.filter(book=book).filter(
            Q(placed_at__gte=_start_of_today())
            | Q(updated_at__gte=_start_of_today())
            | Q(status__in=PaperOrder.ACTIVE)
        )
    ]


def trades(book: PaperBook) -> list[Trade]:
    rows = PaperTrade.objects.filter(order__book=book).select_related("order")
    return [
        Trade(
            trade_id=t.trade_id,
            broker_order_id=t.order.order_id,
            instrument=_ref(t.order),
            side=Side(t.order.side),
            quantity=t.quantity,
            price=t.price,
            product=Product(t.order.product),
            traded_at=t.traded_at,
        )
        for t in rows
    ]


def _priced(book: PaperBook, refs: list[InstrumentRef]) -> dict:
    found, problem = prices(book.account, refs)
    missing = [ref for ref in refs if ref not in found]
    if missing:
        raise BrokerUnavailable(no_price_message(missing[0], problem))
    return found


def holdings(book: PaperBook) -> list[Holding]:
    settle(book)
    rows = list(PaperHolding.objects.filter(book=book, quantity__gt=0))
    found = _priced(book, [InstrumentRef(h.exchange, h.symbol, h.token) for h in rows])
    undelivered_since = clock.previous_trading_day(today())
    result = []
    for h in rows:
        ref = InstrumentRef(h.exchange, h.symbol, h.token)
        quote = found[ref]
        result.append(
            Holding(
                instrument=ref,
                quantity=h.quantity,
                t1_quantity=(h.t1_quantity if h.t1_date and h.t1_date >= undelivered_since else 0),
                average_price=h.average_price,
                last_price=quote.last_price,
                close_price=quote.close,
                pnl=(quote.last_price - h.average_price) * h.quantity,
                day_change=(quote.last_price - quote.close) if quote.close else None,
            )
        )
    return result


def positions(book: PaperBook) -> list[Position]:
    rows = list(PaperPosition.objects.filter(book=book, day=today()))
    found = _priced(book, [InstrumentRef(p.exchange, p.symbol, p.token) for p in rows])
    result = []
    for p in rows:
        ref = InstrumentRef(p.exchange, p.symbol, p.token)
        last = found[ref].last_price
        buy_avg = p.buy_value / p.buy_quantity if p.buy_quantity else ZERO
        sell_avg = p.sell_value / p.sell_quantity if p.sell_quantity else ZERO
        pnl = p.sell_value - p.buy_value + p.quantity * last
        closed = min(p.buy_quantity, p.sell_quantity)
        realised = (sell_avg - buy_avg) * closed if closed else ZERO
        result.append(
            Position(
                instrument=ref,
                product=Product(p.product),
                quantity=p.quantity,
                average_price=_paisa(buy_avg if p.quantity >= 0 else sell_avg),
                last_price=last,
                pnl=_paisa(pnl),
                realised=_paisa(realised),
                unrealised=_paisa(pnl - realised),
                m2m=_paisa(pnl),
                buy_quantity=p.buy_quantity,
                sell_quantity=p.sell_quantity,
                buy_average=_paisa(buy_avg),
                sell_average=_paisa(sell_avg),
                day_buy_quantity=p.buy_quantity,
                day_sell_quantity=p.sell_quantity,
            )
        )
    return result


def charges_total_of(order: PaperOrder) -> Decimal:
    return PaperTrade.objects.filter(order=order).aggregate(t=Sum("charges"))["t"] or ZERO


def charges_total(book: PaperBook) -> Decimal:
    return PaperTrade.objects.filter(order__book=book).aggregate(t=Sum("charges"))["t"] or ZERO
