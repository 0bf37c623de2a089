#!/usr/bin/env python
"""Trades benchmark (prints figures; not a test): rebuild the P&L of 50,000 fills.

In a throwaway database (SQLite unless DATABASE_URL): one user, `--accounts`
accounts, `--trades` fills over `--symbols` NSE symbols across two years — a mix
of delivery buys and sells (some held past 12 months), intraday MIS round trips
and shorts, many fills per order — plus opening lots and a split. It times
`trades.services.rebuild` (read the fills, FIFO-match, estimate charges, replace
the round trips), twice (the second replaces the first's rows), the rebuild of
two symbols of one account (what a captured fill triggers), and the pure
matching alone, with peak Python memory (tracemalloc) and database queries; then
the P&L and trades pages and both exports over that history (server time).

    .venv/bin/python bench/trades.py [--trades 50000] [--symbols 200] [--accounts 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import counting, throwaway_django  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=50_000)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    with throwaway_django("sigmatrader-bench-trades-", web=True) as (_settings, _work):
        run(args)
    return 0


def seed(args):
    from django.contrib.auth import get_user_model

    from brokers import accounts
    from trades.matching import IST
    from trades.models import Adjustment, OpeningLot, Trade

    rng = random.Random(args.seed)
    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    books = [
        accounts.create_account(
            user=user, broker="paper", label=f"book {n}", credentials={"starting_cash": "1"}
        )
        for n in range(args.accounts)
    ]
    symbols = [f"SYM{n:03d}" for n in range(args.symbols)]
    start = datetime(2024, 4, 1, 9, 15, tzinfo=IST)
    rows, n = [], 0
    while n < args.trades:
        account = rng.choice(books)
        symbol = rng.choice(symbols)
        day = start + timedelta(days=rng.randrange(0, 730))
        if day.weekday() >= 5:
            continue
        price = Decimal(rng.randrange(5000, 500000)) / 100
        intraday = rng.random() < 0.4
        product = "MIS" if intraday else "CNC"
        first = "SELL" if intraday and rng.random() < 0.3 else "BUY"
        quantity = rng.randrange(1, 200)
        # One order filled in 1-3 parts, then (intraday) its square-off the same day.
        legs = [(first, day)]
        if intraday:
            legs.append(("BUY" if first == "SELL" else "SELL", day + timedelta(hours=4)))
        elif rng.random() < 0.6:
            legs.append(("SELL", day + timedelta(days=rng.randrange(1, 500))))
        for side, when in legs:
            order = f"O{n}"
            parts = rng.randrange(1, 4)
            left = quantity
            for part in range(parts):
                size = left if part == parts - 1 else max(1, left // 2)
                left -= size
                if size <= 0:
                    continue
                at = when + timedelta(seconds=part)
                rows.append(
                    Trade(
                        user=user,
                        account=account,
                        account_name=account.display_name,
                        broker_trade_id=f"T{n}",
                        broker_order_id=order,
                        exchange="NSE",
                        symbol=symbol,
                        side=side,
                        quantity=size,
                        price=price * Decimal(rng.randrange(90, 111)) / 100,
                        product=product,
                        traded_at=at,
                        trade_date=at.astimezone(IST).date(),
                    )
                )
                n += 1
    Trade.objects.bulk_create(rows[: args.trades], batch_size=5000)
    for account in books:
        OpeningLot.objects.bulk_create(
            [
                OpeningLot(
                    user=user,
                    account=account,
                    exchange="NSE",
                    symbol=s,
                    quantity=100,
                    average_price=Decimal("100"),
                    as_of=date(2024, 4, 1),
                )
                for s in symbols[:20]
            ]
        )
    Adjustment.objects.create(
        user=user, symbol=symbols[0], kind="split", ex_date=date(2025, 1, 6), old=1, new=2
    )
    return user


def run(args) -> None:
    from django.db import connection

    from trades import matching, services
    from trades.models import RoundTrip, Trade

    began = time.perf_counter()
    user = seed(args)
    print(
        f"seeded {Trade.objects.count():,} fills over {args.symbols} symbols and "
        f"{args.accounts} accounts in {time.perf_counter() - began:.1f} s "
        f"({connection.vendor})"
    )
    for attempt in ("first", "again"):
        tracemalloc.start()
        began = time.perf_counter()
        with counting(connection) as queries:
            result = services.rebuild(user=user)
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"rebuild ({attempt}): {elapsed:6.2f} s, peak {peak / 1024 / 1024:6.1f} MiB, "
            f"{len(queries):4d} queries -> {result.round_trips:,} round trips, "
            f"{result.open_lots:,} open lots"
        )
    from brokers.models import BrokerAccount

    account = BrokerAccount.objects.filter(user=user).order_by("pk").first()
    began = time.perf_counter()
    with counting(connection) as queries:
        one = services.rebuild(user=user, account=account, symbols={"SYM000", "SYM001"})
    print(
        f"rebuild of two symbols of one account (what a captured fill triggers): "
        f"{(time.perf_counter() - began) * 1000:6.0f} ms, {len(queries)} queries, "
        f"{one.fills} fills"
    )
    fills = services.fills_of(user=user)
    adjustments = services.adjustments_of(user=user)
    tracemalloc.start()
    began = time.perf_counter()
    matched = matching.match_fills(fills, adjustments)
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"matching alone: {elapsed:6.2f} s, peak {peak / 1024 / 1024:6.1f} MiB "
        f"for {len(fills):,} fills -> {len(matched.round_trips):,} round trips"
    )
    by_class = {}
    for key in RoundTrip.objects.values_list("classification", flat=True):
        by_class[key] = by_class.get(key, 0) + 1
    print("round trips by classification:", dict(sorted(by_class.items())))

    from django.test import Client

    client = Client()
    client.force_login(user)
    for label, url in (
        ("P&L page, all years", "/trades/pnl/"),
        ("P&L page, FY 2025-26", "/trades/pnl/?fy=2025"),
        ("trades page", "/trades/"),
        ("CSV export, all", "/trades/pnl/export.csv"),
        ("XLSX export, all", "/trades/pnl/export.xlsx"),
    ):
        times = []
        for _ in range(3):
            began = time.perf_counter()
            with counting(connection) as queries:
                response = client.get(url)
            times.append(time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"{label:22s}: best {min(times) * 1000:7.0f} ms, {len(queries):3d} queries, "
            f"{len(response.content) / 1024:8.1f} KiB"
        )


if __name__ == "__main__":
    sys.exit(main())
