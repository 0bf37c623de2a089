"""In-memory state of the emulated brokers: users, sessions, books, faults."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from zoneinfo import ZoneInfo

from .market import Instrument, Market

IST = ZoneInfo("Asia/Kolkata")
AMO_RECEIVED = "AMO REQ RECEIVED"  # an after-market order waiting for the open

# --- Accounts -----------------------------------------------------


@dataclass
class Book:
    """One broker account's money, orders and portfolio."""

    cash: Decimal = Decimal("500000")
    used_margin: Decimal = Decimal("0")
    orders: dict[str, Order] = field(default_factory=dict)
    trades: list[Fill] = field(default_factory=list)
    holdings: dict[tuple[str, str], Lot] = field(default_factory=dict)
    positions: dict[tuple[str, str, str], Lot] = field(default_factory=dict)
    gtts: dict[int, dict] = field(default_factory=dict)


@dataclass
class KiteUser:
    api_key: str
    api_secret: str
    user_id: str
    password: str
    redirect_url: str = ""
    name: str = "Emulated Kite User"
    email: str = "kite.user@example.com"
    book: Book = field(default_factory=Book)


@dataclass
class SmartUser:
    api_key: str
    client_code: str
    pin: str
    totp_secret: str
    name: str = "Emulated Smart User"
    email: str = "smart.user@example.com"
    book: Book = field(default_factory=Book)


@dataclass
class Lot:
    exchange: str
    symbol: str
    quantity: int
    average_price: Decimal
    t1_quantity: int = 0
    product: str = "CNC"
    buy_quantity: int = 0
    sell_quantity: int = 0
    buy_value: Decimal = Decimal("0")
    sell_value: Decimal = Decimal("0")
    mtf_quantity: int = 0  # holdings bought with margin (Kite shows them under `mtf`)
    # Sold today out of holdings: the holding keeps its quantity until `settle`
    # (Kite's `used_quantity`); the sale shows as a negative delivery position.
    used_quantity: int = 0
    mtf_average_price: Decimal = Decimal("0")


@dataclass
class Order:
    order_id: str
    exchange: str
    symbol: str
    side: str  # BUY / SELL
    quantity: int
    order_type: str  # MARKET / LIMIT / SL / SL-M (common words; routes translate)
    product: str  # CNC / MIS / NRML
    price: Decimal
    trigger_price: Decimal
    validity: str
    variety: str
    tag: str
    status: str = "OPEN"  # OPEN / COMPLETE / CANCELLED / REJECTED / TRIGGER PENDING
    filled_quantity: int = 0
    average_price: Decimal = Decimal("0")
    status_message: str = ""
    placed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Fill:
    trade_id: str
    order_id: str
    exchange: str
    symbol: str
    side: str
    quantity: int
    price: Decimal
    product: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Token:
    owner: KiteUser | SmartUser
    expires_at: datetime
    kind: str = "access"  # access / refresh / request
    revoked: bool = False

    @property
    def valid(self) -> bool:
        return not self.revoked and datetime.now(UTC) < self.expires_at


# --- Faults -----------------------------------------------------


@dataclass
class Fault:
    """What to do to the next `times` matching requests.

    kind: latency (wait `seconds`, then answer), timeout (wait `seconds`, do
    nothing), drop_after_accept (do the work, then wait `seconds` so the client
    gives up), expired_token, rate_limit, server_error (`status`), bad_gateway
    (an HTML error page instead of JSON).
    """

    kind: str
    times: int = 1
    seconds: float = 0.0
    status: int = 500


# --- State -----------------------------------------------------


