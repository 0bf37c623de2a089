"""What the live cache must price, and the figures pages poll for.

The instruments to quote are those of every waiting or live order, holding and
position of connected accounts. A paper account has no quotes of its own: its
instruments are priced by its price-source account's quote of the same symbol
(one batch per real account, whoever's rows asked for it).

Everything a page polls here reads the database and the cache; nothing calls a
broker.
"""

from __future__ import annotations

from brokers.base import ConnectFlow
from brokers.models import BrokerAccount
from marketdata import live
from marketdata.models import Instrument
from marketdata.resolution import SymbolNotFound, resolve
from orders.models import Order
from paper.prices import source_account

from .models import Holding, Position

WATCHED_ORDER_STATES = (Order.Status.WAITING, *Order.LIVE)


def watched_instruments() -> dict[int, set[int]]:
    """{account id: instrument ids} over every user's open orders, holdings, positions,
    and the instruments open pages show."""
    pairs = set(
        Order.objects.filter(status__in=WATCHED_ORDER_STATES, instrument__isnull=False)
        .values_list("account_id", "instrument_id")
        .distinct()
    )
    for model in (Holding, Position):
        pairs |= set(
            model.objects.filter(instrument__isnull=False)
            .values_list("account_id", "instrument_id")
            .distinct()
        )
    watched: dict[int, set[int]] = {}
    for account_id, instrument_id in pairs:
        if account_id:
            watched.setdefault(account_id, set()).add(instrument_id)
    # And what open pages show (a watchlist), as marketdata.live.note_viewed recorded it.
    connected = BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
    for account_id, ids in live.viewed(connected.values_list("pk", flat=True)).items():
        watched.setdefault(account_id, set()).update(ids)
    return watched


def quote_plan() -> dict:
    """{connected real account: [(its instrument, paper instruments priced by it)]}."""
    watched = watched_instruments()
    accounts = BrokerAccount.objects.filter(
        pk__in=watched, status=BrokerAccount.Status.CONNECTED
    ).select_related("user")
    instruments = Instrument.objects.in_bulk({i for ids in watched.values() for i in ids})
    plan: dict[int, dict] = {}  # account pk -> {instrument pk: (instrument, [also])}
    by_pk = {}
    for account in accounts:
        mine = [instruments[i] for i in watched[account.pk] if i in instruments]
        if account.adapter_class.connect_flow is not ConnectFlow.NONE:
            by_pk[account.pk] = account
            entries = plan.setdefault(account.pk, {})
            for instrument in mine:
                entries.setdefault(instrument.pk, (instrument, []))
            continue
        source = source_account(account)  # paper: priced by its source account
        if source is None or not source.is_connected:
            continue
        by_pk[source.pk] = source
        entries = plan.setdefault(source.pk, {})
        for instrument in mine:
            try:
                theirs = resolve(
                    broker=source.broker,
                    symbol=f"{instrument.exchange}:{instrument.canonical_symbol}",
                )
            except SymbolNotFound:
                continue
            entries.setdefault(theirs.pk, (theirs, []))[1].append(instrument)
    return {by_pk[pk]: list(entries.values()) for pk, entries in plan.items() if entries}


def refresh_live_quotes() -> dict:
    return live.refresh_quotes(quote_plan())


# --- Reading for pages ---------------------------------------------------------------------


def overlay_rows(rows) -> None:
    """Give each holding/position row the cached live price (recomputing its P&L and
    value), and `shown` for the cell's age. Rows keep their stored figures otherwise."""
    rows = list(rows)
    prices = live.cached({r.instrument for r in rows if r.instrument_id})
    for row in rows:
        found = prices.get(row.instrument_id)
        if found is None:
            at = row.synced_at.timestamp() if row.synced_at else None
            row.shown = live.Shown(row.last_price, at=at, live_price=False)
            continue
        move = (found.price - row.last_price) * row.quantity
        row.last_price = found.price
        row.pnl = row.pnl + move
        if isinstance(row, Position):
            row.unrealised = row.unrealised + move
            row.m2m = row.m2m + move
        if row.close_price:
            row.day_change = found.price - row.close_price
        elif found.close:
            row.day_change = found.price - found.close
        row.shown = live.Shown(found.price, at=found.at, live_price=True)
