"""Reads on holdings and positions, always scoped to the signed-in user."""

from django.shortcuts import get_object_or_404

from .models import Holding, PortfolioSnapshot, PortfolioSync, Position


def holdings_of(user, account=None):
    rows = Holding.objects.filter(account__user=user).select_related("account")
    return rows.filter(account=account) if account is not None else rows


def positions_of(user, account=None):
    rows = Position.objects.filter(account__user=user).select_related("account", "instrument")
    return rows.filter(account=account) if account is not None else rows


def rows_for_page(queryset, accounts) -> list:
    """A holdings/positions queryset's rows with their instrument, each row's `account`
    taken from `accounts` (the user's, already loaded) instead of a joined copy per row:
    every copy would decrypt the account's stored credentials and session again."""
    by_pk = {account.pk: account for account in accounts}
    rows = list(queryset.select_related(None).select_related("instrument"))
    for row in rows:
        found = by_pk.get(row.account_id)
        if found is not None:  # else its account loads when first read
            row.account = found
    return rows


def position_for(user, position_id, key: str = "") -> Position | None:
    """The position a square-off form names. Its key (Position.key) wins: a page open
    since the last sync (every 5 minutes, and after each fill) posts a pk that is gone.
    None when the key names no position now; an unknown pk alone is a 404."""
    rows = Position.objects.select_related("account", "instrument").filter(account__user=user)
    if not key:
        return get_object_or_404(rows, pk=position_id)
    parts = Position.parse_key(key)
    return rows.filter(**parts).first() if parts else None


def held_quantity(account, symbol: str, exchange: str) -> int:
    """What the account holds of one instrument (T1 included), by canonical symbol:
    holdings plus the net delivery (CNC) position, which has today's delivery
    buys (not holdings yet) and today's sales out of holdings (still in them)."""
    rows = Holding.objects.filter(account=account, symbol=symbol, exchange=exchange)
    day = Position.objects.filter(account=account, symbol=symbol, exchange=exchange, product="CNC")
    return sum(rows.values_list("quantity", flat=True)) + sum(
        day.values_list("quantity", flat=True)
    )


def sync_states(accounts) -> dict:
    """account id -> PortfolioSync (absent when never synced)."""
    return {s.account_id: s for s in PortfolioSync.objects.filter(account__in=accounts)}


def snapshots_of(user):
    return PortfolioSnapshot.objects.filter(account__user=user).select_related("account")
