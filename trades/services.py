"""Writes: opening lots, adjustments, and the rebuild of round trips from fills.

`rebuild` is the one writer of RoundTrip: it reads the user's fills (of one
account, or all), opening lots and adjustments, runs the pure FIFO matching
(trades/matching.py), estimates charges (trades/charges.py) and replaces the
round trips of those accounts in one transaction. Running it twice gives the
same rows; capture, import, a new adjustment and `manage.py rebuild_pnl` call it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q

from brokers.models import BrokerAccount
from marketdata import clock
from marketdata.models import Instrument
from portfolio.models import Holding

from . import charges, history, matching
from .models import Adjustment, CapturedDay, OpeningLot, RoundTrip, Trade, UnmatchedSale

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

IMPORTED_LABEL = "Imported history"
OUTSIDE_LABEL = "Placed outside the app"
OPENING_LABEL = "Opening holdings"


# A purchase date before this is a typo, not a holding (the app's P&L starts long after).
EARLIEST_PURCHASE = date(1990, 1, 1)
# A broker's equity series suffix on an exchange-level name ("INFY-EQ" -> "INFY").
SERIES_SUFFIX = re.compile(r"-(EQ|BE|BZ|BL|SM|ST)$")
CASH_EXCHANGES = frozenset({"NSE", "BSE"})


class Refused(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the form field it is about (None: the whole form)


def canonical_names(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(exchange, broker trading symbol) -> the exchange-level name (what a split or
    bonus is announced under): the instrument master's canonical symbol, else the
    symbol without a broker's equity series suffix."""
    pairs = set(pairs)
    found = {}
    symbols = {symbol for _, symbol in pairs}
    if symbols:
        for exchange, trading, canonical in Instrument.objects.filter(
            trading_symbol__in=symbols
        ).values_list("exchange", "trading_symbol", "canonical_symbol"):
            if (exchange, trading) in pairs and canonical:
                found[(exchange, trading)] = canonical.upper()
    for exchange, symbol in pairs:
        if (exchange, symbol) not in found:
            found[(exchange, symbol)] = plain_symbol(exchange, symbol)
    return found


def plain_symbol(exchange: str, symbol: str) -> str:
    symbol = symbol.strip().upper()
    if exchange.upper() in CASH_EXCHANGES or not exchange:
        return SERIES_SUFFIX.sub("", symbol)
    return symbol


def seed_opening_lots(*, account: BrokerAccount, as_of: date) -> int:
    """The account's stored delivery holdings (portfolio's last sync) become opening
    lots held at the start of `as_of`, unless the account already has some. Named by
    the broker's own symbol, as its trade book names the fills that sell them."""
    if OpeningLot.objects.filter(account=account).exists():
        return 0
    lots = [
        OpeningLot(
            user_id=account.user_id,
            account=account,
            exchange=h.exchange,
            symbol=h.broker_symbol or h.symbol,  # the trade book's spelling
            quantity=h.quantity,
            average_price=h.average_price,
            as_of=as_of,
            # When the broker's holdings were read: the fills up to then are in them.
            created_at=h.synced_at,
        )
        for h in Holding.objects.filter(account=account, quantity__gt=0)
    ]
    OpeningLot.objects.bulk_create(lots, ignore_conflicts=True)
    return len(lots)


def set_acquired_on(*, user: User, lot_id: int, acquired_on: date | None) -> OpeningLot:
    """The purchase date of an opening lot (its holding period counts from it)."""
    lot = OpeningLot.objects.get(user=user, pk=lot_id)
    if acquired_on is not None and acquired_on > clock.india_today():
        raise Refused(f"{acquired_on:%d %b %Y} is in the future: give the day it was bought.")
    if acquired_on is not None and acquired_on < EARLIEST_PURCHASE:
        raise Refused(
            f"{acquired_on:%d %b %Y} is before {EARLIEST_PURCHASE:%Y}: check the year "
            "(the date is typed day, month, year)."
        )
    if acquired_on is not None and acquired_on > lot.as_of:
        raise Refused(f"It was already held on {lot.as_of:%d %b %Y}: pick that day or earlier.")
    lot.acquired_on = acquired_on
    lot.save(update_fields=["acquired_on"])
    rebuild(user=user, account=lot.account)
    return lot


def forget_account(*, account: BrokerAccount) -> None:
    """A simulated account started over: its fills, captured days, opening lots and
    round trips go with the book they came from (the next read starts afresh)."""
    with transaction.atomic():
        for model in (RoundTrip, UnmatchedSale, Trade, CapturedDay, OpeningLot):
            model.objects.filter(account=account).delete()


def on_account_reset(sender, account, **kwargs) -> None:
    """Receiver of brokers.signals.account_reset."""
    forget_account(account=account)