class EmulatorState:
    FIRST_ID = 250_000_000_000_000  # order and trade ids count up from here

    def __init__(self, *, market: Market | None = None, session_hours: float = 20.0):
        self.market = market or Market()
        self.lock = threading.RLock()
        self.kite_users: dict[str, KiteUser] = {}  # by api_key
        self.smart_users: dict[str, SmartUser] = {}  # by client code
        self.tokens: dict[str, Token] = {}
        self.session_lifetime = timedelta(hours=session_hours)
        self.faults: dict[tuple[str, str], list[Fault]] = {}
        self.requests: list[tuple[str, str, str]] = []  # (broker, operation, path): a request log
        self.login_hint = ""  # shown on the login page (demo credentials)
        # SmartAPI getPosition as its documentation shows it: no `ltp`, `pnl`,
        # `realised` or `unrealised` keys (the client must price the rows itself).
        self.smart_positions_without_pnl = False
        # False: order books leave out the client tag (as for an order placed
        # elsewhere), so a client must recognise its orders by their contents.
        self.echo_order_tags = True
        self._ids = self.FIRST_ID
        # The emulated exchange's own clock: "open", "closed" or "exchange" (NSE hours).
        self.market_clock = "open"

    # The market clock ---------------------------------------------------------
    def market_is_open(self) -> bool:
        if self.market_clock != "exchange":
            return self.market_clock == "open"
        local = datetime.now(IST)
        return local.weekday() < 5 and time_of_day(9, 15) <= local.time() < time_of_day(15, 30)

    def set_market(self, clock: str) -> None:
        """Open or close the emulated market; at an opening, waiting AMOs go to it."""
        if clock not in ("open", "closed", "exchange"):
            raise ValueError("market clock: open, closed or exchange")
        with self.lock:
            self.market_clock = clock
            if not self.market_is_open():
                return
            for book in self._books():
                for order in list(book.orders.values()):
                    if order.status == AMO_RECEIVED:
                        inst = self.market.get(order.exchange, order.symbol)
                        order.status = "OPEN"
                        if inst is not None:
                            self._evaluate(book, inst, order)

    def _books(self):
        return [u.book for u in self.kite_users.values()] + [
            u.book for u in self.smart_users.values()
        ]

    # Setup ----------------------------------------------------------------
    def add_kite_user(self, user: KiteUser) -> KiteUser:
        with self.lock:
            self.kite_users[user.api_key] = user
        return user

    def add_smart_user(self, user: SmartUser) -> SmartUser:
        with self.lock:
            self.smart_users[user.client_code] = user
        return user

    def restart_empty(self) -> None:
        """What a restart does to the books: every order, trade, holding, position
        and GTT forgotten and order ids counted again from the start (so old ids
        name new orders). Users and sessions stay, so signed-in clients go on."""
        with self.lock:
            for user in [*self.kite_users.values(), *self.smart_users.values()]:
                user.book = Book()
            self._ids = self.FIRST_ID

    def inject(self, broker: str, operation: str, fault: Fault) -> None:
        """Apply `fault` to the next requests of `operation` ("*" for any)."""
        with self.lock:
            self.faults.setdefault((broker, operation), []).append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, broker: str, operation: str) -> Fault | None:
        with self.lock:
            for key in ((broker, operation), (broker, "*")):
                queue = self.faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.pop(0)
                    return fault
        return None

    def record(self, broker: str, operation: str, path: str) -> None:
        with self.lock:
            self.requests.append((broker, operation, path))

    def count(self, broker: str, operation: str) -> int:
        with self.lock:
            return sum(1 for b, o, _ in self.requests if b == broker and o == operation)

    # Tokens ----------------------------------------------------------------
    def issue(self, owner, *, kind: str = "access", lifetime: timedelta | None = None) -> str:
        value = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[value] = Token(
                owner=owner,
                expires_at=datetime.now(UTC) + (lifetime or self.session_lifetime),
                kind=kind,
            )
        return value

    def owner_of(self, value: str, *, kind: str = "access"):
        with self.lock:
            token = self.tokens.get(value)
            if token and token.kind == kind and token.valid:
                return token.owner
        return None

    def revoke(self, value: str) -> None:
        with self.lock:
            if value in self.tokens:
                self.tokens[value].revoked = True

    def expire_sessions(self, owner=None) -> None:
        """End every access token (of `owner`, or of everyone) as if time ran out."""
        with self.lock:
            for token in self.tokens.values():
                if token.kind == "access" and (owner is None or token.owner is owner):
                    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)

    def next_id(self) -> str:
        with self.lock:
            self._ids += 1
            return str(self._ids)

    # Orders ----------------------------------------------------------------
    def place(self, book: Book, inst: Instrument, **fields) -> Order:
        """Routes refuse a regular order while the market is closed; an AMO then
        waits (AMO_RECEIVED) until `set_market` opens it."""
        with self.lock:
            order = Order(
                order_id=self.next_id(), exchange=inst.exchange, symbol=inst.symbol, **fields
            )
            book.orders[order.order_id] = order
            if str(order.variety).lower() == "amo" and not self.market_is_open():
                order.status = AMO_RECEIVED
                return order
            self._evaluate(book, inst, order)
            return order

    def _evaluate(self, book: Book, inst: Instrument, order: Order) -> None:
        """Fill, rest or reject an order against the current price."""
        ltp = self.market.peek(inst)
        if order.side == "BUY" and order.product == "CNC":
            cost = ltp * order.quantity
            if cost > book.cash - book.used_margin:
                order.status = "REJECTED"
                order.status_message = (
                    f"Insufficient funds. Required margin is {cost:.2f} but available margin "
                    f"is {book.cash - book.used_margin:.2f}."
                )
                return
        held = self._sellable(book, inst.exchange, inst.symbol)
        if order.side == "SELL" and order.product == "CNC" and held < order.quantity:
            order.status = "REJECTED"
            order.status_message = "Insufficient holdings to sell."
            return
        if order.order_type in ("SL", "SL-M"):
            order.status = "TRIGGER PENDING"
            return
        crosses = order.order_type == "MARKET" or (
            (order.side == "BUY" and ltp <= order.price)
            or (order.side == "SELL" and ltp >= order.price)
        )
        if not crosses:
            order.status = "OPEN"
            return
        # Every order evaluated here is arriving at the market (placed, modified, or
        # an AMO at the open): a marketable LIMIT takes the resting side's price, the
        # LTP, never its own worse limit (a GTT's stop leg is a LIMIT set beyond the
        # trigger on purpose).
        self._fill(book, order, ltp)

    def _fill(self, book: Book, order: Order, price: Decimal) -> None:
        order.status = "COMPLETE"
        order.filled_quantity = order.quantity
        order.average_price = price
        order.updated_at = datetime.now(UTC)
        book.trades.append(
            Fill(
                self.next_id(),
                order.order_id,
                order.exchange,
                order.symbol,
                order.side,
                order.quantity,
                price,
                order.product,
            )
        )
        signed = order.quantity if order.side == "BUY" else -order.quantity
        value = price * order.quantity
        book.cash -= value if order.side == "BUY" else -value
        key = (order.exchange, order.symbol, order.product)
        pos = book.positions.get(key)
        if order.product == "CNC" and signed < 0:
            # A delivery sale closes the day's own buys first; the rest comes out of
            # holdings. A delivery buy stays in positions until `settle` (as at Kite
            # and AngelOne: today's buys are not holdings yet).
            day_long = max(pos.quantity, 0) if pos is not None else 0
            from_holdings = max(order.quantity - day_long, 0)
            lot = book.holdings.get((order.exchange, order.symbol))
            if lot is not None and from_holdings:
                lot.used_quantity += from_holdings
        if pos is None:
            pos = book.positions[key] = Lot(
                order.exchange, order.symbol, 0, Decimal("0"), product=order.product
            )
        pos.quantity += signed
        if signed > 0:
            pos.buy_quantity += order.quantity
            pos.buy_value += value
        else:
            pos.sell_quantity += order.quantity
            pos.sell_value += value

    def _sellable(self, book: Book, exchange: str, symbol: str) -> int:
        """What a delivery sale may take: holdings and the day's net delivery buys."""
        held = book.holdings.get((exchange, symbol))
        day = book.positions.get((exchange, symbol, "CNC"))
        return (held.quantity - held.used_quantity if held else 0) + max(
            day.quantity if day else 0, 0
        )

    def settle(self) -> None:
        """Roll the emulated trading day over (an explicit action for tests and the
        demo): T1 holdings become delivered, today's sales out of holdings leave
        them, the day's net delivery buys become
        T1 holdings (bought on a previous day, not yet delivered), and delivery
        positions close. Intraday and carry-forward positions stay as they are.
        The trade book is the day's, as at a real broker: a new day clears it."""
        with self.lock:
            for book in self._books():
                book.trades.clear()
                for key, lot in list(book.holdings.items()):
                    lot.quantity -= lot.used_quantity  # today's sales leave the holding
                    lot.used_quantity = lot.t1_quantity = 0
                    if lot.quantity <= 0:
                        del book.holdings[key]
                for key, pos in list(book.positions.items()):
                    if pos.product != "CNC":
                        continue
                    del book.positions[key]
                    if pos.quantity <= 0:
                        continue
                    average = pos.buy_value / pos.buy_quantity
                    lot = book.holdings.get(key[:2])
                    if lot is None:
                        lot = book.holdings[key[:2]] = Lot(pos.exchange, pos.symbol, 0, Decimal(0))
                    total = lot.average_price * lot.quantity + average * pos.quantity
                    lot.quantity += pos.quantity
                    lot.t1_quantity += pos.quantity
                    lot.average_price = (total / lot.quantity).quantize(Decimal("0.01"))

    def cancel(self, order: Order) -> bool:
        with self.lock:
            if order.status not in ("OPEN", "TRIGGER PENDING", AMO_RECEIVED):
                return False
            order.status = "CANCELLED"
            order.updated_at = datetime.now(UTC)
            return True

    def modify(self, book: Book, order: Order, **changes) -> bool:
        with self.lock:
            if order.status not in ("OPEN", "TRIGGER PENDING"):
                return False
            for name, value in changes.items():
                if value is not None:
                    setattr(order, name, value)
            order.updated_at = datetime.now(UTC)
            inst = self.market.get(order.exchange, order.symbol)
            if order.status == "OPEN" and inst is not None:
                self._evaluate(book, inst, order)
            return True


def sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)
