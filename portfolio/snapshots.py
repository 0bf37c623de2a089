"""Daily portfolio snapshots: one row per account and day, replaced if taken again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from brokers.models import BrokerAccount

from .models import Holding, PortfolioSnapshot, PortfolioSync, Position
from .summary import totals


def _holding_copy(row: Holding) -> dict:
    return {
        "symbol": row.symbol,
        "exchange": row.exchange,
        "quantity": row.quantity,
        "t1_quantity": row.t1_quantity,
        "mtf_quantity": row.mtf_quantity,
        "average_price": str(row.average_price),
        "last_price": str(row.last_price),
        "pnl": str(row.pnl),
    }


def _position_copy(row: Position) -> dict:
    return {
        "symbol": row.symbol,
        "exchange": row.exchange,
        "product": row.product,
        "quantity": row.quantity,
        "average_price": str(row.average_price),
        "last_price": str(row.last_price),
        "realised": str(row.realised),
        "unrealised": str(row.unrealised),
        "pnl": str(row.pnl),
    }


def snapshot_account(account: BrokerAccount, day: date) -> PortfolioSnapshot:
    holdings = list(Holding.objects.filter(account=account))
    positions = list(Position.objects.filter(account=account))
    figures = totals(holdings)
    cash = PortfolioSync.objects.filter(account=account).values_list("available_cash", flat=True)
    snapshot, _ = PortfolioSnapshot.objects.update_or_create(
        account=account,
        date=day,
        defaults={
            "taken_at": timezone.now(),
            "invested": figures.invested,
            "current_value": figures.current_value,
            "pnl": figures.pnl,
            "day_pnl": figures.day_pnl + sum((p.m2m for p in positions), Decimal("0")),
            "available_cash": cash.first(),
            "holdings": [_holding_copy(row) for row in holdings],
            "positions": [_position_copy(row) for row in positions],
        },
    )
    return snapshot


def snapshot_all(day: date | None = None) -> int:
    """Snapshot every account that has been synced at least once."""
    day = day or timezone.localdate()
    synced = PortfolioSync.objects.filter(account=OuterRef("pk"), synced_at__isnull=False)
    accounts = BrokerAccount.objects.filter(Exists(synced))
    return sum(1 for account in accounts if snapshot_account(account, day))
