"""AngelOne, through the official `smartapi-python` client (SmartAPI REST).

Connect flow: client code + PIN + TOTP on our form (or, if the user chose to
store the PIN and TOTP secret, computed with pyotp for unattended re-login).
The session is a JWT (its `exp` claim is the expiry), a refresh token and a
feed token; `generateTokens` renews the JWT with the refresh token.

The client library is imported lazily and contained (see `_smart_connect`):
at import it calls a public IP-echo service with no timeout, its constructor
writes a dated `logs/` folder into the working directory, and on any error it
logs the request (PIN and TOTP included) and headers through logzero.

Rate limits (SmartAPI forum announcement "Changes in API Rate Limit", per
endpoint and per user): placeOrder/modifyOrder/cancelOrder 20/s, 500/min,
1000/h; getLtpData and market quote 10/s, 500/min, 5000/h; getCandleData 3/s
and 180/min; getOrderBook, getTradeBook, getHolding, getPosition 1/s; getRMS
2/s; loginByPassword and generateTokens 1/s.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyotp
import requests
from django.conf import settings

from .base import (
    AuthExpired,
    BrokerAdapter,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    Candle,
    Capabilities,
    ConnectFlow,
    CredentialField,
    EndpointClass,
    Funds,
    Holding,
    InstrumentRef,
    InstrumentRow,
    InvalidCredentials,
    NotSupported,
    OrderChange,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    OutcomeUnknown,
    Position,
    Product,
    Profile,
    Quote,
    RateLimit,
    RateLimited,
    Session,
    Side,
    Trade,
    Validity,
    Variety,
)
from .mapping import (
    EXCHANGES,
    RowReader,
    _decimal_text,
    _parse_date_text,
    dec,
    split_pnl,
    split_series,
    to_int,
)
from .records import MasterRecords, json_array_chunks, json_object_row, rows_of
from .transport import transport_error

logger = logging.getLogger(__name__)
IST = ZoneInfo("Asia/Kolkata")

PRODUCTS = {
    "DELIVERY": Product.CNC,
    "INTRADAY": Product.MIS,
    "CARRYFORWARD": Product.NRML,
    "MARGIN": Product.NRML,
    "BO": Product.MIS,
}
PRODUCT_NAMES = {Product.CNC: "DELIVERY", Product.MIS: "INTRADAY", Product.NRML: "CARRYFORWARD"}
ORDER_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOPLOSS_LIMIT": OrderType.SL,
    "STOPLOSS_MARKET": OrderType.SL_M,
}
ORDER_TYPE_NAMES = {v: k for k, v in ORDER_TYPES.items()}

INTERVALS = {
    "1m": "ONE_MINUTE",
    "3m": "THREE_MINUTE",
    "5m": "FIVE_MINUTE",
    "10m": "TEN_MINUTE",
    "15m": "FIFTEEN_MINUTE",
    "30m": "THIRTY_MINUTE",
    "1h": "ONE_HOUR",
    "1d": "ONE_DAY",
}

# Every order status SmartAPI documents (lower-case in its order book).
STATUSES = {
    "open": OrderStatus.OPEN,
    "complete": OrderStatus.EXECUTED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
    "trigger pending": OrderStatus.TRIGGER_PENDING,
    "open pending": OrderStatus.PENDING,
    "validation pending": OrderStatus.PENDING,
    "put order req received": OrderStatus.PENDING,
    "after market order req received": OrderStatus.PENDING,
    "modify validation pending": OrderStatus.OPEN,
    "modify pending": OrderStatus.OPEN,
    "modified": OrderStatus.OPEN,
    "not modified": OrderStatus.OPEN,
    "cancel pending": OrderStatus.OPEN,
    "not cancelled": OrderStatus.OPEN,
    "cancelled after market order": OrderStatus.CANCELLED,
    "modify after market order req received": OrderStatus.PENDING,
}

# SmartAPI error codes (documentation "Error codes", and the forum for AB1050/AB1051).
TOKEN_ERRORS = {"AG8001", "AG8002", "AG8003", "AB8050", "AB8051", "AB1010", "AB1011"}
LOGIN_ERRORS = {
    "AB1000",
    "AB1001",
    "AB1002",
    "AB1005",
    "AB1032",
    "AB1050",
    "AB1051",
    "AB7001",
    "AG8004",
}
AMBIGUOUS_ERRORS = {"AB1004", "AB2000", "AB2001"}  # "something went wrong": maybe placed


def map_status(raw: str | None, *, filled: int, quantity: int) -> OrderStatus:
    word = (raw or "").strip().lower()
    status = STATUSES.get(word)
    if status is None:
        logger.warning("angelone: unknown order status %r treated as pending", raw)
        return OrderStatus.PENDING
    if status is OrderStatus.OPEN and 0 < filled < quantity:
        return OrderStatus.PARTIALLY_FILLED
    return status


# Strikes and tick sizes in the master are in paise; currency derivatives use
# a divisor of 10,000,000 (SmartAPI forum, "Number format query in instrument master").
PRICE_DIVISOR = {"CDS": Decimal(10_000_000), "BCD": Decimal(10_000_000)}
HUNDRED = Decimal(100)
MASTER_TYPES = {"": "EQ", "AMXIDX": "INDEX", "INDEX": "INDEX"}


def _clean_fields(item: dict) -> tuple | None:
    """The fields of a well-formed row (all strings, all parseable), or None.

    The fast path of a master refresh: a few lakh rows, nine fields each. Any
    doubt (a missing field, a number, a bad value) returns None and the row
    goes through RowReader, which says what is wrong with it."""
    get = item.get
    exchange, symbol, raw_type = get("exch_seg"), get("symbol"), get("instrumenttype")
    token, name, lots = get("token"), get("name"), get("lotsize")
    strike, tick, expiry = get("strike"), get("tick_size"), get("expiry")
    if not (
        type(exchange) is type(symbol) is type(raw_type) is type(token) is type(name) is str
        and type(lots) is type(strike) is type(tick) is type(expiry) is str
    ):
        return None
    exchange, symbol, token = exchange.strip().upper(), symbol.strip(), token.strip()
    strike, tick, lots = _decimal_text(strike.strip()), _decimal_text(tick.strip()), lots.strip()
    lot = _decimal_text(lots) if lots else None
    expiry = expiry.strip()
    day = _parse_date_text(expiry) if expiry else None
    if (
        exchange not in EXCHANGES
        or not symbol
        or not token.isdigit()
        or strike is None
        or tick is None
        or lot is None
        or lot < 1
        or lot != lot.to_integral_value()
        or (expiry and day is None)
    ):
        return None
    return (
        exchange,
        symbol,
        raw_type.strip().upper(),
        strike,
        tick,
        token,
        name.strip(),
        int(lot),
        day,
    )


def smartapi_record(number: int, item: dict, source: str) -> InstrumentRow:
    fields = _clean_fields(item)
    if fields is None:  # the careful path: names the first bad field
        r = RowReader(number, item, source)
        fields = (
            r.exchange("exch_seg"),
            r.text("symbol"),
            r.text("instrumenttype", required=False).upper(),
            r.decimal("strike"),
            r.decimal("tick_size"),
            r.token("token"),
            r.text("name", required=False),
            r.integer("lotsize"),
            r.date("expiry"),
        )
    exchange, symbol, raw_type, strike, tick, token, name, lot, expiry = fields
    if raw_type.startswith("OPT"):
        kind = symbol[-2:].upper()
        if kind not in ("CE", "PE"):
            RowReader(number, item, source).fail(
                f"option symbol {symbol!r} does not end in CE or PE"
            )
    elif raw_type.startswith("FUT"):
        kind = "FUT"
    else:
        kind = MASTER_TYPES.get(raw_type, raw_type)
    divisor = PRICE_DIVISOR.get(exchange, HUNDRED)
    tick = tick / divisor
    canonical, series = symbol, ""
    if kind == "EQ":
        canonical, series = split_series(symbol)
        series = series or ("EQ" if exchange == "NSE" else "")
    elif kind == "INDEX":
        canonical = symbol.upper()
    return InstrumentRow(
        exchange=exchange,
        trading_symbol=symbol,
        canonical_symbol=canonical,
        token=token,
        name=name,
        instrument_type=kind,
        segment=raw_type,
        series=series,
        lot_size=lot,
        tick_size=tick if tick > 0 else Decimal("0.05"),
        expiry=expiry,
        strike=strike / divisor if kind in ("CE", "PE") and strike > 0 else None,
    )


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying (we only need the time)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (IndexError, KeyError, ValueError, TypeError):
        return None


# --- The contained client -----------------------------------------------------

_import_lock = threading.Lock()
_client_class = None


def _smart_connect():
    """Import SmartConnect once, without its side effects, and return a quiet subclass."""
    global _client_class
    with _import_lock:
        if _client_class is not None:
            return _client_class
        real_get = requests.get

        def no_ip_lookup(*args, **kwargs):
            raise requests.ConnectionError("SigmaTrader does not send the IP-echo request")

        import logzero

        # logzero's logger prints requests with PINs, TOTPs and keys: silent from the start.
        logzero.logger.disabled = True
        requests.get = no_ip_lookup  # only for the import: the class body calls requests.get
        try:
            from SmartApi.smartConnect import SmartConnect
        finally:
            requests.get = real_get

        class QuietSmartConnect(SmartConnect):
            """SmartConnect without the constructor's log folder and logzero file."""

            def __init__(
                self,
                *,
                api_key,
                root,
                timeout,
                access_token=None,
                refresh_token=None,
                feed_token=None,
                user_id=None,
            ):
                # Mirrors SmartConnect.__init__ (smartapi-python 1.5.x) minus its
                # os.makedirs("logs/<date>") and logzero.logfile() calls.
                self.debug = False
                self.api_key = api_key
                self.session_expiry_hook = None
                self.disable_ssl = False
                self.access_token = access_token
                self.refresh_token = refresh_token
                self.feed_token = feed_token
                self.userId = user_id
                self.proxies = {}
                self.root = root
                self.timeout = timeout
                self.Authorization = None
                self.clientLocalIP = self.clientLocalIp
                self.clientPublicIP = self.clientPublicIp
                self.privateKey = api_key
                self.reqsession = requests

        _client_class = QuietSmartConnect
        return _client_class


