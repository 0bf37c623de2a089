"""Feeding alerts with data, within the brokers' limits: live prices for the
symbols rules watch that no other refresh keeps fresh, and stored candles for
the ones whose conditions need history.

Quotes: one batched call per account (`marketdata.live.refresh_quotes`), on an
account of the rule's owner that offers quotes; a symbol whose cached price is
still fresh (the holdings refresh keeps held symbols fresh) costs nothing.
Candles: at most `ALERTS_CANDLE_FETCHES_PER_RUN` fetches per run, each
(interval, symbol) at most once per bar length, so history rate limits hold
however many rules share a symbol — never a fetch per rule per tick.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from brokers.base import BrokerError, ConnectFlow
from brokers.models import BrokerAccount
from marketdata import live
from marketdata.candles import accounts_with_history, fetch_candles
from marketdata.models import Candle
from marketdata.resolution import SymbolNotFound, resolve

from . import data
from .engine import bars_needed, interval_of, prepare
from .models import AlertRule

logger = logging.getLogger(__name__)
FRESH_SECONDS = 5.0


def _quote_accounts(user_ids) -> dict[int, list[BrokerAccount]]:
    found: dict[int, list[BrokerAccount]] = {}
    for account in BrokerAccount.objects.filter(
        user_id__in=user_ids, status=BrokerAccount.Status.CONNECTED
    ).order_by("pk"):
        if account.adapter_class.connect_flow is not ConnectFlow.NONE:
            found.setdefault(account.user_id, []).append(account)
    return found


def quote_plan(rules) -> dict:
    """{account: [(instrument, [])]} for the tick rules' symbols without a fresh price."""
    prepared = [
        p for p in prepare(r for r in rules if r.cadence == AlertRule.Cadence.TICK) if p.compiled
    ]
    wanted: dict[int, set[tuple[str, str]]] = {}
    for p in prepared:
        wanted.setdefault(p.rule.user_id, set()).update((i.exchange, i.symbol) for i in p.items)
    if not wanted:
        return {}
    fresh = {
        name
        for name, price in data.live_prices(set().union(*wanted.values())).items()
        if price.age < FRESH_SECONDS
    }
    accounts = _quote_accounts(wanted)
    plan: dict[BrokerAccount, dict[int, tuple]] = {}
    planned: set[tuple[str, str]] = set()
    for user_id, names in wanted.items():
        for name in sorted(names - fresh - planned):
            for account in accounts.get(user_id, []):
                try:
                    instrument = resolve(broker=account.broker, symbol=name[1], exchange=name[0])
                except SymbolNotFound:
                    continue
                plan.setdefault(account, {})[instrument.pk] = (instrument, [])
                planned.add(name)
                break
    return {account: list(entries.values()) for account, entries in plan.items()}


def refresh_quotes(rules) -> dict:
    return live.refresh_quotes(quote_plan(rules))


def candle_needs(rules) -> dict[tuple[str, str, str], tuple[int, set]]:
    """{(interval, exchange, symbol): (bars needed, owners)} over rules whose conditions
    need candles; a symbol's candles are fetched through its rules' owners' accounts."""
    needs: dict[tuple[str, str, str], tuple[int, set]] = {}
    for p in prepare(rules):
        if p.compiled is None or not (
            p.compiled.needs_candles or p.rule.cadence != AlertRule.Cadence.TICK
        ):
            continue
        interval = interval_of(p.rule)
        for item in p.items:
            key = (interval, item.exchange, item.symbol)
            depth, owners = needs.get(key, (0, set()))
            needs[key] = (max(depth, bars_needed(p.compiled)), owners | {p.rule.user})
    return needs


def fetch_due_candles(rules, *, now=None, limit: int | None = None) -> dict:
    """Fetch the candles rules need that are older than a bar, the oldest first."""
    now = now or timezone.now()
    limit = limit if limit is not None else settings.ALERTS_CANDLE_FETCHES_PER_RUN
    needs = candle_needs(list(rules))
    counts = {"needed": len(needs), "fetched": 0, "bars": 0, "errors": 0, "no_account": 0}
    if not needs:
        return counts
    newest = {
        (row["interval"], row["exchange"], row["canonical_symbol"]): row["at"]
        for row in Candle.objects.filter(
            interval__in={k[0] for k in needs},
            canonical_symbol__in={k[2] for k in needs},
        )
        .values("interval", "exchange", "canonical_symbol")
        .annotate(at=Max("at"))
    }
    never = now - timedelta(days=36500)
    for key in sorted(needs, key=lambda k: newest.get(k) or never):
        if counts["fetched"] >= limit:
            break
        interval, exchange, symbol = key
        depth, owners = needs[key]
        span = timedelta(seconds=data.SPAN[interval])
        latest = newest.get(key)
        if latest is not None and now - latest < span:
            continue
        # Each (interval, symbol) asked at most once per bar length, whatever the outcome.
        if not cache.add(f"alerts:candles:{interval}:{exchange}:{symbol}", 1, data.SPAN[interval]):
            continue
        days = depth * data.SPAN[interval] * data.CALENDAR[interval] / 86400 + 10
        start = latest or now - timedelta(days=days)
        if fetch_history(
            sorted(owners, key=lambda u: u.pk), interval, exchange, symbol, start, now, counts
        ):
            counts["fetched"] += 1
    return counts


def fetch_history(users, interval, exchange, symbol, start, end, counts) -> bool:
    """Fetch one symbol's candles through the first of `users`' accounts offering
    them (its adapter keeps the history rate limit); False when none does."""
    for user in users:
        for account in accounts_with_history(user, interval):
            try:
                instrument = resolve(broker=account.broker, symbol=symbol, exchange=exchange)
            except SymbolNotFound:
                continue
            try:
                counts["bars"] += fetch_candles(
                    account=account, instrument=instrument, interval=interval, start=start, end=end
                )
            except BrokerError as exc:
                logger.info("alert candles %s:%s %s: %s", exchange, symbol, interval, exc.message)
                counts["errors"] += 1
            return True
    counts["no_account"] += 1
    return False
