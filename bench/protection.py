#!/usr/bin/env python
"""Protection benchmark: time from an entry's fill to its exits armed (prints; not a test).

In a throwaway database, with the broker emulator on loopback and a connected
AngelOne account (managed exits: the app arms them; the native path adds one
GTT call), `--entries` LIMIT entries with a stop-loss and a target rest at the
emulator. A "beat" thread runs the order sync every `--interval` seconds (the
default is the sync's own beat row, 15 s), exactly as beat does; the main thread
fills the entries at the emulator at random moments over `--seconds`. For each
entry: fill instant (wall clock) → the moment its stop leg was ARMED (its
OrderEvent). The figure is therefore the wait for the next sync cycle (up to one
interval) plus the sync and the arming themselves; the second line gives the
part after the sync saw the fill (sync + arming only).

    .venv/bin/python bench/protection.py [--entries 40] [--seconds 60] [--interval 15]
    .venv/bin/python bench/protection.py --broker zerodha   # native GTT OCO per entry

Expectation: p50 ≈ interval / 2, p99 ≈ interval, plus well under a second of work.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    angelone_bench_account,
    load_average,
    port_argument,
    start_emulator,
    throwaway_django,
)


def zerodha_bench_account(server, settings):
    """A connected Zerodha account of a new user on the emulator (its test peer's login)."""
    from django.contrib.auth import get_user_model

    from brokers import accounts
    from marketdata import refresh
    from tests.brokers.peers.zerodha import kite_peer

    settings.KITE_API_ROOT = server.url
    settings.KITE_LOGIN_URL = f"{server.url}/connect/login"
    peer = kite_peer(server)
    peer.user.book.cash = Decimal("1e12")
    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    account = accounts.create_account(
        user=user, broker="zerodha", label="bench", credentials=peer.credentials
    )
    peer.connect_account(account)
    account.refresh_from_db()
    refresh.refresh_instruments(broker="zerodha")
    return peer, user, account


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def default_interval() -> float:
    from django_celery_beat.models import PeriodicTask

    row = PeriodicTask.objects.filter(task="orders.sync_orders").select_related("interval").first()
    if row is None or row.interval is None:
        return 15.0
    seconds = {"seconds": 1, "minutes": 60}.get(row.interval.period, 1)
    return float(row.interval.every * seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.0, help="0: the beat row's")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--broker",
        choices=["angelone", "zerodha"],
        default="angelone",
        help="angelone: managed exits; zerodha: one native GTT (OCO) per entry",
    )
    port_argument(parser)
    args = parser.parse_args()
    env = {"MARKET_ALWAYS_OPEN": "true"}
    with throwaway_django("sigmatrader-bench-protection-", env=env) as (settings, _):
        run(settings, args)
    return 0


def run(settings, args) -> None:
    from orders.execution import create_order, execute
    from orders.exit_plans import parse_plan
    from orders.models import ExitPlan, Order, OrderEvent
    from orders.sync import order_sync_account

    interval = args.interval or default_interval()
    server = start_emulator(args.emulator_port)
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    if args.broker == "zerodha":
        peer, user, account = zerodha_bench_account(server, settings)
    else:
        peer, user, account = angelone_bench_account(server, settings)
    server.state.market.set_price("NSE", "SBIN", "800")
    entries = []
    for _ in range(args.entries):
        order = create_order(
            user=user,
            account=account,
            symbol="NSE:SBIN",
            side="BUY",
            quantity=1,
            order_type="LIMIT",
            price=Decimal("790"),
            actor="bench",
            exit_plan=parse_plan(stop_loss="2%", target="3%"),
        )
        entries.append(execute(order=order, actor="bench"))
    book = peer.user.book if hasattr(peer, "user") and hasattr(peer.user, "book") else peer.book
    remote = {o.broker_order_id: book.orders[o.broker_order_id] for o in entries}

    stop = threading.Event()
    seen: dict[int, float] = {}  # entry pk -> wall time the sync that saw its fill began

    def beat():
        from django.db import connection

        while not stop.is_set():
            began = time.time()
            filled_before = set(
                Order.objects.filter(pk__in=[o.pk for o in entries], status="EXECUTED").values_list(
                    "pk", flat=True
                )
            )
            order_sync_account(account, actor="sync")
            for pk in Order.objects.filter(
                pk__in=[o.pk for o in entries], status="EXECUTED"
            ).values_list("pk", flat=True):
                if pk not in filled_before:
                    seen.setdefault(pk, began)
            stop.wait(max(interval - (time.time() - began), 0))
        connection.close()

    rng = random.Random(args.seed)
    moments = sorted(rng.uniform(0, args.seconds) for _ in entries)
    thread = threading.Thread(target=beat, daemon=True)
    start = time.time()
    thread.start()
    filled_at: dict[int, float] = {}
    for order, moment in zip(entries, moments, strict=True):
        time.sleep(max(start + moment - time.time(), 0))
        row = remote[order.broker_order_id]
        with server.state.lock:
            row.filled_quantity, row.average_price, row.status = 1, Decimal("790"), "COMPLETE"
        filled_at[order.pk] = time.time()
    deadline = time.time() + interval * 2 + 5
    while (
        time.time() < deadline
        and ExitPlan.objects.filter(entry__in=entries, protected_quantity=0).exists()
    ):
        time.sleep(0.2)
    stop.set()
    thread.join(timeout=interval + 5)

    total, work = [], []
    for order in entries:
        armed = (
            OrderEvent.objects.filter(
                order__protects=order, to_status="ARMED", order__condition="ltp_lte"
            )
            .order_by("at")
            .first()
        )
        if armed is None:
            continue
        at = armed.at.astimezone(UTC).timestamp()
        total.append(at - filled_at[order.pk])
        if order.pk in seen:
            work.append(at - seen[order.pk])
    missing = len(entries) - len(total)
    print(f"load average: {load_average()}")
    print(
        f"fill → protection armed (sync every {interval:g} s, {len(total)} entries, "
        f"{'native GTT at Zerodha' if args.broker == 'zerodha' else 'managed at AngelOne'}): p50 {percentile(total, 0.5):.2f} s, "
        f"p99 {percentile(total, 0.99):.2f} s, max {max(total):.2f} s"
        + (f"; {missing} NOT armed" if missing else "")
    )
    if work:
        print(
            f"  of which after the sync cycle began (order book + arming): "
            f"p50 {percentile(work, 0.5) * 1000:.0f} ms, p99 {percentile(work, 0.99) * 1000:.0f} ms"
        )
    legs = Order.objects.filter(protects__in=entries).count()
    print(f"exit legs: {legs} for {len(entries)} entries (2 each expected; exactly once)")
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