class SmartAPIError(Exception):
    """A `status: false` answer, before it is mapped."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def checked(response) -> dict | list | None:
    """The `data` of a SmartAPI answer, or SmartAPIError for either error envelope."""
    if not isinstance(response, dict):
        raise SmartAPIError("Unexpected answer from AngelOne.", "")
    if response.get("status") is True or response.get("success") is True:
        return response.get("data")
    code = str(response.get("errorcode") or response.get("errorCode") or "")
    raise SmartAPIError(str(response.get("message") or "AngelOne refused the request."), code)


def translate(exc: Exception, *, placement: bool = False, login: bool = False) -> BrokerError:
    if isinstance(exc, BrokerError):
        return exc
    if isinstance(exc, SmartAPIError):
        text = f"AngelOne says: {exc.message}" + (f" ({exc.code})" if exc.code else "")
        if login and (exc.code in LOGIN_ERRORS or not exc.code):
            return InvalidCredentials(text, code=exc.code)
        if exc.code in TOKEN_ERRORS:
            return AuthExpired(text, code=exc.code)
        if exc.code in AMBIGUOUS_ERRORS:
            if placement:
                return OutcomeUnknown(text, code=exc.code)
            return BrokerUnavailable(text, code=exc.code)
        if placement:
            return OrderRejected(text, code=exc.code)
        return BrokerError(text, code=exc.code)
    name = type(exc).__name__
    message = str(getattr(exc, "message", "") or exc)
    if name == "DataException" and "exceeding access rate" in message:
        return RateLimited("AngelOne rate limit reached.", code="rate", retry_after=1.0)
    return transport_error(exc, broker="AngelOne", placement=placement)


class AngelOneAdapter(BrokerAdapter):
    name = "angelone"
    label = "AngelOne"
    connect_flow = ConnectFlow.CREDENTIALS_TOTP
    credential_fields = (
        CredentialField(
            "api_key", "SmartAPI key", help_text="From your app at smartapi.angelone.in."
        ),
        CredentialField("client_code", "Client code", secret=False),
        CredentialField(
            "pin",
            "PIN (optional)",
            required=False,
            input_mode="numeric",
            help_text="Store it, with the TOTP secret, only if SigmaTrader should log in again "
            "by itself each day. Otherwise you type it when you connect.",
        ),
        CredentialField(
            "totp_secret",
            "TOTP secret (optional)",
            required=False,
            help_text="The key behind your authenticator's 6-digit codes, stored encrypted.",
        ),
        CredentialField(
            "connect_pin", "PIN", per_connect=True, unless_stored="pin", input_mode="numeric"
        ),
        CredentialField(
            "totp",
            "TOTP code",
            per_connect=True,
            unless_stored="totp_secret",
            input_mode="numeric",
            help_text="The 6-digit code from your authenticator.",
        ),
    )
    capabilities = Capabilities(
        amo=True,
        modify=True,
        products=frozenset({Product.CNC, Product.MIS, Product.NRML}),
        order_types=frozenset(OrderType),
        varieties=frozenset({Variety.REGULAR, Variety.AMO}),
        validities=frozenset({Validity.DAY, Validity.IOC}),
        disclosed_quantity=True,
        exchanges=frozenset({"NSE", "BSE", "NFO", "BFO", "MCX", "CDS"}),
        quote_batch_size=50,  # market quote takes up to 50 tokens per call
        history_intervals=tuple(INTERVALS),
        # SmartAPI historical API: days per request by interval.
        history_max_days={
            "1m": 30,
            "3m": 60,
            "5m": 100,
            "10m": 100,
            "15m": 200,
            "30m": 200,
            "1h": 400,
            "1d": 2000,
        },
        rate_limits={
            EndpointClass.ORDERS: (RateLimit(20, 1), RateLimit(500, 60), RateLimit(1000, 3600)),
            EndpointClass.QUOTES: (RateLimit(10, 1), RateLimit(500, 60), RateLimit(5000, 3600)),
            EndpointClass.HISTORY: (RateLimit(3, 1), RateLimit(180, 60)),
            # Per endpoint (order book, trade book, holdings, positions: 1/s each).
            EndpointClass.PORTFOLIO: (RateLimit(1, 1),),
            EndpointClass.SESSION: (RateLimit(1, 1),),
            EndpointClass.OTHER: (RateLimit(2, 1),),
        },
        session_refresh=True,
    )

    def _client(self, *, timeout: float | None = None):
        return _smart_connect()(
            api_key=self.credentials.get("api_key", ""),
            root=settings.SMARTAPI_API_ROOT,
            timeout=timeout or settings.BROKER_READ_TIMEOUT,
            access_token=self.session.get("jwt_token"),
            refresh_token=self.session.get("refresh_token"),
            feed_token=self.session.get("feed_token"),
            user_id=self.credentials.get("client_code"),
        )

    def _read(self, endpoint: EndpointClass, call, bucket: str = ""):
        def attempt():
            try:
                return checked(call(self._client()))
            except Exception as exc:
                raise translate(exc) from exc

        return self.read(endpoint, attempt, bucket)

    def _session_from(self, data: Mapping) -> Session:
        jwt = str(data.get("jwtToken", "")).removeprefix("Bearer ")
        return Session(
            data={
                "jwt_token": jwt,
                "refresh_token": data.get("refreshToken", ""),
                "feed_token": data.get("feedToken", ""),
            },
            expires_at=jwt_expiry(jwt),
            broker_user_id=self.credentials.get("client_code", ""),
        )

    # Connecting ----------------------------------------------------------------
    def connect(self, *, per_connect: Mapping[str, str]) -> Session:
        client_code = self.credentials.get("client_code", "")
        pin = (per_connect.get("connect_pin") or self.credentials.get("pin") or "").strip()
        totp = (per_connect.get("totp") or "").strip()
        if not totp and self.credentials.get("totp_secret"):
            try:
                totp = pyotp.TOTP(self.credentials["totp_secret"]).now()
            except (ValueError, TypeError) as exc:  # not base32, or too short for pyotp
                raise InvalidCredentials(
                    "The stored TOTP secret is not valid: paste the full key from AngelOne again."
                ) from exc
        if not client_code or not pin or not totp:
            raise InvalidCredentials("Client code, PIN and TOTP code are all needed to connect.")
        self.throttle(EndpointClass.SESSION)
        try:
            client = self._client()
            data = checked(
                client._postRequest(
                    "api.login", {"clientcode": client_code, "password": pin, "totp": totp}
                )
            )
        except Exception as exc:
            raise translate(exc, login=True) from exc
        return self._session_from(data or {})

    def refresh(self) -> Session:
        refresh_token = self.session.get("refresh_token")
        if not refresh_token:
            raise AuthExpired("No refresh token: log in again.")
        self.throttle(EndpointClass.SESSION)
        try:
            data = checked(
                self._client()._postRequest("api.token", {"refreshToken": refresh_token})
            )
        except Exception as exc:
            raise translate(exc) from exc
        return self._session_from({**(data or {}), "refreshToken": refresh_token})

    def disconnect(self) -> None:
        if not self.session.get("jwt_token"):
            return
        try:
            self._client().terminateSession(self.credentials.get("client_code", ""))
        except Exception as exc:  # best effort: the session is wiped here anyway
            logger.info("angelone: logout at the broker failed: %s", type(exc).__name__)

    # Reading ----------------------------------------------------------------
    def profile(self) -> Profile:
        data = self._read(
            EndpointClass.OTHER, lambda c: c.getProfile(self.session.get("refresh_token"))
        )
        data = data or {}
        return Profile(
            broker_user_id=data.get("clientcode", ""),
            name=data.get("name", ""),
            email=data.get("email") or "",
            exchanges=tuple(data.get("exchanges") or ()),
            products=tuple(data.get("products") or ()),
        )

    def funds(self) -> Funds:
        return self.map_funds(self._read(EndpointClass.OTHER, lambda c: c.rmsLimit()) or {})

    @staticmethod
    def map_funds(data: Mapping) -> Funds:
        return Funds(
            # `net` is what can be used now (as Kite's `net`); `availablecash`
            # is the ledger cash before utilised debits.
            available_cash=dec(data.get("net")),
            used_margin=dec(data.get("utiliseddebits")),
            net=dec(data.get("net")),
            collateral=dec(data.get("collateral")),
        )

    def quotes(self, instruments: list[InstrumentRef]) -> dict[InstrumentRef, Quote]:
        missing = [i for i in instruments if not i.token]
        if missing:
            raise BrokerError(f"AngelOne needs instrument tokens for quotes ({missing[0].symbol}).")
        result: dict[InstrumentRef, Quote] = {}
        size = self.capabilities.quote_batch_size
        for start in range(0, len(instruments), size):
            batch = instruments[start : start + size]
            by_key = {(i.exchange, str(i.token)): i for i in batch}
            tokens: dict[str, list[str]] = {}
            for exchange, token in by_key:
                tokens.setdefault(exchange, []).append(token)
            data = (
                self._read(EndpointClass.QUOTES, lambda c, t=tokens: c.getMarketData("OHLC", t))
                or {}
            )
            for row in data.get("fetched") or []:
                ref = by_key.get((row.get("exchange"), str(row.get("symbolToken"))))
                if ref is None:
                    continue
                result[ref] = Quote(
                    exchange=ref.exchange,
                    symbol=ref.symbol,
                    token=ref.token,
                    last_price=dec(row.get("ltp")),
                    close=dec(row.get("close"), default=None),
                    volume=to_int(row.get("tradeVolume"), 0) or None,
                )
        return result

    def order_book(self) -> list[BrokerOrder]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda c: c.orderBook(), "orderbook")
        return [self.map_order(row) for row in rows or []]

    @staticmethod
    def map_order(row: Mapping) -> BrokerOrder:
        quantity, filled = to_int(row.get("quantity")), to_int(row.get("filledshares"))
        raw_status = row.get("orderstatus") or row.get("status")
        variety = str(row.get("variety", "")).upper()
        return BrokerOrder(
            broker_order_id=str(row.get("orderid", "")),
            status=map_status(raw_status, filled=filled, quantity=quantity),
            broker_status=str(raw_status or ""),
            instrument=InstrumentRef(
                row.get("exchange", ""),
                row.get("tradingsymbol", ""),
                str(row.get("symboltoken", "")),
            ),
            side=Side(str(row.get("transactiontype", "BUY")).upper()),
            quantity=quantity,
            filled_quantity=filled,
            order_type=ORDER_TYPES.get(row.get("ordertype", ""), OrderType.MARKET),
            product=PRODUCTS.get(row.get("producttype", ""), Product.CNC),
            tag=row.get("ordertag") or "",
            price=dec(row.get("price"), default=None),
            trigger_price=dec(row.get("triggerprice"), default=None),
            average_price=dec(row.get("averageprice"), default=None),
            status_message=row.get("text") or "",
            variety=Variety.AMO if variety == "AMO" else Variety.REGULAR,
        )

    def trades(self) -> list[Trade]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda c: c.tradeBook(), "tradebook")
        return [
            Trade(
                trade_id=str(row.get("fillid", "")),
                broker_order_id=str(row.get("orderid", "")),
                instrument=InstrumentRef(row.get("exchange", ""), row.get("tradingsymbol", "")),
                side=Side(str(row.get("transactiontype", "BUY")).upper()),
                quantity=to_int(row.get("fillsize")),
                price=dec(row.get("fillprice")),
                product=PRODUCTS.get(row.get("producttype", ""), Product.CNC),
            )
            for row in rows or []
        ]

    def holdings(self) -> list[Holding]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda c: c.holding(), "holding")
        return [self.map_holding(row) for row in rows or []]

    @staticmethod
    def map_holding(row: Mapping) -> Holding:
        t1 = to_int(row.get("t1quantity"))
        return Holding(
            instrument=InstrumentRef(
                row.get("exchange", ""),
                row.get("tradingsymbol", ""),
                str(row.get("symboltoken", "")),
            ),
            quantity=to_int(row.get("quantity")) + t1,
            t1_quantity=t1,
            average_price=dec(row.get("averageprice")),
            last_price=dec(row.get("ltp")),
            close_price=dec(row.get("close"), default=None),
            pnl=dec(row.get("profitandloss"), default=None),
            isin=row.get("isin") or "",
        )

    def positions(self) -> list[Position]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda c: c.position(), "position") or []
        # The documented getPosition rows carry no `ltp` (nor `pnl`): fetch the
        # price of every row that lacks it, in batched quote calls.
        wanting = {_position_ref(row): row for row in rows if _blank(row.get("ltp"))}
        prices = {}
        if wanting:
            quotes = self.quotes([ref for ref in wanting if ref.token])
            prices = {ref: quote.last_price for ref, quote in quotes.items() if quote.last_price}
            lacking = [
                ref.symbol
                for ref, row in wanting.items()
                if ref not in prices and to_int(row.get("netqty")) and _blank(row.get("pnl"))
            ]
            if lacking:
                raise BrokerUnavailable(
                    "AngelOne sent positions without a last price or P&L, and no price "
                    f"could be fetched for {', '.join(lacking)}; kept the previous positions."
                )
        return [self.map_position(row, ltp=prices.get(_position_ref(row))) for row in rows]

    @staticmethod
    def map_position(row: Mapping, *, ltp: Decimal | None = None) -> Position:
        """`ltp`: the last price fetched for a row without one. P&L is the row's
        `pnl`, else netvalue + net quantity × last price; never a made-up 0."""
        buy_qty, sell_qty = to_int(row.get("buyqty")), to_int(row.get("sellqty"))
        quantity = to_int(row.get("netqty"))
        last = ltp if _blank(row.get("ltp")) else dec(row.get("ltp"))
        if not _blank(row.get("pnl")):
            pnl = dec(row.get("pnl"))
        elif last is not None or not quantity:
            pnl = dec(row.get("netvalue")) + quantity * (last or Decimal(0))
        else:
            raise BrokerUnavailable(
                f"AngelOne sent the {row.get('tradingsymbol', '')} position without a last "
                "price or P&L."
            )
        if _blank(row.get("realised")) and _blank(row.get("unrealised")):
            # Without the split: what the open quantity makes at the last price is
            # unrealised (against the average of the side it was opened on), the rest booked.
            side_average = dec(row.get("buyavgprice" if quantity > 0 else "sellavgprice"))
            realised, unrealised = split_pnl(
                pnl=pnl,
                quantity=quantity,
                average=side_average or dec(row.get("avgnetprice")),
                last=last or Decimal(0),
            )
        else:
            realised, unrealised = dec(row.get("realised")), dec(row.get("unrealised"))
        return Position(
            instrument=InstrumentRef(
                row.get("exchange", ""),
                row.get("tradingsymbol", ""),
                str(row.get("symboltoken", "")),
            ),
            product=PRODUCTS.get(row.get("producttype", ""), Product.NRML),
            quantity=quantity,
            average_price=dec(row.get("avgnetprice")),
            last_price=last if last is not None else Decimal(0),
            pnl=pnl,
            realised=realised,
            unrealised=unrealised,
            m2m=pnl,
            buy_quantity=buy_qty,
            sell_quantity=sell_qty,
            buy_average=dec(row.get("buyavgprice")),
            sell_average=dec(row.get("sellavgprice")),
            day_buy_quantity=buy_qty - to_int(row.get("cfbuyqty")),
            day_sell_quantity=sell_qty - to_int(row.get("cfsellqty")),
            overnight_quantity=to_int(row.get("cfbuyqty")) - to_int(row.get("cfsellqty")),
        )

    def candles(
        self, instrument: InstrumentRef, *, interval: str, start: datetime, end: datetime
    ) -> list[Candle]:
        if interval not in INTERVALS:
            raise NotSupported(f"AngelOne has no {interval} candles.")
        if not instrument.token:
            raise BrokerError(
                f"AngelOne needs the instrument token for candles ({instrument.symbol})."
            )
        params = {
            "exchange": instrument.exchange,
            "symboltoken": instrument.token,
            "interval": INTERVALS[interval],
            "fromdate": start.astimezone(IST).strftime("%Y-%m-%d %H:%M"),
            "todate": end.astimezone(IST).strftime("%Y-%m-%d %H:%M"),
        }
        rows = self._read(EndpointClass.HISTORY, lambda c: c.getCandleData(params))
        return [
            Candle(
                at=datetime.fromisoformat(row[0]),
                open=dec(row[1]),
                high=dec(row[2]),
                low=dec(row[3]),
                close=dec(row[4]),
                volume=to_int(row[5]),
            )
            for row in rows or []
        ]

    @classmethod
    def public_instrument_master_url(cls) -> str | None:
        return settings.SMARTAPI_INSTRUMENTS_URL

    def instrument_master(self) -> Iterator[InstrumentRow]:
        """The public OpenAPIScripMaster.json, streamed (it is tens of MB)."""
        try:
            response = requests.get(
                settings.SMARTAPI_INSTRUMENTS_URL,
                stream=True,
                timeout=max(settings.BROKER_READ_TIMEOUT, 30),
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            raise BrokerUnavailable(f"AngelOne instrument master download failed: {exc}") from exc
        with response:
            response.raw.decode_content = True
            yield from self.parse_instrument_master(response.raw)

    # Bump when smartapi_record maps the same record differently: every row is re-mapped once.
    MASTER_VERSION = "1"

    @classmethod
    def master_records(cls, stream) -> MasterRecords:
        source = "AngelOne instruments"
        return MasterRecords(
            chunks=lambda: json_array_chunks(stream, source=source),
            row=json_object_row(smartapi_record, source),
            salt=f"angelone:{cls.MASTER_VERSION}",
        )

    @classmethod
    def parse_instrument_master(cls, stream) -> Iterator[InstrumentRow]:
        return rows_of(cls.master_records(stream))

    # Orders ----------------------------------------------------------------
    def _variety(self, order_type: OrderType, variety: Variety) -> str:
        if variety is Variety.AMO:
            return "AMO"
        return "STOPLOSS" if order_type in (OrderType.SL, OrderType.SL_M) else "NORMAL"

    def place_order(self, order: OrderRequest) -> str:
        if not order.instrument.token:
            raise OrderRejected("AngelOne needs the instrument's token to place an order.")
        self.throttle(EndpointClass.ORDERS)  # waits before sending; never retries after
        params = {
            "variety": self._variety(order.order_type, order.variety),
            "tradingsymbol": order.instrument.symbol,
            "symboltoken": order.instrument.token,
            "transactiontype": order.side.value,
            "exchange": order.instrument.exchange,
            "ordertype": ORDER_TYPE_NAMES[order.order_type],
            "producttype": PRODUCT_NAMES[order.product],
            "duration": order.validity.value,
            "price": str(order.price or 0),
            "triggerprice": str(order.trigger_price or 0),
            "squareoff": "0",
            "stoploss": "0",
            "quantity": str(order.quantity),
            "ordertag": order.tag,
        }
        if order.disclosed_quantity:
            params["disclosedquantity"] = str(order.disclosed_quantity)
        try:
            data = checked(
                self._client(timeout=settings.BROKER_ORDER_TIMEOUT).placeOrderFullResponse(params)
            )
        except Exception as exc:
            raise translate(exc, placement=True) from exc
        order_id = str((data or {}).get("orderid") or "")
        if not order_id:
            raise OutcomeUnknown("AngelOne answered without an order id.")
        return order_id

    def modify_order(self, broker_order_id: str, change: OrderChange, *, variety: Variety) -> None:
        self.throttle(EndpointClass.ORDERS)
        params = {
            "variety": "AMO" if variety is Variety.AMO else "NORMAL",
            "orderid": broker_order_id,
            "ordertype": ORDER_TYPE_NAMES[change.order_type] if change.order_type else None,
            "quantity": str(change.quantity) if change.quantity else None,
            "price": str(change.price) if change.price is not None else None,
            "triggerprice": str(change.trigger_price) if change.trigger_price is not None else None,
            "duration": change.validity.value if change.validity else None,
        }
        try:
            checked(self._client(timeout=settings.BROKER_ORDER_TIMEOUT).modifyOrder(params))
        except Exception as exc:
            raise translate(exc, placement=True) from exc

    def cancel_order(self, broker_order_id: str, *, variety: Variety) -> None:
        self.throttle(EndpointClass.ORDERS)
        try:
            checked(
                self._client(timeout=settings.BROKER_ORDER_TIMEOUT).cancelOrder(
                    broker_order_id, "AMO" if variety is Variety.AMO else "NORMAL"
                )
            )
        except Exception as exc:
            raise translate(exc, placement=True) from exc


def _blank(value) -> bool:
    return value is None or str(value).strip() == ""


def _position_ref(row: Mapping) -> InstrumentRef:
    return InstrumentRef(
        row.get("exchange", ""), row.get("tradingsymbol", ""), str(row.get("symboltoken", ""))
    )
