"""The broker plugin's common vocabulary: enums, errors and the value types.

Pure data: no Django, no I/O (the adapter base class is `brokers/adapter.py`).
Everything outside a broker's own module speaks only these types. An adapter
maps its broker's products, order types, statuses, symbols and errors to them,
and declares what it can do in `Capabilities`; calling an operation it lacks
raises `NotSupported`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# --- Enums -----------------------------------------------------


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Product(enum.StrEnum):
    CNC = "CNC"  # delivery
    MIS = "MIS"  # intraday
    NRML = "NRML"  # carry-forward derivatives


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"  # stop-loss limit
    SL_M = "SL-M"  # stop-loss market


class Variety(enum.StrEnum):
    REGULAR = "REGULAR"
    AMO = "AMO"
    CO = "CO"
    ICEBERG = "ICEBERG"


class Validity(enum.StrEnum):
    DAY = "DAY"
    IOC = "IOC"


class OrderStatus(enum.StrEnum):
    """Where an order stands at the broker, in the app's words."""

    PENDING = "PENDING"  # the broker has it but has not put it on the exchange yet
    OPEN = "OPEN"
    TRIGGER_PENDING = "TRIGGER_PENDING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    EXECUTED = "EXECUTED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.EXECUTED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


class ConnectFlow(enum.StrEnum):
    OAUTH_REDIRECT = "oauth_redirect"  # browser goes to the broker's login, comes back with a token
    CREDENTIALS_TOTP = "credentials_totp"  # client code + PIN + TOTP typed into our form
    NONE = "none"  # nothing to connect (paper trading)


class EndpointClass(enum.StrEnum):
    """Rate limits are declared per class of endpoint."""

    ORDERS = "orders"  # place / modify / cancel
    QUOTES = "quotes"
    HISTORY = "history"
    PORTFOLIO = "portfolio"  # order book, trades, holdings, positions
    SESSION = "session"  # login, token refresh
    OTHER = "other"


class GttKind(enum.StrEnum):
    SINGLE = "single"
    OCO = "oco"


# --- Errors -----------------------------------------------------


