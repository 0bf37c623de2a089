"""Prices for paper fills: the price-source account's quotes, else the candle store.

A paper account names one of its user's live accounts as its price source. A
symbol that neither source can price is absent from the answer; callers turn
that into a clear error (a paper order never fills at 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from brokers.base import BrokerError, ConnectFlow, InstrumentRef
from brokers.connections import calling
from brokers.models import BrokerAccount
from marketdata.models import Candle
from marketdata.resolution import SymbolNotFound, resolve


@dataclass(frozen=True)
class Price:
    last_price: Decimal
    close: Decimal | None = None
    volume: int | None = None
    source: str = ""


def source_account(account: BrokerAccount) -> BrokerAccount | None:
    """The live account named by the paper account's `price_source` (label or id)."""
    wanted = str((account.credentials or {}).get("price_source", "")).strip()
    if not wanted:
        return None
    candidates = BrokerAccount.objects.filter(user_id=account.user_id).exclude(pk=account.pk)
    found = (
        candidates.filter(pk=int(wanted)).first()
        if wanted.isdigit()
        else candidates.filter(label__iexact=wanted).first()
    )
    if found is None or found.adapter_class.connect_flow is ConnectFlow.NONE:
        return None
    return found


def _from_source(source: BrokerAccount, refs: list[InstrumentRef]) -> tuple[dict, str]:
    if not source.is_connected:  # say so; never call (or reconnect) an account left off
        if source.status == BrokerAccount.Status.NOT_CONNECTED:
            return {}, f"price source {source.display_name} is disconnected"
        return {}, f"price source {source.display_name} is {source.get_status_display().lower()}"
    instruments = {}
    for ref in refs:
        try:
            instruments[ref] = resolve(broker=source.broker, symbol=f"{ref.exchange}:{ref.symbol}")
        except SymbolNotFound:
            continue
    if not instruments:
        return {}, ""
    try:
        with calling(source) as adapter:
            quotes = adapter.quotes([i.ref for i in instruments.values()])
    except BrokerError as exc:
        return {}, f"{source.display_name}: {exc.message}"
    found = {}
    for ref, instrument in instruments.items():
        quote = quotes.get(instrument.ref)
        if quote and quote.last_price and quote.last_price > 0:
            found[ref] = Price(quote.last_price, quote.close, quote.volume, source.display_name)
    return found, ""


def _from_candles(refs: list[InstrumentRef]) -> dict:
    found = {}
    for ref in refs:
        candle = (
            Candle.objects.filter(exchange=ref.exchange, canonical_symbol=ref.symbol)
            .order_by("-at")
            .first()
        )
        if candle and candle.close > 0:
            found[ref] = Price(candle.close, None, None, f"stored {candle.interval} candle")
    return found


def prices(account: BrokerAccount, refs: list[InstrumentRef]) -> tuple[dict, str]:
    """({ref: Price}, why-some-are-missing). Refs are paper refs (canonical symbols)."""
    refs = list(dict.fromkeys(refs))
    source = source_account(account)
    found, problem = _from_source(source, refs) if source else ({}, "")
    if source is None:
        problem = "no price-source account is set (edit the paper account)"
    missing = [ref for ref in refs if ref not in found]
    if missing:
        found.update(_from_candles(missing))
    return found, problem


def no_price_message(ref: InstrumentRef, problem: str) -> str:
    reason = f" ({problem})" if problem else ""
    return (
        f"No price for {ref.exchange}:{ref.symbol} from the price source or stored candles{reason}."
    )
