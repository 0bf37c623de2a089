#!/usr/bin/env python
"""Live-page benchmark (prints figures; not a test).

In a throwaway database, with the broker emulator on loopback: a Zerodha, an
AngelOne and a paper account (priced by the AngelOne one), each with waiting
and open orders, holdings and positions. For 1 and then 10 simulated open pages,
for `--seconds` (60 by default) of wall-clock time, it runs what beat would (the
live-quote refresh every 5 s, order sync every 15 s) and every page's polls every
LIVE_POLL_SECONDS (each page polls its own fragment and the toasts). It prints:

- broker calls per minute, counted at the emulator, by operation: the quote
  calls must not grow with the number of pages (the pages read the cache);
- server time per poll (median and 95th percentile), per kind of page.

    .venv/bin/python bench/live.py [--seconds 60] [--pages 1 10] [--emulator-port 0]

No goal was set for these figures; the quote calls must not grow with the pages.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import load_average, port_argument, start_emulator, throwaway_django  # noqa: E402

ORDERS_PER_ACCOUNT = 20
SYMBOLS = ["SBIN", "INFY", "TCS", "ITC", "RELIANCE", "HDFCBANK", "ICICIBANK", "LT", "AXISBANK"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 10])
    port_argument(parser)
    args = parser.parse_args()
    env = {"MARKET_ALWAYS_OPEN": "true"}
    with throwaway_django("sigmatrader-bench-live-", web=True, env=env) as (settings, _):
        run(settings, seconds=args.seconds, page_counts=args.pages, port=args.emulator_port)
    return 0


def setup(settings, server):
    from django.contrib.auth import get_user_model

    from marketdata import refresh
    from orders.execution import create_order, execute
    from portfolio.sync import portfolio_sync_account
    from tests.brokers.peers import connected_account
    from tests.brokers.peers.paper import connected_paper_account
    from tests.portfolio.helpers import seed

    settings.KITE_API_ROOT = server.url
    settings.KITE_LOGIN_URL = f"{server.url}/connect/login"
    settings.SMARTAPI_API_ROOT = server.url
    settings.SMARTAPI_INSTRUMENTS_URL = f"{server.url}/OpenAPI_File/files/OpenAPIScripMaster.json"
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    zerodha, kite = connected_account(server, user, "zerodha", "z", default=True)
    angel, smart = connected_account(server, user, "angelone", "a")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    paper = connected_paper_account(
        user, price_source="a", starting_cash="100000000", load_instruments=True
    )
    for index, symbol in enumerate(SYMBOLS):
        server.state.market.set_price("NSE", symbol, str(500 + 100 * index))
    seed(
        kite, holdings=[(s, 10, "500") for s in SYMBOLS[:6]], positions=[("SBIN", "MIS", 5, "490")]
    )
    seed(
        smart, holdings=[(s, 5, "600") for s in SYMBOLS[3:]], positions=[("TCS", "MIS", -2, "900")]
    )
    for account in (zerodha, angel):
        portfolio_sync_account(account)
    for account in (zerodha, angel, paper):
        for n in range(ORDERS_PER_ACCOUNT):
            order = create_order(
                user=user,
                account=account,
                symbol=f"NSE:{SYMBOLS[n % len(SYMBOLS)]}",
                actor="bench",
                side="BUY",
                quantity=1,
                order_type="LIMIT",
                price=Decimal("100"),  # far below: stays open at the broker
            )
            if n % 4 == 0:
                time.sleep(0.12)  # inside the brokers' order rate limits
                execute(order=order, actor="bench")
    return user


def page_polls(client, user):
    """One open page of each kind: (name, url, params) of what it polls."""
    from django.urls import reverse

    from orders import presentation
    from orders.models import Order

    waiting = Order.objects.filter(user=user, status="WAITING").order_by("id")[:250]
    recent = Order.objects.filter(user=user).order_by("-created_at", "-id")[:50]
    queue_have = ",".join(presentation.live_state(o) for o in waiting)
    orders_have = ",".join(presentation.live_state(o) for o in recent)
    return [
        ("queue", reverse("live-orders"), {"page": "queue", "have": queue_have}),
        ("orders", reverse("live-orders"), {"page": "orders", "have": orders_have}),
        ("holdings", reverse("live-portfolio", args=["holdings"]), {"account": "all"}),
        ("positions", reverse("live-portfolio", args=["positions"]), {"account": "all"}),
        ("dashboard", reverse("live-dashboard"), {}),
    ]


def run(settings, *, seconds: float, page_counts: list[int], port: int = 0) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from orders.sync import order_sync_all
    from portfolio.live import refresh_live_quotes

    server = start_emulator(port)
    user = setup(settings, server)
    interval = settings.LIVE_POLL_SECONDS
    print(
        f"database: {connection.vendor}; emulator at {server.url}; "
        f"3 accounts (Zerodha, AngelOne, paper priced by AngelOne), "
        f"{ORDERS_PER_ACCOUNT} orders each; poll every {interval:g} s; "
        f"quote refresh every 5 s, order sync every 15 s; {seconds:g} s per run; "
        f"{load_average()}"
    )
    for pages in page_counts:
        clients = []
        for n in range(pages):
            client = Client()
            client.force_login(user)
            polls = page_polls(client, user)
            clients.append((client, polls[n % len(polls)]))
        timings: dict[str, list[float]] = {}
        before = Counter((b, o) for b, o, _ in list(server.state.requests))
        started = time.monotonic()
        next_quotes = next_sync = next_poll = started
        while time.monotonic() - started < seconds:
            now = time.monotonic()
            if now >= next_quotes:
                refresh_live_quotes()
                next_quotes += 5
            if now >= next_sync:
                order_sync_all()
                next_sync += 15
            if now >= next_poll:
                for client, (name, url, params) in clients:
                    for kind, target, query in ((name, url, params), ("toasts", None, {})):
                        target = target or reverse("live-toasts")
                        begin = time.perf_counter()
                        response = client.get(target, query, headers={"HX-Request": "true"})
                        elapsed = (time.perf_counter() - begin) * 1000
                        assert response.status_code == 200, (kind, response.status_code)
                        timings.setdefault(kind, []).append(elapsed)
                next_poll += interval
            time.sleep(max(0.0, min(next_quotes, next_sync, next_poll) - time.monotonic()))
        minutes = (time.monotonic() - started) / 60
        after = Counter((b, o) for b, o, _ in list(server.state.requests))
        calls = after - before
        polls = sum(len(v) for v in timings.values())
        print(f"\n{pages} open page(s): {polls} polls in {minutes * 60:.0f} s")
        total = sum(calls.values())
        print(f"  broker calls per minute: {total / minutes:.1f} in all")
        for (broker, operation), count in sorted(calls.items()):
            print(f"    {broker:9} {operation:12} {count / minutes:6.1f} / min")
        for kind, values in sorted(timings.items()):
            values.sort()
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            print(
                f"  server time per poll, {kind:9}: median {statistics.median(values):6.1f} ms, "
                f"min {values[0]:6.1f} ms, p95 {p95:6.1f} ms ({len(values)} polls)"
            )
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
