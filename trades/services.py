"""Writes: opening lots, adjustments, and the rebuild of round trips from fills.

`rebuild` is the one writer of RoundTrip: it reads the user's fills (of one
account, or all), opening lots and adjustments, runs the pure FIFO matching
(trades/matching.py), estimates charges (trades/charges.py) and replaces the
round trips of those accounts in one transaction. Running it twice gives the
same rows; capture, import, a new adjustment and `manage.py rebuild_pnl` call it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from brokers.models import BrokerAccount
from portfolio.models import Holding

from . import charges, matching
from .models import Adjustment, CapturedDay, OpeningLot, RoundTrip, Trade

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

IMPORTED_LABEL = "Imported history"
OUTSIDE_LABEL = "Placed outside the app"
OPENING_LABEL = "Opening holdings"


class Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
        )
        for h in Holding.objects.filter(account=account, quantity__gt=0)
    ]
    OpeningLot.objects.bulk_create(lots, ignore_conflicts=True)
    return len(lots)


def set_acquired_on(*, user: User, lot_id: int, acquired_on: date | None) -> OpeningLot:
    """The purchase date of an opening lot (its holding period counts from it)."""
    lot = OpeningLot.objects.get(user=user, pk=lot_id)
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
        for model in (RoundTrip, Trade, CapturedDay, OpeningLot):
            model.objects.filter(account=account).delete()


def on_account_reset(sender, account, **kwargs) -> None:
    """Receiver of brokers.signals.account_reset."""
    forget_account(account=account)


def add_adjustment(
    *, user: User, symbol: str, exchange: str, kind: str, ex_date: date, old: int, new: int
) -> Adjustment:
    if old <= 0 or new <= 0:
        raise Refused("Both sides of the ratio must be whole numbers above 0.")
    if kind == Adjustment.Kind.BONUS and new <= old:
        raise Refused("A bonus gives more shares: the second number must be larger.")
    if kind == Adjustment.Kind.SPLIT and new == old:
        raise Refused("A split of 1:1 changes nothing.")
    adjustment = Adjustment.objects.create(
        user=user,
        symbol=symbol.strip().upper(),
        exchange=exchange.strip().upper(),
        kind=kind,
        ex_date=ex_date,
        old=old,
        new=new,
    )
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
                account_id,
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
    """Opening lots, less what imported fills dated before the lot already hold
    (history imported after tracking began must not count those shares twice)."""
    fills = []
    for lot in lots:
        held_before = 0
        for side, quantity in trades.filter(
            account_id=lot.account_id,
            exchange=lot.exchange,
            symbol=lot.symbol,
            product="CNC",
            trade_date__lt=lot.as_of,
        ).values_list("side", "quantity"):
            held_before += quantity if side == "BUY" else -quantity
        quantity = lot.quantity - max(held_before, 0)
        if quantity <= 0:
            continue
        fills.append(
            matching.Fill(
                f"lot:{lot.pk}",
                lot.account_id,
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
        symbols = sorted(set(symbols))
    fills = fills_of(user=user, account=account, symbols=symbols)
    result = matching.match_fills(fills, adjustments_of(user=user))
    names = dict(
        Trade.objects.filter(user=user)
        .order_by()
        .values_list("account_id", "account_name")
        .distinct()
    )
    names.update(BrokerAccount.objects.filter(user=user).values_list("pk", "label"))
    accounts = {a.pk: a.display_name for a in BrokerAccount.objects.filter(user=user)}
    rows = []
    table = charges.schedule()
    for m in result.round_trips:
        estimate = charges.estimate(m, table=table)
        rows.append(
            RoundTrip(
                user=user,
                account_id=m.account,
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
    with transaction.atomic():
        old = RoundTrip.objects.filter(user=user)
        if account is not None:
            old = old.filter(account=account)
        if symbols is not None:
            old = old.filter(symbol__in=symbols)
        old.delete()
        RoundTrip.objects.bulk_create(rows, batch_size=1000)
    return RebuildResult(len(fills), len(rows), sum(len(v) for v in result.open_lots.values()))


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))
