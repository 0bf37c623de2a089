"""AngelOneAdapter: the BrokerAdapter contract on the official `smartapi-python` client."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import cast

import pyotp
import requests
from django.conf import settings
from django.utils import timezone

from ..adapter import BrokerAdapter
from ..base import (
    AuthExpired,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    Candle,
    Capabilities,
    ConnectFlow,
    CredentialField,
    EndpointClass,
    ExportedTrade,
    Funds,
    Holding,
    InstrumentRef,
    InstrumentRow,
    InvalidCredentials,
    NotSupported,
    OrderChange,
    OrderRejected,
    OrderRequest,
    OrderType,
    OutcomeUnknown,
    Position,
    Product,
    Profile,
    Quote,
    RateLimit,
    Session,
    Side,
    Trade,
    Validity,
    Variety,
)
from ..mapping import (
    dec,
    split_pnl,
    to_int,
)
from ..records import MasterRecords, json_array_chunks, json_object_row, rows_of
from .client import (
    _smart_connect,
    checked,
    translate,
)
from .mapping import (
    INTERVALS,
    IST,
    ORDER_TYPE_NAMES,
    ORDER_TYPES,
    PRODUCT_NAMES,
    PRODUCTS,
    jwt_expiry,
    map_status,
)
from .master import (
    smartapi_record,
)
from .tradebook import read_trade_report

logger = logging.getLogger(__name__)


class AngelOneAdapter(BrokerAdapter):
    name = "angelone"
    label = "AngelOne"
    trade_export_label = "Trade book CSV (Reports > Trade Book)"
    trade_export_columns = (
        "Symbol, Buy/Sell, Quantity, Price, Trade No (or Trade ID), Trade Date; "
        "also read: Exchange, Product Type, Order No, Trade Time"
    )
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
        return self._session_from(cast(dict, data or {}))  # login answers one object

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
        token = cast(dict, data or {})  # the token call answers one object
        return self._session_from({**token, "refreshToken": refresh_token})

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
                    high=dec(row.get("high"), default=None),
                    low=dec(row.get("low"), default=None),
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

    @classmethod
    def read_trade_export(cls, text: str) -> list[ExportedTrade]:
        return read_trade_report(text)

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
                traded_at=_fill_time(row.get("filltime")),
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
        order_id = str(cast(dict, data or {}).get("orderid") or "")  # one object
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


def _fill_time(value) -> datetime | None:
    """The trade book's "filltime" (a time of day, India time) on today's India date:
    the book holds the current day's fills only. None when absent or unreadable."""
    try:
        clock = datetime.strptime(str(value or "").strip(), "%H:%M:%S").time()
    except ValueError:
        return None
    return datetime.combine(timezone.now().astimezone(IST).date(), clock, tzinfo=IST)
