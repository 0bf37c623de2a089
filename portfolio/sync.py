"""Portfolio sync: holdings, positions and funds from each connected account.

One holdings call, one positions call and one funds call per account. The
account's rows are replaced in one transaction (readers see the old set or the
new one). A broker error leaves the previous rows in place, is kept on the
account's PortfolioSync row for the pages, and becomes an event; an expired
session marks the account expired (the pages then say "reconnect").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from brokers import base
from brokers.base import AuthExpired, BrokerError
from brokers.connections import calling
from brokers.events import account_event
from brokers.models import BrokerAccount
from marketdata.models import Instrument
from sigmatrader.models import SystemEvent

from .models import Holding, PortfolioSync, Position
from .signals import portfolio_synced

logger = logging.getLogger(__name__)


@dataclass
class PortfolioSyncResult:
    account_id: int
    holdings: int = 0
    positions: int = 0
    error: str = ""
    expired: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def _instruments(account: BrokerAccount, refs: list[base.InstrumentRef]) -> dict:
    """(exchange, broker symbol) -> Instrument, in one query."""
    symbols = {ref.symbol for ref in refs}
    found = Instrument.objects.filter(broker=account.broker, trading_symbol__in=symbols)
    return {(i.exchange, i.trading_symbol): i for i in found}


def _common(ref: base.InstrumentRef, instrument: Instrument | None, row) -> dict:
    last, close = row.last_price, row.close_price if hasattr(row, "close_price") else None
    day_change = getattr(row, "day_change", None)
    if day_change is None and close:
        day_change = last - close
    return {
        "instrument": instrument,
        "symbol": instrument.canonical_symbol if instrument else ref.symbol,
        "broker_symbol": ref.symbol,
        "exchange": ref.exchange,
        "quantity": row.quantity,
        "average_price": row.average_price,
        "last_price": last,
        "close_price": close,
        "day_change": day_change,
    }


def holding_row(account, holding: base.Holding, instrument, now) -> Holding:
    pnl = holding.pnl
    if pnl is None:
        pnl = (holding.last_price - holding.average_price) * holding.quantity
    return Holding(
        account=account,
        synced_at=now,
        pnl=pnl,
        t1_quantity=holding.t1_quantity,
        mtf_quantity=holding.mtf_quantity,
        isin=holding.isin[:12],
        **_common(holding.instrument, instrument, holding),
    )


def position_row(account, position: base.Position, instrument, now) -> Position:
    return Position(
        account=account,
        synced_at=now,
        pnl=position.pnl,
        product=str(position.product),
        overnight_quantity=position.overnight_quantity,
        buy_quantity=position.buy_quantity,
        sell_quantity=position.sell_quantity,
        buy_average=position.buy_average,
        sell_average=position.sell_average,
        day_buy_quantity=position.day_buy_quantity,
        day_sell_quantity=position.day_sell_quantity,
        realised=position.realised,
        unrealised=position.unrealised,
        m2m=position.m2m,
        **_common(position.instrument, instrument, position),
    )


def _fail(account, state: PortfolioSync, message: str, *, expired: bool) -> PortfolioSyncResult:
    PortfolioSync.objects.filter(pk=state.pk).update(error=message[:2000])
    if not expired:  # mark_expired has already written its own event
        account_event(
            account,
            f"Portfolio sync of {account.display_name} failed: {message}",
            category=SystemEvent.Category.SYNC,
            level=SystemEvent.Level.WARNING,
        )
    return PortfolioSyncResult(account_id=account.pk, error=message, expired=expired)


def portfolio_sync_account(account: BrokerAccount) -> PortfolioSyncResult:
    """Replace the account's holdings and positions with the broker's; never raises
    for a broker's trouble (the result and the account's PortfolioSync say it)."""
    state, _ = PortfolioSync.objects.get_or_create(account=account)
    now = timezone.now()
    PortfolioSync.objects.filter(pk=state.pk).update(attempted_at=now)
    funds, funds_error = None, ""
    try:
        with calling(account) as adapter:
            holdings = adapter.holdings()
            positions = adapter.positions()
            try:
                funds = adapter.funds()
            except AuthExpired:
                raise
            except BrokerError as exc:  # funds are a tile, not a reason to drop holdings
                funds_error = exc.message
    except AuthExpired as exc:
        return _fail(
            account,
            state,
            f"Session expired: reconnect {account.display_name}. ({exc.message})",
            expired=True,
        )
    except BrokerError as exc:
        return _fail(account, state, exc.message, expired=False)

    known = _instruments(account, [h.instrument for h in holdings + positions])

    def instrument_of(ref):
        return known.get((ref.exchange, ref.symbol))

    new_holdings = [holding_row(account, h, instrument_of(h.instrument), now) for h in holdings]
    new_positions = [position_row(account, p, instrument_of(p.instrument), now) for p in positions]
    with transaction.atomic():
        Holding.objects.filter(account=account).delete()
        Holding.objects.bulk_create(new_holdings, batch_size=500)
        Position.objects.filter(account=account).delete()
        Position.objects.bulk_create(new_positions, batch_size=500)
        PortfolioSync.objects.filter(pk=state.pk).update(
            synced_at=now,
            error="",
            funds_error=funds_error,
            available_cash=funds.available_cash if funds else None,
            used_margin=funds.used_margin if funds else None,
        )
        transaction.on_commit(
            lambda: portfolio_synced.send_robust(sender=PortfolioSync, account_id=account.pk)
        )
    return PortfolioSyncResult(
        account_id=account.pk, holdings=len(new_holdings), positions=len(new_positions)
    )


def accounts_for_portfolio_sync(account_id: int | None = None):
    accounts = BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
    if account_id:
        accounts = accounts.filter(pk=account_id)
    return accounts.select_related("user")


def portfolio_sync_all(account_id: int | None = None) -> list[PortfolioSyncResult]:
    results = []
    for account in accounts_for_portfolio_sync(account_id):
        try:
            results.append(portfolio_sync_account(account))
        except Exception:  # one account's trouble never stops the others
            logger.exception("portfolio sync crashed for account %s", account.pk)
            results.append(PortfolioSyncResult(account_id=account.pk, error="Unexpected error."))
    return results