class BrokerError(Exception):
    """Anything a broker call can fail with. `message` is safe to show a user."""

    def __init__(self, message: str, *, code: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after


class AuthExpired(BrokerError):
    """The session is gone or was never valid: the account must reconnect."""


class RateLimited(BrokerError):
    """Too many requests: wait `retry_after` seconds."""


class OrderRejected(BrokerError):
    """The broker refused the order; it was not placed."""


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or failed; nothing was changed there."""


class OutcomeUnknown(BrokerError):
    """The request may or may not have taken effect (a timeout after sending).

    Never retry: reconcile by looking for the order's client tag.
    """


class InvalidCredentials(BrokerError):
    """Wrong API key, secret, PIN or TOTP while connecting."""


class NotSupported(BrokerError):
    """The adapter does not offer this operation (see its capabilities)."""


class MasterFormatError(ValueError):
    """An instrument master that cannot be trusted; the message names the row."""


class ExportFormatError(ValueError):
    """A file that is not the broker's trade export; the message says what is missing."""


# --- Declarations -----------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` per `per_seconds` for one endpoint class, per account."""

    requests: int
    per_seconds: float = 1.0


@dataclass(frozen=True)
class Capabilities:
    gtt_kinds: frozenset[GttKind] = frozenset()
    gtt_modify: bool = False  # the broker can change an armed GTT in place
    margin_preview: bool = False
    charges_preview: bool = False
    amo: bool = False
    modify: bool = True
    products: frozenset[Product] = frozenset(Product)
    order_types: frozenset[OrderType] = frozenset(OrderType)
    varieties: frozenset[Variety] = frozenset({Variety.REGULAR})
    # Order validities offered (DAY always; IOC where the broker takes it).
    validities: frozenset[Validity] = frozenset({Validity.DAY})
    # Takes a disclosed quantity (shown to the market) smaller than the order's.
    disclosed_quantity: bool = False
    exchanges: frozenset[str] = frozenset({"NSE", "BSE"})
    # Candle intervals in the app's words: 1m 3m 5m 10m 15m 30m 1h 1d.
    history_intervals: tuple[str, ...] = ()
    # The longest span (days) one history request may cover, per interval.
    history_max_days: Mapping[str, int] = field(default_factory=dict)
    quote_batch_size: int = 1
    # Every window applies: (10 per second, 400 per minute) means both.
    rate_limits: Mapping[EndpointClass, tuple[RateLimit, ...]] = field(default_factory=dict)
    session_refresh: bool = False  # can renew a session without the user
    # The session ends every day (early morning) and only the user can log in again:
    # a reminder before the open is worth sending (notifications).
    daily_login: bool = False
    resettable: bool = False  # a simulated account that can start over (paper trading)

    @property
    def gtt(self) -> bool:
        return bool(self.gtt_kinds)

    @property
    def gtt_oco(self) -> bool:
        return GttKind.OCO in self.gtt_kinds

    @property
    def history(self) -> bool:
        return bool(self.history_intervals)


@dataclass(frozen=True)
class CredentialField:
    """One value the user types to set up an account, declared by the adapter."""

    name: str
    label: str
    secret: bool = True  # encrypted at rest, never shown back ("set")
    required: bool = True
    help_text: str = ""
    # Asked on every connect (PIN, TOTP code) rather than stored with the account...
    per_connect: bool = False
    # ...unless the account has this stored field (a stored TOTP secret replaces the code).
    unless_stored: str = ""
    input_mode: str = "text"  # "numeric" for PIN/TOTP keypads


# --- Values -----------------------------------------------------


@dataclass(frozen=True)
class Session:
    """What a successful connect/refresh returns. `data` is stored encrypted."""

    data: Mapping[str, Any]
    expires_at: datetime | None
    broker_user_id: str = ""
    user_name: str = ""


@dataclass(frozen=True)
class Profile:
    broker_user_id: str
    name: str
    email: str = ""
    exchanges: tuple[str, ...] = ()
    products: tuple[str, ...] = ()


@dataclass(frozen=True)
class Funds:
    available_cash: Decimal
    used_margin: Decimal
    net: Decimal
    collateral: Decimal = Decimal("0")


@dataclass(frozen=True)
class Quote:
    exchange: str
    symbol: str
    last_price: Decimal
    token: str = ""
    close: Decimal | None = None
    volume: int | None = None
    timestamp: datetime | None = None
    high: Decimal | None = None  # the day's, where the broker gives them
    low: Decimal | None = None


@dataclass(frozen=True)
class InstrumentRef:
    """Names an instrument at one broker (its own symbol and token)."""

    exchange: str
    symbol: str
    token: str = ""


@dataclass(frozen=True)
class OrderRequest:
    instrument: InstrumentRef
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    tag: str  # unique per order, echoed by the broker: how sync finds a lost order
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    validity: Validity = Validity.DAY
    variety: Variety = Variety.REGULAR
    disclosed_quantity: int = 0


@dataclass(frozen=True)
class OrderChange:
    """A modify: only the fields that change are set."""

    quantity: int | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    order_type: OrderType | None = None
    validity: Validity | None = None


@dataclass(frozen=True)
class BrokerOrder:
    broker_order_id: str
    status: OrderStatus
    instrument: InstrumentRef
    side: Side
    quantity: int
    filled_quantity: int
    order_type: OrderType
    product: Product
    tag: str = ""
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    average_price: Decimal | None = None
    status_message: str = ""
    broker_status: str = ""  # the broker's own word, kept for the history
    variety: Variety = Variety.REGULAR
    placed_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Trade:
    trade_id: str
    broker_order_id: str
    instrument: InstrumentRef
    side: Side
    quantity: int
    price: Decimal
    product: Product
    traded_at: datetime | None = None


@dataclass(frozen=True)
class ExportedTrade:
    """One row of a broker's own trade export (`BrokerAdapter.read_trade_export`):
    the fill it records, or `error`, why it could not be read."""

    line: int  # 1-based line of the file
    trade: Trade | None = None  # traded_at always set (India time when the file has no zone)
    trade_date: date | None = None  # the India date of the fill
    time_known: bool = True  # False: the file gives the day only (traded_at is 09:15 that day)
    error: str = ""


@dataclass(frozen=True)
class Holding:
    instrument: InstrumentRef
    quantity: int
    t1_quantity: int
    average_price: Decimal
    last_price: Decimal
    close_price: Decimal | None = None
    pnl: Decimal | None = None
    day_change: Decimal | None = None
    isin: str = ""
    product: Product = Product.CNC
    # Shares bought with margin (MTF): a separate lot, not in `quantity` or its P&L.
    mtf_quantity: int = 0


@dataclass(frozen=True)
class Position:
    instrument: InstrumentRef
    product: Product
    quantity: int
    average_price: Decimal
    last_price: Decimal
    pnl: Decimal
    realised: Decimal = Decimal("0")
    unrealised: Decimal = Decimal("0")
    m2m: Decimal = Decimal("0")
    buy_quantity: int = 0
    sell_quantity: int = 0
    buy_average: Decimal = Decimal("0")
    sell_average: Decimal = Decimal("0")
    day_buy_quantity: int = 0
    day_sell_quantity: int = 0
    overnight_quantity: int = 0


@dataclass(frozen=True)
class MarginPreview:
    total: Decimal
    charges: Decimal | None = None
    breakdown: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargesPreview:
    total: Decimal
    breakdown: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class GttLegResult:
    """What the broker did with one leg when its GTT fired."""

    order_id: str = ""  # the order it placed ("" when placing failed)
    status: str = ""  # "success" / "failed"; "" for a leg that did not fire
    reason: str = ""  # the broker's rejection reason when placing failed

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True)
class GttOrder:
    gtt_id: str
    kind: GttKind
    instrument: InstrumentRef
    trigger_values: tuple[Decimal, ...]
    last_price: Decimal
    legs: tuple[OrderRequest, ...]
    status: str = "active"  # active / triggered / cancelled / expired / rejected
    # The broker order placed for each leg once triggered ("" for a leg not fired).
    triggered_order_ids: tuple[str, ...] = ()
    # Per leg, the outcome of placing its order (empty when the broker says nothing).
    leg_results: tuple[GttLegResult, ...] = ()


@dataclass(slots=True)
class InstrumentRow:
    """One row of a broker's instrument master, already normalised.

    Not frozen: masters have lakhs of rows and frozen construction is slower."""

    exchange: str
    trading_symbol: str
    token: str
    name: str
    instrument_type: str  # EQ, INDEX, FUT, CE, PE, ...
    segment: str = ""
    lot_size: int = 1
    tick_size: Decimal = Decimal("0.05")
    expiry: date | None = None
    strike: Decimal | None = None
    canonical_symbol: str = ""
    series: str = ""


@dataclass(frozen=True)
class Candle:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


# --- The adapter -----------------------------------------------------
