"""ZerodhaAdapter: the BrokerAdapter contract on the official `kiteconnect` client."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

import requests
from django.conf import settings
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors

from ..adapter import BrokerAdapter
from ..base import (
    AuthExpired,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    Candle,
    Capabilities,
    ChargesPreview,
    ConnectFlow,
    CredentialField,
    EndpointClass,
    ExportedTrade,
    Funds,
    GttKind,
    GttLegResult,
    GttOrder,
    Holding,
    InstrumentRef,
    InstrumentRow,
    InvalidCredentials,
    MarginPreview,
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
from ..mapping import dec, split_pnl, to_int
from ..records import MasterRecords, csv_records, rows_of
from .mapping import (
    INTERVALS,
    IST,
    ORDER_TYPES,
    PRODUCT_NAMES,
    PRODUCTS,
    VARIETIES,
    VARIETY_NAMES,
    _parse_time,
    map_status,
    session_expiry,
    translate,
)
from .master import KITE_COLUMNS, kite_row
from .tradebook import read_tradebook

logger = logging.getLogger(__name__)


class ZerodhaAdapter(BrokerAdapter):
    name = "zerodha"
    label = "Zerodha"
    trade_export_label = "Console tradebook CSV (Reports > Tradebook)"
    trade_export_columns = (
        "symbol, trade_date, exchange, segment, trade_type, quantity, price, trade_id, "
        "order_id, order_execution_time (isin, series, auction, expiry_date are read too)"
    )
    connect_flow = ConnectFlow.OAUTH_REDIRECT
    credential_fields = (
        CredentialField(
            "api_key", "API key", help_text="From your app in the Kite Connect console."
        ),
        CredentialField("api_secret", "API secret"),
    )
    capabilities = Capabilities(
        gtt_kinds=frozenset({GttKind.SINGLE, GttKind.OCO}),
        gtt_modify=True,
        margin_preview=True,
        charges_preview=True,
        amo=True,
        modify=True,
        products=frozenset({Product.CNC, Product.MIS, Product.NRML}),
        order_types=frozenset(OrderType),
        varieties=frozenset({Variety.REGULAR, Variety.AMO, Variety.CO, Variety.ICEBERG}),
        validities=frozenset({Validity.DAY, Validity.IOC}),
        disclosed_quantity=True,
        exchanges=frozenset({"NSE", "BSE", "NFO", "BFO", "CDS", "MCX"}),
        # /quote/ohlc documents 1,000 instruments a call, but the instruments travel in the
        # URL and calls past ~825 fail with 414/400 (Kite forum); 500 keeps well inside.
        quote_batch_size=500,
        history_intervals=tuple(INTERVALS),
        # Kite's historical API: days per request by interval.
        history_max_days={
            "1m": 60,
            "3m": 100,
            "5m": 100,
            "10m": 100,
            "15m": 200,
            "30m": 200,
            "1h": 400,
            "1d": 2000,
        },
        rate_limits={
            EndpointClass.ORDERS: (RateLimit(10, 1), RateLimit(400, 60), RateLimit(5000, 86400)),
            EndpointClass.QUOTES: (RateLimit(1, 1),),
            EndpointClass.HISTORY: (RateLimit(3, 1),),
            EndpointClass.PORTFOLIO: (RateLimit(10, 1),),
            EndpointClass.SESSION: (RateLimit(10, 1),),
            EndpointClass.OTHER: (RateLimit(10, 1),),
        },
        session_refresh=False,
        # Kite sessions end at about 06:00 India time every day; only the user logs in.
        daily_login=True,
    )

    def _client(self, *, timeout: float | None = None) -> KiteConnect:
        return KiteConnect(
            api_key=self.credentials.get("api_key", ""),
            access_token=self.session.get("access_token"),
            root=settings.KITE_API_ROOT,
            timeout=timeout or settings.BROKER_READ_TIMEOUT,
        )

    def _read(self, endpoint: EndpointClass, call):
        def attempt():
            try:
                return call(self._client())
            except Exception as exc:
                raise translate(exc) from exc

        return self.read(endpoint, attempt)

    # Connecting ----------------------------------------------------------------
    def login_url(self, *, state: str) -> str:
        query = urlencode(
            {
                "api_key": self.credentials.get("api_key", ""),
                "v": "3",
                "redirect_params": urlencode({"state": state}),
            }
        )
        return f"{settings.KITE_LOGIN_URL}?{query}"

    def complete_login(self, *, params: Mapping[str, str]) -> Session:
        request_token = params.get("request_token", "")
        if params.get("status") != "success" or not request_token:
            raise InvalidCredentials("Kite did not confirm the login.")
        self.throttle(EndpointClass.SESSION)
        try:
            data = self._client().generate_session(
                request_token, api_secret=self.credentials.get("api_secret", "")
            )
        except kite_errors.TokenException as exc:
            raise InvalidCredentials(
                f"Kite refused the login: {exc} (check the API secret).",
                code="TokenException",
            ) from exc
        except kite_errors.InputException as exc:
            raise InvalidCredentials(f"Kite refused the login: {exc}") from exc
        except Exception as exc:
            raise translate(exc) from exc
        login_time = _parse_time(data.get("login_time")) or datetime.now(IST)
        return Session(
            data={"access_token": data["access_token"], "login_time": login_time.isoformat()},
            expires_at=session_expiry(login_time),
            broker_user_id=data.get("user_id", ""),
            user_name=data.get("user_name", ""),
        )

    def disconnect(self) -> None:
        if not self.session.get("access_token"):
            return
        try:
            self._client().invalidate_access_token()
        except Exception as exc:  # logging out is best effort; the session is wiped anyway
            logger.info("zerodha: logout at the broker failed: %s", type(exc).__name__)

    # Reading ----------------------------------------------------------------
    def profile(self) -> Profile:
        data = self._read(EndpointClass.OTHER, lambda kite: kite.profile())
        return Profile(
            broker_user_id=data.get("user_id", ""),
            name=data.get("user_name", ""),
            email=data.get("email") or "",
            exchanges=tuple(data.get("exchanges") or ()),
            products=tuple(data.get("products") or ()),
        )

    def funds(self) -> Funds:
        return self.map_funds(
            self._read(EndpointClass.OTHER, lambda kite: kite.margins("equity")) or {}
        )

    @staticmethod
    def map_funds(data: Mapping) -> Funds:
        available = data.get("available") or {}
        used = data.get("utilised") or {}
        return Funds(
            available_cash=dec(data.get("net")),
            used_margin=dec(used.get("debits")),
            net=dec(data.get("net")),
            collateral=dec(available.get("collateral")),
        )

    def quotes(self, instruments: list[InstrumentRef]) -> dict[InstrumentRef, Quote]:
        result: dict[InstrumentRef, Quote] = {}
        size = self.capabilities.quote_batch_size
        for start in range(0, len(instruments), size):
            batch = instruments[start : start + size]
            keys = {f"{i.exchange}:{i.symbol}": i for i in batch}
            data = self._read(EndpointClass.QUOTES, lambda kite, k=list(keys): kite.ohlc(k))
            for key, row in (data or {}).items():
                ref = keys.get(key)
                if ref is None:
                    continue
                result[ref] = Quote(
                    exchange=ref.exchange,
                    symbol=ref.symbol,
                    token=str(row.get("instrument_token", "")),
                    last_price=dec(row.get("last_price")),
                    close=dec((row.get("ohlc") or {}).get("close"), default=None),
                    high=dec((row.get("ohlc") or {}).get("high"), default=None),
                    low=dec((row.get("ohlc") or {}).get("low"), default=None),
                )
        return result

    def order_book(self) -> list[BrokerOrder]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda kite: kite.orders())
        return [self.map_order(row) for row in rows or []]

    @staticmethod
    def map_order(row: Mapping) -> BrokerOrder:
        quantity, filled = to_int(row.get("quantity")), to_int(row.get("filled_quantity"))
        return BrokerOrder(
            broker_order_id=str(row.get("order_id", "")),
            status=map_status(row.get("status"), filled=filled, quantity=quantity),
            broker_status=str(row.get("status") or ""),
            instrument=InstrumentRef(
                row.get("exchange", ""),
                row.get("tradingsymbol", ""),
                str(row.get("instrument_token") or ""),
            ),
            side=Side(row.get("transaction_type", "BUY")),
            quantity=quantity,
            filled_quantity=filled,
            order_type=ORDER_TYPES.get(row.get("order_type", ""), OrderType.MARKET),
            product=PRODUCTS.get(row.get("product", ""), Product.CNC),
            tag=row.get("tag") or "",
            price=dec(row.get("price"), default=None),
            trigger_price=dec(row.get("trigger_price"), default=None),
            average_price=dec(row.get("average_price"), default=None),
            status_message=row.get("status_message") or "",
            variety=VARIETIES.get(row.get("variety", ""), Variety.REGULAR),
            placed_at=_parse_time(row.get("order_timestamp")),
            updated_at=_parse_time(row.get("exchange_update_timestamp")),
        )

    @classmethod
    def read_trade_export(cls, text: str) -> list[ExportedTrade]:
        return read_tradebook(text)

    def trades(self) -> list[Trade]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda kite: kite.trades())
        return [
            Trade(
                trade_id=str(row["trade_id"]),
                broker_order_id=str(row["order_id"]),
                instrument=InstrumentRef(
                    row["exchange"], row["tradingsymbol"], str(row.get("instrument_token") or "")
                ),
                side=Side(row["transaction_type"]),
                quantity=to_int(row.get("quantity")),
                price=dec(row.get("average_price")),
                product=PRODUCTS.get(row.get("product", ""), Product.CNC),
                traded_at=_parse_time(row.get("fill_timestamp")),
            )
            for row in rows or []
        ]

    def holdings(self) -> list[Holding]:
        rows = self._read(EndpointClass.PORTFOLIO, lambda kite: kite.holdings())
        return [self.map_holding(row) for row in rows or []]

    @staticmethod
    def map_holding(row: Mapping) -> Holding:
        t1 = to_int(row.get("t1_quantity"))
        return Holding(
            instrument=InstrumentRef(
                row["exchange"], row["tradingsymbol"], str(row.get("instrument_token") or "")
            ),
            quantity=to_int(row.get("quantity")) + t1,
            t1_quantity=t1,
            average_price=dec(row.get("average_price")),
            last_price=dec(row.get("last_price")),
            close_price=dec(row.get("close_price"), default=None),
            pnl=dec(row.get("pnl"), default=None),
            day_change=dec(row.get("day_change"), default=None),
            isin=row.get("isin") or "",
            mtf_quantity=to_int((row.get("mtf") or {}).get("quantity")),
        )

    def positions(self) -> list[Position]:
        data = self._read(EndpointClass.PORTFOLIO, lambda kite: kite.positions())
        return [self.map_position(row) for row in (data or {}).get("net") or []]

    @staticmethod
    def map_position(row: Mapping) -> Position:
        # Kite's `realised` is 0 and its `unrealised` the whole P&L even for a
        # closed or partly exited position (see the sample in tests/fixtures/kite):
        # the split is worked out from the open quantity, its average and the last price.
        quantity, pnl = to_int(row.get("quantity")), dec(row.get("pnl"))
        multiplier = dec(row.get("multiplier"), default=None)
        realised, unrealised = split_pnl(
            pnl=pnl,
            quantity=quantity,
            average=dec(row.get("average_price")),
            last=dec(row.get("last_price")),
            multiplier=multiplier or Decimal(1),
        )
        return Position(
            instrument=InstrumentRef(
                row["exchange"], row["tradingsymbol"], str(row.get("instrument_token") or "")
            ),
            product=PRODUCTS.get(row.get("product", ""), Product.NRML),
            quantity=quantity,
            overnight_quantity=to_int(row.get("overnight_quantity")),
            average_price=dec(row.get("average_price")),
            last_price=dec(row.get("last_price")),
            pnl=pnl,
            realised=realised,
            unrealised=unrealised,
            m2m=dec(row.get("m2m")),
            buy_quantity=to_int(row.get("buy_quantity")),
            sell_quantity=to_int(row.get("sell_quantity")),
            buy_average=dec(row.get("buy_price")),
            sell_average=dec(row.get("sell_price")),
            day_buy_quantity=to_int(row.get("day_buy_quantity")),
            day_sell_quantity=to_int(row.get("day_sell_quantity")),
        )

    def candles(
        self, instrument: InstrumentRef, *, interval: str, start: datetime, end: datetime
    ) -> list[Candle]:
        if interval not in INTERVALS:
            raise NotSupported(f"Kite has no {interval} candles.")
        if not instrument.token.isdigit():
            raise BrokerError(f"Kite needs the instrument token for candles ({instrument.symbol}).")
        rows = self._read(
            EndpointClass.HISTORY,
            lambda kite: kite.historical_data(
                int(instrument.token),
                start.astimezone(IST).replace(tzinfo=None),
                end.astimezone(IST).replace(tzinfo=None),
                INTERVALS[interval],
            ),
        )
        # kiteconnect hands each bar's time parsed already; a bar without one is not a
        # bar (a Candle's time is required), so it is left out rather than stored empty.
        return [
            Candle(
                at=at,
                open=dec(row["open"]),
                high=dec(row["high"]),
                low=dec(row["low"]),
                close=dec(row["close"]),
                volume=to_int(row.get("volume")),
            )
            for row in rows or []
            if (at := _parse_time(row["date"])) is not None
        ]

    def instrument_master(self) -> Iterator[InstrumentRow]:
        """GET /instruments (needs a session), streamed and parsed row by row."""
        self.throttle(EndpointClass.OTHER)
        try:
            response = requests.get(
                f"{settings.KITE_API_ROOT.rstrip('/')}/instruments",
                headers={
                    "X-Kite-Version": "3",
                    "Authorization": f"token {self.credentials.get('api_key', '')}:"
                    f"{self.session.get('access_token', '')}",
                },
                stream=True,
                timeout=settings.BROKER_READ_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise translate(exc) from exc
        if response.status_code == 403:
            raise AuthExpired("Kite session expired: reconnect to download instruments.")
        if response.status_code != 200:
            raise BrokerUnavailable(f"Kite instruments download failed ({response.status_code}).")
        with response:
            response.raw.decode_content = True
            yield from self.parse_instrument_master(response.raw)

    # Bump when kite_row maps the same line differently: every row is re-mapped once.
    MASTER_VERSION = "1"

    @classmethod
    def master_records(cls, stream) -> MasterRecords:
        records = csv_records(
            stream, columns=KITE_COLUMNS, mapper=kite_row, source="Kite instruments"
        )
        records.salt = f"zerodha:{cls.MASTER_VERSION}"
        return records

    @classmethod
    def parse_instrument_master(cls, stream) -> Iterator[InstrumentRow]:
        return rows_of(cls.master_records(stream))

    # Orders ----------------------------------------------------------------
    def place_order(self, order: OrderRequest) -> str:
        self.throttle(EndpointClass.ORDERS)  # waits before sending; never retries after
        params = {
            "variety": VARIETY_NAMES[order.variety],
            "exchange": order.instrument.exchange,
            "tradingsymbol": order.instrument.symbol,
            "transaction_type": order.side.value,
            "quantity": order.quantity,
            "product": PRODUCT_NAMES[order.product],
            "order_type": order.order_type.value,
            "validity": order.validity.value,
            "price": str(order.price) if order.price is not None else None,
            "trigger_price": str(order.trigger_price) if order.trigger_price is not None else None,
            "disclosed_quantity": order.disclosed_quantity or None,
            "tag": order.tag,
        }
        try:
            return str(self._client(timeout=settings.BROKER_ORDER_TIMEOUT).place_order(**params))
        except Exception as exc:
            raise translate(exc, placement=True) from exc

    def modify_order(self, broker_order_id: str, change: OrderChange, *, variety: Variety) -> None:
        self.throttle(EndpointClass.ORDERS)
        try:
            self._client(timeout=settings.BROKER_ORDER_TIMEOUT).modify_order(
                variety=VARIETY_NAMES[variety],
                order_id=broker_order_id,
                quantity=change.quantity,
                price=change.price,
                trigger_price=change.trigger_price,
                order_type=change.order_type.value if change.order_type else None,
                validity=change.validity.value if change.validity else None,
            )
        except Exception as exc:
            raise translate(exc, placement=True) from exc

    def cancel_order(self, broker_order_id: str, *, variety: Variety) -> None:
        self.throttle(EndpointClass.ORDERS)
        try:
            self._client(timeout=settings.BROKER_ORDER_TIMEOUT).cancel_order(
                variety=VARIETY_NAMES[variety], order_id=broker_order_id
            )
        except Exception as exc:
            raise translate(exc, placement=True) from exc

    # GTT ----------------------------------------------------------------------------
    GTT_TYPES = {GttKind.SINGLE: "single", GttKind.OCO: "two-leg"}
    GTT_STATUSES = {
        "active": "active",
        "triggered": "triggered",
        "disabled": "cancelled",
        "expired": "expired",
        "cancelled": "cancelled",
        "rejected": "rejected",
        "deleted": "cancelled",
    }

    def create_gtt(self, *, kind, instrument, trigger_values, last_price, legs) -> str:
        spec = self._gtt_spec(kind, instrument, trigger_values, last_price, legs)
        self.throttle(EndpointClass.ORDERS)
        try:
            data = self._client(timeout=settings.BROKER_ORDER_TIMEOUT).place_gtt(**spec)
        except Exception as exc:
            raise translate(exc, placement=True) from exc
        return str(data["trigger_id"])

    def modify_gtt(
        self,
        gtt_id: str,
        *,
        kind: GttKind,
        instrument: InstrumentRef,
        trigger_values: list[Decimal],
        last_price: Decimal,
        legs: list[OrderRequest],
    ) -> None:
        spec = self._gtt_spec(kind, instrument, trigger_values, last_price, legs)
        if not str(gtt_id).isdigit():
            raise OrderRejected(f"Kite has no GTT {gtt_id!r}: its ids are numbers.")
        self.throttle(EndpointClass.ORDERS)
        try:
            self._client(timeout=settings.BROKER_ORDER_TIMEOUT).modify_gtt(
                trigger_id=int(gtt_id), **spec
            )
        except Exception as exc:
            raise self._gtt_write_error(exc, gtt_id, "changed") from exc

    def _gtt_spec(self, kind, instrument, trigger_values, last_price, legs) -> dict:
        """The kiteconnect arguments of a GTT (place and modify take the same)."""
        for leg in legs:
            if leg.price is None:
                raise OrderRejected("Kite GTT legs are LIMIT orders: each needs a price.")
        return {
            "trigger_type": self.GTT_TYPES[kind],
            "tradingsymbol": instrument.symbol,
            "exchange": instrument.exchange,
            "trigger_values": [float(v) for v in trigger_values],
            "last_price": float(last_price),
            "orders": [
                {
                    "transaction_type": leg.side.value,
                    "quantity": leg.quantity,
                    "order_type": "LIMIT",
                    "product": PRODUCT_NAMES[leg.product],
                    "price": float(leg.price),
                }
                for leg in legs
            ],
        }

    def list_gtts(self) -> list[GttOrder]:
        rows = self._read(EndpointClass.OTHER, lambda kite: kite.get_gtts())
        return [self.map_gtt(row) for row in rows or []]

    @classmethod
    def map_gtt(cls, row: Mapping) -> GttOrder:
        cond = row.get("condition") or {}
        ref = InstrumentRef(
            cond.get("exchange", ""),
            cond.get("tradingsymbol", ""),
            str(cond.get("instrument_token") or ""),
        )
        legs = tuple(
            OrderRequest(
                instrument=ref,
                side=Side(o["transaction_type"]),
                quantity=to_int(o.get("quantity")),
                order_type=OrderType.LIMIT,
                product=PRODUCTS.get(o.get("product", ""), Product.CNC),
                tag="",
                price=dec(o.get("price")),
            )
            for o in row.get("orders") or []
        )
        # A fired leg's result.order_result: {"status": "success" | "failed", "order_id",
        # "rejection_reason"}; null for a leg that did not fire.
        results = [
            ((o.get("result") or {}).get("order_result") or {}) for o in row.get("orders") or []
        ]
        return GttOrder(
            gtt_id=str(row["id"]),
            kind=GttKind.SINGLE if row.get("type") == "single" else GttKind.OCO,
            instrument=ref,
            trigger_values=tuple(dec(v) for v in cond.get("trigger_values") or []),
            last_price=dec(cond.get("last_price")),
            legs=legs,
            status=cls.GTT_STATUSES.get(str(row.get("status")), "active"),
            triggered_order_ids=tuple(str(r.get("order_id") or "") for r in results),
            leg_results=tuple(
                GttLegResult(
                    order_id=str(r.get("order_id") or ""),
                    status=str(r.get("status") or "").lower(),
                    reason=str(r.get("rejection_reason") or ""),
                )
                for r in results
            ),
        )

    def cancel_gtt(self, gtt_id: str) -> None:
        self.throttle(EndpointClass.ORDERS)
        try:
            self._client(timeout=settings.BROKER_ORDER_TIMEOUT).delete_gtt(int(gtt_id))
        except Exception as exc:
            raise self._gtt_write_error(exc, gtt_id, "deleted") from exc

    @staticmethod
    def _gtt_write_error(exc: Exception, gtt_id: str, done: str) -> BrokerError:
        """A failed change to an armed GTT as a common error. A write: a timeout after
        sending may have `done` it, and only the GTT list can tell."""
        error = translate(exc, placement=True)
        if isinstance(error, OutcomeUnknown):
            return OutcomeUnknown(
                f"No clear answer from Kite: GTT {gtt_id} may or may not have been "
                f"{done}; the GTT sync will show the result.",
                code=error.code,
            )
        return error

    def _legs(self, orders: list[OrderRequest]) -> list[dict]:
        return [
            {
                "exchange": o.instrument.exchange,
                "tradingsymbol": o.instrument.symbol,
                "transaction_type": o.side.value,
                "variety": VARIETY_NAMES[o.variety],
                "product": PRODUCT_NAMES[o.product],
                "order_type": o.order_type.value,
                "quantity": o.quantity,
                "price": float(o.price or 0),
                "trigger_price": float(o.trigger_price or 0),
            }
            for o in orders
        ]

    def margin_preview(self, orders: list[OrderRequest]) -> MarginPreview:
        rows = self._read(EndpointClass.OTHER, lambda kite: kite.order_margins(self._legs(orders)))
        total = sum((dec(r.get("total")) for r in rows or []), Decimal(0))
        charges = sum((dec((r.get("charges") or {}).get("total")) for r in rows or []), Decimal(0))
        return MarginPreview(total=total, charges=charges)

    def charges_preview(self, orders: list[OrderRequest]) -> ChargesPreview:
        legs = [{**leg, "average_price": leg["price"]} for leg in self._legs(orders)]
        rows = self._read(EndpointClass.OTHER, lambda kite: kite.get_virtual_contract_note(legs))
        breakdown: dict[str, Decimal] = {}
        total = Decimal(0)
        for row in rows or []:
            charges = row.get("charges") or {}
            total += dec(charges.get("total"))
            for name in (
                "transaction_tax",
                "exchange_turnover_charge",
                "sebi_turnover_charge",
                "brokerage",
                "stamp_duty",
            ):
                breakdown[name] = breakdown.get(name, Decimal(0)) + dec(charges.get(name))
            breakdown["gst"] = breakdown.get("gst", Decimal(0)) + dec(
                (charges.get("gst") or {}).get("total")
            )
        return ChargesPreview(total=total, breakdown=breakdown)
