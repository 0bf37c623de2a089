"""An account's day P&L, read for its loss limit.

Day P&L = realised + unrealised of the account's positions (as its broker
reports them, moved to the shared live price where one is cached), plus —
when the limit asks — its holdings' day change (day move × quantity). The
positions come from portfolio's own sync (`portfolio_sync_account`, the same
three calls under the same rate limits), at most once per
PROTECTION_MIN_SYNC_SECONDS per account: a fill's refresh or the 5-minute sync
that just ran is reused.

Unknown is never zero: when the sync fails, or the rows are older than
PROTECTION_STALE_SECONDS, or a holding has no day change, the reading's `pnl`
is None with the reason in `error`.

Start-of-day capital (for a limit in % of it) = the funds the broker reported
(available cash + used margin) at the account's first reading of the trading
day, kept for the rest of that day.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from brokers.models import BrokerAccount
from marketdata import clock
from portfolio.live import overlay_rows
from portfolio.models import Holding, PortfolioSync, Position
from portfolio.sync import portfolio_sync_account

from .models import DayReading

ZERO = Decimal("0")
CENT = Decimal("0.01")


def min_sync_seconds() -> int:
    return settings.PROTECTION_MIN_SYNC_SECONDS


def stale_seconds() -> int:
    return settings.PROTECTION_STALE_SECONDS


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def read_account(
    *, account: BrokerAccount, include_holdings: bool, sync: bool = True
) -> DayReading:
    """Refresh (when due) and read the account's day P&L; stored as today's reading."""
    now = timezone.now()
    day = clock.trading_day(now)
    reading, _ = DayReading.objects.get_or_create(account=account, trading_day=day)
    state = PortfolioSync.objects.filter(account=account).first()
    error = ""
    due = state is None or state.synced_at is None
    due = due or state.synced_at < now - timedelta(seconds=min_sync_seconds())
    if not account.is_connected:
        error = f"{account.display_name} is {account.get_status_display().lower()}: reconnect it."
    elif sync and due:
        result = portfolio_sync_account(account)
        if not result.ok:
            error = f"Positions could not be read: {result.error}"
        state = PortfolioSync.objects.filter(account=account).first()
    if not error and (state is None or state.synced_at is None):
        error = "Positions have not been read yet."
    elif not error and state is not None and state.synced_at is not None:
        age = (now - state.synced_at).total_seconds()
        if age > stale_seconds():
            error = f"Positions last read {int(age)} s ago (older than {stale_seconds()} s)."
    fields: dict = {"read_at": now, "error": error}
    if error:
        fields.update(pnl=None, realised=None, unrealised=None, holdings_day=None)
    else:
        positions = list(Position.objects.filter(account=account).select_related("instrument"))
        overlay_rows(positions)
        realised = sum((p.realised for p in positions), ZERO)
        unrealised = sum((p.unrealised for p in positions), ZERO)
        holdings_day = None
        pnl: Decimal | None = realised + unrealised
        if include_holdings:
            holdings = list(Holding.objects.filter(account=account).select_related("instrument"))
            overlay_rows(holdings)
            moves = [h.day_pnl for h in holdings]
            if any(m is None for m in moves):
                pnl, fields["error"] = None, "A holding has no day change (no previous close)."
            else:
                holdings_day = sum((m for m in moves if m is not None), ZERO)
                pnl = (pnl or ZERO) + holdings_day
        fields.update(
            realised=_money(realised),
            unrealised=_money(unrealised),
            holdings_day=_money(holdings_day) if holdings_day is not None else None,
            pnl=_money(pnl) if pnl is not None else None,
        )
        funds_known = state is not None and state.available_cash is not None
        if reading.start_capital is None and funds_known and state.used_margin is not None:
            fields["start_capital"] = _money(state.available_cash + state.used_margin)
    DayReading.objects.filter(pk=reading.pk).update(**fields)
    reading.refresh_from_db()
    return reading
