#!/usr/bin/env python
"""Orders benchmark (prints figures; not a test).

In a throwaway database, with the broker emulator on loopback and a connected
AngelOne account:
- the Queue page's server time and query count with 10, 100 and 1,000 waiting
  orders (the count must not grow with the rows);
- syncing 1,000 live orders from one order-book response;
- execution overhead per order, excluding the time spent inside the adapter's
  place_order (the broker's answer and the rate-limit wait).

    .venv/bin/python bench/orders.py [--repeats 7] [--emulator-port 0]
    DATABASE_URL=postgres://... .venv/bin/python bench/orders.py   # on PostgreSQL

Goals (issues "Orders" and 14): queue page <= 150 ms at 1,000 orders with constant
queries, on SQLite and on PostgreSQL; sync <= 1 s for 1,000 orders. Each figure is
printed with its goal beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    angelone_bench_account,
    figure,
    live_orders_at_the_emulator,
    load_average,
    port_argument,
    start_emulator,
    throwaway_django,
)

QUEUE_GOAL_MS = 150.0
SYNC_GOAL_MS = 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    port_argument(parser)
    args = parser.parse_args()
    market_open = {"MARKET_ALWAYS_OPEN": "true"}
    with throwaway_django("sigmatrader-bench-orders-", web=True, env=market_open) as (settings, _):
        run(settings, args)
    return 0


def run(settings, args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from brokers.angelone import AngelOneAdapter
    from marketdata.models import Instrument
    from orders.execution import execute
    from orders.models import Order
    from orders.sync import order_sync_account

    server = start_emulator(args.emulator_port)
    peer, user, account = angelone_bench_account(server, settings)
    equities = list(
        Instrument.objects.filter(broker="angelone", exchange="NSE", instrument_type="EQ")[:200]
    )
    print(f"database: {connection.vendor}; emulator at {server.url}; {load_average()}")

    client = Client()
    client.force_login(user)
    made = 0
    for target in (10, 100, 1000):
        Order.objects.bulk_create(
            [
                Order(
                    user=user,
                    account=account,
                    account_name=account.display_name,
                    instrument=equities[i % len(equities)],
                    symbol=equities[i % len(equities)].trading_symbol,
                    exchange="NSE",
                    side="BUY",
                    quantity=1,
                    order_type="LIMIT",
                    price=Decimal("100"),
                )
                for i in range(made, target)
            ]
        )
        made = target
        client.get("/queue/")  # warm
        timings, cpu = [], []
        for _ in range(args.repeats):
            with CaptureQueriesContext(connection) as queries:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get("/queue/")
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        figure(
            f"queue page, {target:,} waiting orders ({connection.vendor})",
            timings,
            goal_ms=QUEUE_GOAL_MS if target == 1000 else None,
            extra=f"CPU median {statistics.median(cpu):.1f} ms; {len(queries)} queries",
        )
    settings.QUEUE_PAGE_SIZE = 1000  # for comparison: every row on one page
    timings = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        client.get("/queue/")
        timings.append((time.perf_counter() - started) * 1000)
    figure("queue page, 1,000 waiting orders all on one page (no goal)", timings)
    Order.objects.all().delete()

    # Sync: 1,000 live orders, one order-book response.
    live_orders_at_the_emulator(server, peer, account, 1000)
    fetch = []
    real_book = AngelOneAdapter.order_book

    def timed_book(self):
        started = time.perf_counter()
        try:
            return real_book(self)
        finally:
            fetch.append(time.perf_counter() - started)

    AngelOneAdapter.order_book = timed_book
    time.sleep(1.1)  # a fresh order-book rate-limit window
    started = time.perf_counter()
    result = order_sync_account(account)
    elapsed = time.perf_counter() - started
    AngelOneAdapter.order_book = real_book
    assert result.updated == 1000, result
    figure(
        "sync, 1,000 live orders from one order book (1 run)",
        [elapsed * 1000],
        goal_ms=SYNC_GOAL_MS,
        extra=f"{result.updated} updated; {fetch[0] * 1000:.0f} ms of it fetching and mapping "
        "the order book from the emulator",
    )
    Order.objects.all().delete()

    # Execution overhead: total execute() time minus the time inside place_order.
    inside = []
    real_place = AngelOneAdapter.place_order

    def timed_place(self, request):
        started = time.perf_counter()
        try:
            return real_place(self, request)
        finally:
            inside.append(time.perf_counter() - started)

    AngelOneAdapter.place_order = timed_place
    count = 60
    orders = [
        Order.objects.create(
            user=user,
            account=account,
            account_name=account.display_name,
            instrument=equities[i],
            symbol=equities[i].trading_symbol,
            exchange="NSE",
            side="BUY",
            quantity=1,
        )
        for i in range(count)
    ]
    started = time.perf_counter()
    for order in orders:
        assert execute(order=order, actor="bench").status == "SENT"
    total = time.perf_counter() - started
    AngelOneAdapter.place_order = real_place
    overhead = (total - sum(inside)) / count * 1000
    print(
        f"execution: {count} orders in {total:.2f} s; overhead per order excluding the "
        f"adapter's place_order: {overhead:.1f} ms (inside place_order: median "
        f"{statistics.median(inside) * 1000:.1f} ms, min {min(inside) * 1000:.1f} ms)"
    )
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
