"""Orders started from the portfolio pages: trade from a holding, square off a position."""

from __future__ import annotations

from django.db.models import Q

from brokers.base import BrokerError
from brokers.models import BrokerAccount
from marketdata.resolution import resolve
from orders import closed_market
from orders.conditional import cancel_armed
from orders.execution import create_order, execute
from orders.models import Order

from .models import Position
from .selectors import held_quantity


class TradeRefused(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def check_sell_against_holding(account: BrokerAccount, instrument, quantity: int) -> None:
    """A delivery (CNC) SELL may not exceed what this account holds of the instrument."""
    held = held_quantity(account, instrument.canonical_symbol, instrument.exchange)
    if quantity > held:
        raise TradeRefused(
            f"{account.display_name} holds {held} {instrument.canonical_symbol}: "
            f"a delivery sale of {quantity} is more than that.",
            field="quantity",
        )


def trade(
    *, user, account, symbol: str, values: dict, send_now: bool, actor: str, exit_plan=None
) -> Order:
    """Create the order for `account` (in the queue), and send it at once if asked.

    Raises SymbolNotFound (market data) or TradeRefused before anything is written.
    `exit_plan` (orders.exit_plans.Plan) protects the entry once it fills.
    """
    instrument = resolve(broker=account.broker, symbol=symbol)
    if values["side"] == Order.Side.SELL and values["product"] == Order.Product.CNC:
        check_sell_against_holding(account, instrument, values["quantity"])
    order = create_order(
        user=user,
        account=account,
        symbol=symbol,
        instrument=instrument,
        actor=actor,
        source=Order.Source.HOLDINGS,
        exit_plan=exit_plan,
        **values,
    )
    if send_now:
        order = execute(order=order, actor=actor)
    return order


class MarketClosed(Exception):
    """A square-off met a closed market: the trader chooses (AMO, queue, or nothing)."""

    def __init__(self, closed):
        super().__init__(closed.message)
        self.closed = closed
        self.message = closed.message


def square_off(
    *, user, position: Position, actor: str, quantity: int | None = None, when_closed: str = ""
) -> Order:
    """An opposite MARKET order for the open quantity (or `quantity` of it, a partial
    exit: at most what is open, in whole lots), sent at once.

    In a closed market (for this account's broker) nothing is written unless the
    trader chose: `when_closed="amo"` sends it as an after-market order (where
    the broker takes AMO), `"queue"` leaves it waiting in the queue for the open.
    Otherwise MarketClosed says what the broker offers.
    """
    if position.account.user_id != user.pk:
        raise PermissionError("not this user's position")
    if not position.quantity:
        raise TradeRefused(f"{position.symbol} {position.product} is already flat.")
    open_quantity = abs(position.quantity)
    quantity = open_quantity if quantity is None else quantity
    check_exit_quantity(position, quantity)
    closed = closed_market.closed_for_account(account=position.account, exchange=position.exchange)
    variety = Order.Variety.REGULAR
    if closed is not None:
        if when_closed == "amo" and closed.amo:
            variety = Order.Variety.AMO
        elif when_closed != "queue":
            raise MarketClosed(closed)
    if quantity == open_quantity and not (closed is not None and when_closed == "queue"):
        withdraw_protective_exits(position, actor=actor)  # before anything is written
    symbol = f"{position.exchange}:{position.symbol}"
    order = create_order(
        user=user,
        account=position.account,
        symbol=symbol,
        instrument=position.instrument,
        side=Order.Side.SELL if position.quantity > 0 else Order.Side.BUY,
        quantity=quantity,
        order_type=Order.OrderType.MARKET,
        product=position.product,
        variety=variety,
        actor=actor,
    )
    if closed is not None and when_closed == "queue":
        return order  # waiting in the queue: Execute it there once the market opens
    return execute(order=order, actor=actor)


# The withdrawn legs' status message: protection (exits/sweep.py) reads it to wait for
# the square-off's outcome, closing the plan if it filled, re-arming if it was refused.
WITHDRAWN_FOR_SQUARE_OFF = "Withdrawn for a square-off of the whole position."


def withdraw_protective_exits(position: Position, *, actor: str) -> int:
    """Before a whole position is squared off: its armed protective exits (stop-loss /
    target legs of an entry, `protection/`) are withdrawn, so a stop firing meanwhile
    cannot sell what the square-off sells (an intraday position would go short). A
    native GTT is deleted at the broker first; if that fails, nothing is sent.
    Returns how many legs were withdrawn."""
    legs = Order.objects.filter(
        account=position.account,
        source=Order.Source.PROTECTION,
        status=Order.Status.ARMED,
        product=position.product,
        symbol__in={position.symbol, f"{position.exchange}:{position.symbol}"},
        side=Order.Side.SELL if position.quantity > 0 else Order.Side.BUY,
    ).select_related("account")
    withdrawn = 0
    done: set[int] = set()
    for leg in legs:
        if leg.pk in done:
            continue
        done.update({leg.pk, leg.oco_sibling_id or 0})
        try:
            cancel_armed(leg, actor=actor, why=WITHDRAWN_FOR_SQUARE_OFF)
        except BrokerError as exc:
            raise TradeRefused(
                f"The protective exits of {position.symbol} could not be withdrawn first "
                f"({exc.message}): nothing was sent. Try again, or cancel the protection "
                "on the Orders page."
            ) from exc
        withdrawn += 1
    return withdrawn


# Exits sent but not yet done: their whole unfilled quantity may still fill.
PENDING = (
    Order.Status.SENDING,
    Order.Status.SENT,
    Order.Status.OPEN,
    Order.Status.PARTIALLY_FILLED,
    Order.Status.UNKNOWN,
)


def pending_exit_quantity(position: Position) -> int:
    """How much of the position exit orders already sent may take away.

    Counted: the unfilled part of every live exit (same account, instrument and
    product, the opposite side), and what exits have filled since the position
    was synced (the broker's position read then did not have it yet; counting
    a fill that was already in it only refuses too much, never oversells).
    """
    exits = Order.objects.filter(
        account=position.account,
        symbol__in={position.symbol, f"{position.exchange}:{position.symbol}"},
        product=position.product,
        side=Order.Side.SELL if position.quantity > 0 else Order.Side.BUY,
    )
    pending = 0
    for status, quantity, filled, updated_at in exits.filter(
        Q(status__in=PENDING) | Q(status=Order.Status.EXECUTED, updated_at__gt=position.synced_at)
    ).values_list("status", "quantity", "filled_quantity", "updated_at"):
        filled = filled or 0
        fresh_fill = filled if updated_at > position.synced_at else 0
        pending += fresh_fill if status == Order.Status.EXECUTED else quantity - filled + fresh_fill
    return pending


def exitable_quantity(position: Position) -> int:
    """The open quantity less what exits already sent may take."""
    return max(abs(position.quantity) - pending_exit_quantity(position), 0)


def check_exit_quantity(position: Position, quantity: int) -> None:
    """What part of a position may be exited: 1..open quantity less pending exits,
    a lot multiple (two quick exits can never sell more than is open)."""
    open_quantity = abs(position.quantity)
    if quantity < 1:
        raise TradeRefused("The quantity to exit must be at least 1.", field="quantity")
    if quantity > open_quantity:
        raise TradeRefused(
            f"{position.symbol} {position.product} has {open_quantity} open: "
            f"cannot exit {quantity}.",
            field="quantity",
        )
    pending = pending_exit_quantity(position)
    if quantity > open_quantity - pending:
        raise TradeRefused(
            f"{position.symbol} {position.product} has {open_quantity} open and exit orders "
            f"already sent for {pending}: at most {max(open_quantity - pending, 0)} more "
            "can be exited.",
            field="quantity",
        )
    lot = position.instrument.lot_size if position.instrument else 1
    if lot > 1 and quantity % lot:
        raise TradeRefused(
            f"Exit in whole lots of {lot}: {quantity} is not a multiple of {lot}.",
            field="quantity",
        )


# Sells that may still take shares out of a holding: in the queue, or sent and not done.
SELLS_IN_FLIGHT = (Order.Status.WAITING, Order.Status.ARMED, Order.Status.TRIGGERED, *PENDING)


def sells_in_flight(account: BrokerAccount, instrument) -> int:
    """The unfilled quantity of this account's delivery (CNC) sells of the instrument
    that are waiting in the queue or live at the broker: what a new sell must leave."""
    symbol, exchange = instrument.canonical_symbol, instrument.exchange
    sells = Order.objects.filter(
        Q(instrument__canonical_symbol=symbol, instrument__exchange=exchange)
        | Q(instrument__isnull=True, symbol__in={symbol, f"{exchange}:{symbol}"}),
        account=account,
        side=Order.Side.SELL,
        product=Order.Product.CNC,
        status__in=SELLS_IN_FLIGHT,
    )
    return sum(
        max(0, quantity - (filled or 0))
        for quantity, filled in sells.values_list("quantity", "filled_quantity")
    )