def add_adjustment(
    *, user: User, symbol: str, exchange: str, kind: str, ex_date: date, old: int, new: int
) -> Adjustment:
    """A split or bonus, by the exchange-level name ("INFY", also typed "INFY-EQ");
    refused when it is in the future, names nothing the user traded or held, or is
    already there (it would be applied twice)."""
    if old <= 0 or new <= 0:
        raise Refused("Both sides of the ratio must be whole numbers above 0.", field="new")
    if kind == Adjustment.Kind.BONUS and new <= old:
        raise Refused("A bonus gives more shares: the second number must be larger.", field="new")
    if kind == Adjustment.Kind.SPLIT and new == old:
        raise Refused("A split of 1:1 changes nothing.", field="new")
    exchange = exchange.strip().upper()
    symbol = plain_symbol(exchange, symbol)
    if ex_date > clock.india_today():
        raise Refused(
            f"The ex-date {ex_date:%d %b %Y} is in the future: add it on or after that day.",
            field="ex_date",
        )
    held = set(Trade.objects.filter(user=user).values_list("exchange", "symbol").distinct())
    held.update(OpeningLot.objects.filter(user=user).values_list("exchange", "symbol"))
    names = {
        (ex, name)
        for (ex, _), name in canonical_names(held).items()
        if not exchange or ex.upper() == exchange
    }
    if symbol not in {name for _, name in names}:
        where = f" on {exchange}" if exchange else ""
        raise Refused(
            f"{symbol}{where} matches nothing in your trades: check the spelling.", field="symbol"
        )
    fields = {
        "symbol": symbol,
        "exchange": exchange,
        "kind": kind,
        "ex_date": ex_date,
        "old": old,
        "new": new,
    }
    twice = Refused(
        f"This {Adjustment.Kind(kind).label.lower()} of {symbol} ({old}:{new} on "
        f"{ex_date:%d %b %Y}) is already added: adding it again would apply it twice."
    )
    if Adjustment.objects.filter(user=user, **fields).exists():
        raise twice
    try:
        with transaction.atomic():
            adjustment = Adjustment.objects.create(user=user, **fields)
    except IntegrityError:  # the same form sent twice at once
        raise twice from None
    rebuild(user=user)
    return adjustment


def delete_adjustment(*, user: User, adjustment_id: int) -> None:
    Adjustment.objects.filter(user=user, pk=adjustment_id).delete()
    rebuild(user=user)


def _sources():
    from orders.models import Order

    return Order.Source.choices


def fills_of(
    *, user: User, account: BrokerAccount | None = None, symbols: Iterable[str] | None = None
) -> list[matching.Fill]:
    """The fills and opening lots the matching reads, for one account or all (and only
    of `symbols`, when given)."""
    trades = Trade.objects.filter(user=user)
    lots = OpeningLot.objects.filter(user=user)
    if account is not None:
        trades, lots = trades.filter(account=account), lots.filter(account=account)
    if symbols is not None:
        symbols = sorted(set(symbols))
        trades, lots = trades.filter(symbol__in=symbols), lots.filter(symbol__in=symbols)
    sources = dict(_sources())
    fills = []
    rows = trades.values_list(
        "pk",
        "account_id",
        "account_ref",
        "exchange",
        "symbol",
        "product",
        "side",
        "quantity",
        "price",
        "traded_at",
        "broker_order_id",
        "origin",
        "order_id",
        "order__source",
        "order__strategy__name",
    )
    for (
        pk,
        account_id,
        account_ref,
        exchange,
        symbol,
        product,
        side,
        quantity,
        price,
        at,
        order_no,
        origin,
        order_id,
        source,
        strategy,
    ) in rows.iterator(chunk_size=5000):
        if strategy:
            label = strategy
        elif order_id:
            label = sources.get(source, source)
        else:
            label = IMPORTED_LABEL if origin == Trade.Origin.IMPORTED else OUTSIDE_LABEL
        fills.append(
            matching.Fill(
                pk,
                history.book_account(account_id, account_ref),
                exchange,
                symbol,
                product,
                side,
                quantity,
                price,
                at,
                order=order_no,
                strategy=label,
            )
        )
    fills.extend(_opening_fills(user=user, lots=lots, trades=trades))
    return fills


def _opening_fills(*, user, lots, trades) -> list[matching.Fill]:
    """Opening lots, less what delivery fills dated BEFORE the lot's `as_of` day
    already hold (history imported after tracking began must not count its shares
    twice). Fills on the `as_of` day itself are not in the lot: a broker's holdings
    (and the emulator's) show the day's delivery buys as positions until the day
    rolls over, so holdings 40 read at 15:45 and a 10-share buy that day make 50."""
    lots = list(lots)
    if not lots:
        return []
    # A lot is reduced by the stock's delivery fills on NSE and BSE alike (one book).
    pairs = set(
        trades.filter(product="CNC", exchange__in=matching.CASH_EXCHANGES)
        .order_by()
        .values_list("exchange", "symbol")
        .distinct()
    )
    pairs.update((lot.exchange, lot.symbol) for lot in lots)
    names = canonical_names(pairs)
    fills = []
    for lot in lots:
        book = history.book_account(lot.account_id, lot.account_ref)
        same_book = Q(account_id=book) | Q(account__isnull=True, account_ref=book)
        if lot.exchange in matching.CASH_EXCHANGES:
            name = names[(lot.exchange, lot.symbol)]
            spellings = Q()
            for (exchange, symbol), other in names.items():
                if other == name and exchange in matching.CASH_EXCHANGES:
                    spellings |= Q(exchange=exchange, symbol=symbol)
        else:
            spellings = Q(exchange=lot.exchange, symbol=lot.symbol)
        held_before = 0
        for side, quantity in trades.filter(
            same_book,
            spellings,
            product="CNC",
            traded_at__lt=matching.start_of(lot.as_of),
        ).values_list("side", "quantity"):
            held_before += quantity if side == "BUY" else -quantity
        quantity = lot.quantity - max(held_before, 0)
        if quantity <= 0:
            continue
        fills.append(
            matching.Fill(
                f"lot:{lot.pk}",
                book,
                lot.exchange,
                lot.symbol,
                "CNC",
                "BUY",
                quantity,
                lot.average_price,
                matching.start_of(lot.as_of),
                strategy=OPENING_LABEL,
                opening=True,
                acquired=lot.acquired_on,
            )
        )
    return fills


