#!/usr/bin/env python
"""Alerts benchmark (prints figures; not a test).

In a throwaway database (SQLite unless DATABASE_URL): `--symbols` instruments with
a cached live price and `--bars` stored daily candles each, one user holding every
one of them on one account, and `--rules` rules of a realistic mix (price levels,
crossings, % change, SMA/EMA/RSI/ATR on daily candles, every cadence a tick rule
uses), spread over the symbols, plus `--holdings-rules` rules over the whole
holdings. It times evaluation cycles (the first creates the per-symbol state rows,
later ones are the steady state) and then the screener over `--universe` symbols
with `--bars` candles each. Reports wall time, peak Python memory (tracemalloc),
database queries and broker calls (the evaluation reads the quote cache and the
candle store only: any broker call would be counted at the adapter layer).

    .venv/bin/python bench/alerts.py [--rules 500] [--symbols 200] [--universe 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import counting, throwaway_django  # noqa: E402

EXPRESSIONS = [
    "close >= {level}",
    "close <= {low}",
    "crosses_above(close, {level})",
    "crosses_below(close, {low})",
    "change_pct >= 2",
    "close > sma(close, 50) and rsi(14) < 70",
    "crosses_above(ema(close, 9), ema(close, 21))",
    "rsi(close, 14) < 30",
    "close > prev(highest(high, 20))",
    "volume >= 2 * sma(volume, 20) and atr(14) / close * 100 > 1",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--holdings-rules", type=int, default=5)
    parser.add_argument("--universe", type=int, default=2000)
    parser.add_argument("--bars", type=int, default=250)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    env = {"MARKET_CLOCK": "always-open"}
    with throwaway_django("sigmatrader-bench-alerts-", env=env) as (_settings, _work):
        run(args)
    return 0


def seed(universe: int, bars: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from brokers import accounts
    from marketdata.models import Candle, Instrument

    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    account = accounts.create_account(
        user=user, broker="paper", label="paper", credentials={"starting_cash": "100000"}
    )
    Instrument.objects.bulk_create(
        [
            Instrument(
                broker="zerodha",
                exchange="NSE",
                trading_symbol=f"S{i:05d}",
                canonical_symbol=f"S{i:05d}",
                token=str(100000 + i),
                instrument_type="EQ",
                lot_size=1,
                tick_size=Decimal("0.05"),
                row_hash="b",
            )
            for i in range(universe)
        ],
        batch_size=2000,
    )
    now = timezone.now()
    started = time.perf_counter()
    rows = []
    for i in range(universe):
        base = 100 + (i % 900)
        for b in range(bars):
            close = Decimal(base + ((b * 7 + i) % 23) - 11)
            rows.append(
                Candle(
                    exchange="NSE",
                    canonical_symbol=f"S{i:05d}",
                    interval="1d",
                    at=now - timedelta(days=bars - b),
                    open=close,
                    high=close + 2,
                    low=close - 2,
                    close=close,
                    volume=1000 + (b * 13 + i) % 500,
                )
            )
        if len(rows) >= 50_000:
            Candle.objects.bulk_create(rows, batch_size=5000)
            rows = []
    Candle.objects.bulk_create(rows, batch_size=5000)
    print(f"seeded {universe} symbols × {bars} daily bars in {time.perf_counter() - started:.1f} s")
    return user, account, now


def run(args) -> None:
    from django.db import connection

    from alerts import engine, feeds, screener
    from alerts.models import AlertRule, ScreenerRun
    from marketdata import live
    from marketdata.models import Instrument
    from portfolio.models import Holding

    universe = max(args.universe, args.symbols)
    user, account, _now = seed(universe, args.bars)
    watched = list(Instrument.objects.order_by("pk")[: args.symbols])
    for instrument in watched:
        live.store(instrument, price=Decimal(500), close=Decimal(495), at=time.time())
    Holding.objects.bulk_create(
        [
            Holding(
                account=account,
                instrument=instrument,
                symbol=instrument.canonical_symbol,
                broker_symbol=instrument.trading_symbol,
                exchange="NSE",
                quantity=10,
                average_price=Decimal(450),
                last_price=Decimal(500),
                close_price=Decimal(495),
                pnl=Decimal(500),
            )
            for instrument in watched
        ]
    )
    rules = []
    for n in range(args.rules):
        symbol = watched[n % len(watched)].canonical_symbol
        text = EXPRESSIONS[n % len(EXPRESSIONS)].format(level=490 + n % 20, low=480 + n % 20)
        rules.append(
            AlertRule(
                user=user,
                name=f"rule {n}",
                symbol=f"NSE:{symbol}",
                expression=text,
                trigger=AlertRule.Trigger.EVERY_TIME,
                cooldown_seconds=3600,
                market_hours_only=False,
            )
        )
    for n in range(args.holdings_rules):
        rules.append(
            AlertRule(
                user=user,
                name=f"holdings {n}",
                target=AlertRule.Target.HOLDINGS,
                expression=["pnl_pct >= 12", "close > sma(close, 50) and pnl_pct > 5"][n % 2],
                trigger=AlertRule.Trigger.ONCE_PER_BAR,
                market_hours_only=False,
            )
        )
    AlertRule.objects.bulk_create(rules)
    pairs = args.rules + args.holdings_rules * len(watched)
    print(
        f"\n{args.rules} symbol rules over {len(watched)} symbols + {args.holdings_rules} "
        f"holdings rules × {len(watched)} holdings = {pairs} evaluations per cycle"
    )
    times = []
    for cycle in range(args.cycles + 1):
        # Every cycle a new price, so crossings move and the cache is read afresh.
        price = Decimal(485 + (cycle * 9) % 30)
        for instrument in watched:
            live.store(instrument, price=price, close=Decimal(495), at=time.time())
        memory = cycle == args.cycles  # a last cycle under tracemalloc (it slows Python)
        if memory:
            tracemalloc.start()
        with counting(connection) as queries:
            started = time.perf_counter()
            counts = engine.run_cycle()
            elapsed = time.perf_counter() - started
        if memory:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"peak Python memory during a cycle: {peak / 2**20:.1f} MiB")
            break
        times.append(elapsed)
        print(
            f"cycle {cycle + 1}: {elapsed * 1000:7.0f} ms, {len(queries):5d} queries, "
            f"fired {counts['fired']:4d}, not evaluable {counts['missing']}"
        )
    steady = times[1:] or times
    print(
        f"steady state: median {statistics.median(steady) * 1000:.0f} ms per cycle "
        f"({statistics.median(steady) / pairs * 1e6:.0f} µs per rule × symbol); "
        f"broker calls per cycle: 0 (quote cache + candle store)"
    )
    plan = feeds.quote_plan(list(AlertRule.objects.filter(enabled=True)))
    print(
        f"quote refresh for these rules: {len(plan)} batched call(s) "
        "(0 here: every price in the cache is fresh; else one per account)"
    )

    run_row = ScreenerRun.objects.create(
        user=user,
        universe=ScreenerRun.Universe.SEGMENT,
        segment="NSE",
        expression="close > sma(close, 50) and rsi(14) < 70 and volume > sma(volume, 20)",
    )
    with counting(connection) as queries:
        started = time.perf_counter()
        screener.run(run_row.pk)
        elapsed = time.perf_counter() - started
    again = ScreenerRun.objects.create(
        user=user, universe=run_row.universe, segment="NSE", expression=run_row.expression
    )
    tracemalloc.start()
    screener.run(again.pk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    run_row.refresh_from_db()
    print(
        f"\nscreener over {run_row.total} symbols × {args.bars} bars: {elapsed:.2f} s, "
        f"{len(queries)} queries, peak {peak / 2**20:.1f} MiB, {run_row.matched} matches, "
        f"{run_row.skipped} skipped, status {run_row.status}; broker calls: 0 (stored candles)"
    )


if __name__ == "__main__":
    sys.exit(main())
