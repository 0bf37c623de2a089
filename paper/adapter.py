"""Paper trading as a broker: simulated fills on real prices.

The paper "exchange" lives in the `paper` app (its books are database rows, as
a real broker's are on its servers); this adapter is its client, so the rest of
the app trades on paper the way it trades anywhere else. Prices come from a
live account the user names as the price source (or the candle store).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings

from brokers.adapter import BrokerAdapter
from brokers.base import (
    BrokerError,
    Capabilities,
    ChargesPreview,
    ConnectFlow,
    CredentialField,
    EndpointClass,
    Funds,
    InstrumentRef,
    InstrumentRow,
    MarginPreview,
    OrderChange,
    OrderRejected,
    OrderRequest,
    OrderType,
    Product,
    Profile,
    Quote,
    RateLimit,
    Session,
    Validity,
    Variety,
)
from brokers.models import BrokerAccount
from brokers.registry import UnknownBroker, get_adapter_class
from marketdata.models import Instrument

from . import engine
from .charges import charges_for
from .prices import prices, source_account


class PaperAdapter(BrokerAdapter):
    name = "paper"
    label = "Paper trading"
    connect_flow = ConnectFlow.NONE
    credential_fields = (
        CredentialField(
            "starting_cash",
            "Starting cash (₹)",
            secret=False,
            input_mode="numeric",
            help_text="What the account starts with, and goes back to on a reset.",
        ),
        CredentialField(
            "price_source",
            "Price source account",
            secret=False,
            help_text="One of your live accounts: its quotes price the fills "
            "(stored candles are the fallback).",
        ),
    )
    capabilities = Capabilities(
        margin_preview=True,
        charges_preview=True,
        amo=False,
        products=frozenset({Product.CNC, Product.MIS}),
        # The paper engine fills or rests an order for the day; no IOC, nothing hidden.
        validities=frozenset({Validity.DAY}),
        disclosed_quantity=False,
        order_types=frozenset(OrderType),
        exchanges=frozenset({"NSE", "BSE"}),
        quote_batch_size=200,
        rate_limits={
            EndpointClass.ORDERS: (RateLimit(50, 1),),
            EndpointClass.QUOTES: (RateLimit(20, 1),),
            EndpointClass.PORTFOLIO: (RateLimit(20, 1),),
            EndpointClass.OTHER: (RateLimit(20, 1),),
        },
        resettable=True,
    )

    @classmethod
    def credential_choices(cls, name, *, user):
        if name != "price_source":
            return None
        return [
            (account.label, account.display_name)
            for account in BrokerAccount.objects.filter(user=user).order_by("label")
            if _is_live(account)
        ]

    @classmethod
    def status_note(cls, account) -> str:
        source = source_account(account)
        if source is None:
            return "No price-source account: edit this account to choose one."
        if source.status == source.Status.NOT_CONNECTED:
            return f"Price source {source.display_name} is disconnected: connect it to price fills."
        if not source.is_connected:
            return f"Price source {source.display_name} is {source.get_status_display().lower()}."
        return ""

    @classmethod
    def takes_regular_orders_when_closed(cls) -> bool:
        return settings.PAPER_WHEN_CLOSED == "queue"  # they rest until the open

    @classmethod
    def check_credentials(cls, values, *, user) -> dict[str, str]:
        problems = {}
        cash = str(values.get("starting_cash", "")).replace(",", "").strip()
        try:
            if cash and Decimal(cash) <= 0:
                problems["starting_cash"] = "Starting cash must be more than 0."
        except InvalidOperation:
            problems["starting_cash"] = "Starting cash must be a number, e.g. 1000000."
        source = str(values.get("price_source", "")).strip()
        if source:
            live = [
                account
                for account in BrokerAccount.objects.filter(user=user, label__iexact=source)
                if _is_live(account)
            ]
            if not live:
                problems["price_source"] = (
                    f"None of your live accounts is labelled {source!r}: "
                    "name the account whose prices should price the fills."
                )
        return problems

    # --- Session ---------------------------------------------------------------------
    def _book(self, *, session_required: bool = True):
        book = engine.book_for(self.account_key)
        if session_required:
            engine.check_session(book, self.session.get("token", ""))
        return book

    def connect(self, *, per_connect) -> Session:
        book = self._book(session_required=False)
        token = engine.open_session(book)
        return Session(data={"token": token}, expires_at=None, broker_user_id=f"PAPER{book.pk}")

    def disconnect(self) -> None:
        with contextlib.suppress(BrokerError):
            engine.close_session(self._book(session_required=False))

    def reset(self) -> None:
        engine.reset(self._book(session_required=False))

    # --- Reads -----------------------------------------------------------------------
    def profile(self) -> Profile:
        book = self._book()
        return Profile(broker_user_id=f"PAPER{book.pk}", name="Paper trading")

    def funds(self) -> Funds:
        available, used, net = engine.funds(self._book())
        return Funds(available_cash=available, used_margin=used, net=net)

    def quotes(self, instruments: list[InstrumentRef]) -> dict[InstrumentRef, Quote]:
        book = self._book()
        found, _ = prices(book.account, instruments)
        return {
            ref: Quote(
                ref.exchange, ref.symbol, p.last_price, ref.token, close=p.close, volume=p.volume
            )
            for ref, p in found.items()
        }

    def order_book(self):
        return engine.order_book(self._book())

    def trades(self):
        return engine.trades(self._book())

    def holdings(self):
        return engine.holdings(self._book())

    def positions(self):
        return engine.positions(self._book())

    def candles(self, instrument, *, interval: str, start: datetime, end: datetime):
        self._unsupported("historical candles (use the price-source account's)")

    def instrument_master(self):
        """The instruments the paper exchange trades: every exchange-level symbol the
        price-source broker lists, named by canonical symbol."""
        book = self._book()
        source = source_account(book.account)
        if source is None:
            raise OrderRejected("Set a price-source account before loading paper instruments.")
        for row in Instrument.objects.filter(broker=source.broker).iterator(chunk_size=2000):
            yield InstrumentRow(
                exchange=row.exchange,
                trading_symbol=row.canonical_symbol,
                token=row.token,
                name=row.name,
                instrument_type=row.instrument_type,
                segment=row.segment,
                lot_size=row.lot_size,
                tick_size=row.tick_size,
                expiry=row.expiry,
                strike=row.strike,
                canonical_symbol=row.canonical_symbol,
                series=row.series,
            )

    # --- Orders ----------------------------------------------------------------------
    def place_order(self, order: OrderRequest) -> str:
        return engine.place(self._book(), order)

    def modify_order(self, broker_order_id: str, change: OrderChange, *, variety: Variety) -> None:
        engine.modify(self._book(), broker_order_id, change)

    def cancel_order(self, broker_order_id: str, *, variety: Variety) -> None:
        engine.cancel(self._book(), broker_order_id, "Cancelled by you.")

    def _estimates(self, orders: list[OrderRequest]) -> list[tuple[OrderRequest, Decimal]]:
        book = self._book()
        found, _ = prices(book.account, [o.instrument for o in orders])
        result = []
        for order in orders:
            quote = found.get(order.instrument)
            price = order.price or order.trigger_price or (quote.last_price if quote else None)
            if price is None:
                raise OrderRejected(f"No price for {order.instrument.symbol} to preview.")
            result.append((order, Decimal(price)))
        return result

    def charges_preview(self, orders: list[OrderRequest]) -> ChargesPreview:
        total, breakdown = Decimal("0"), {}
        for order, price in self._estimates(orders):
            cost = charges_for(
                side=str(order.side),
                quantity=order.quantity,
                price=price,
                product=str(order.product),
            )
            total += cost.total
            for name, value in cost.as_dict().items():
                if name != "total":
                    breakdown[name] = breakdown.get(name, Decimal("0")) + Decimal(value)
        return ChargesPreview(total=total, breakdown=breakdown)

    def margin_preview(self, orders: list[OrderRequest]) -> MarginPreview:
        estimates = self._estimates(orders)
        total = sum((price * order.quantity for order, price in estimates), Decimal("0"))
        charges = self.charges_preview(orders).total
        return MarginPreview(total=total, charges=charges)


def _is_live(account: BrokerAccount) -> bool:
    """A real broker's account (one that can price fills); False for an account
    whose broker was removed from settings."""
    try:
        return get_adapter_class(account.broker).connect_flow is not ConnectFlow.NONE
    except UnknownBroker:
        return False