def adjustments_of(*, user: User) -> list[matching.AdjustmentSpec]:
    return [
        matching.AdjustmentSpec(a.symbol, a.exchange, a.kind, a.ex_date, a.old, a.new)
        for a in Adjustment.objects.filter(user=user)
    ]


@dataclass
class RebuildResult:
    fills: int
    round_trips: int
    open_lots: int


def rebuild(
    *, user: User, account: BrokerAccount | None = None, symbols: Iterable[str] | None = None
) -> RebuildResult:
    """Replace the round trips of `account` (or of every account of `user`); with
    `symbols`, only theirs — books never match across instruments, so the others'
    round trips stand as they are (capture passes the symbols its new fills touch)."""
    if symbols is not None:
        symbols = sorted(same_stock(user=user, account=account, symbols=set(symbols)))
    fills = fills_of(user=user, account=account, symbols=symbols)
    canonical = canonical_names((f.exchange, f.symbol) for f in fills)
    result = matching.match_fills(fills, adjustments_of(user=user), canonical=canonical)
    # A deleted account's round trips name it as its fills do (their account_name).
    names = dict(
        Trade.objects.filter(user=user, account__isnull=True)
        .order_by()
        .values_list("account_ref", "account_name")
        .distinct()
    )
    accounts = {a.pk: a.display_name for a in BrokerAccount.objects.filter(user=user)}
    rows = []
    table = charges.schedule()
    for m in result.round_trips:
        estimate = charges.estimate(m, table=table)
        rows.append(
            RoundTrip(
                user=user,
                account_id=m.account if m.account in accounts else None,
                account_ref=m.account,
                account_name=accounts.get(m.account) or names.get(m.account, ""),
                exchange=m.exchange,
                symbol=m.symbol,
                product_class=m.product_class,
                direction=m.direction,
                quantity=m.quantity,
                opened_at=m.opened_at,
                closed_at=m.closed_at,
                open_date=m.open_date,
                close_date=m.close_date,
                open_average=_q(m.open_average),
                close_average=_q(m.close_average),
                gross=_q(m.gross),
                charges_estimate=estimate,
                net=_q(m.gross - estimate),
                classification=m.classification,
                financial_year=m.financial_year,
                from_opening_lot=m.from_opening_lot,
                grandfathered=m.grandfathered,
                note=m.note[:200],
                strategy=m.strategy[:100],
                seq=m.seq,
            )
        )
    unmatched = [
        UnmatchedSale(
            user=user,
            account_id=u.account if u.account in accounts else None,
            account_ref=u.account,
            account_name=accounts.get(u.account) or names.get(u.account, ""),
            exchange=u.exchange,
            symbol=u.symbol,
            quantity=u.quantity,
            price=u.price,
            sold_at=u.at,
            sale_date=u.day,
            financial_year=u.financial_year,
        )
        for u in result.unmatched
    ]
    with transaction.atomic():
        for model in (RoundTrip, UnmatchedSale):
            old = model.objects.filter(user=user)
            if account is not None:
                old = old.filter(account=account)
            if symbols is not None:
                old = old.filter(symbol__in=symbols)
            old.delete()
        RoundTrip.objects.bulk_create(rows, batch_size=1000)
        UnmatchedSale.objects.bulk_create(unmatched, batch_size=1000)
    return RebuildResult(len(fills), len(rows), sum(len(v) for v in result.open_lots.values()))


def same_stock(*, user: User, account: BrokerAccount | None, symbols: set[str]) -> set[str]:
    """`symbols` and every other spelling of the same stocks (a delivery book holds
    a stock's NSE and BSE fills: "INFY-EQ" bought on NSE, "INFY" sold on BSE)."""
    trades, lots = Trade.objects.filter(user=user), OpeningLot.objects.filter(user=user)
    if account is not None:
        trades, lots = trades.filter(account=account), lots.filter(account=account)
    pairs = set(trades.order_by().values_list("exchange", "symbol").distinct())
    pairs.update(lots.values_list("exchange", "symbol"))
    names = canonical_names(pairs)
    wanted = {names[pair] for pair in pairs if pair[1] in symbols}
    return symbols | {pair[1] for pair in pairs if names[pair] in wanted}


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))
