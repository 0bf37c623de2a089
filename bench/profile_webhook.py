#!/usr/bin/env python
"""Where a webhook delivery and an AUTO order spend their CPU (cProfile; prints, not a test).

Runs in one process against a throwaway SQLite database (or DATABASE_URL) and the
broker emulator on --emulator-port (env BENCH_EMULATOR_PORT, default 8422):
`--deliveries` alerts through Django's full WSGI handler (every middleware, as
gunicorn runs it), then the worker's task body for each order they created.
Prints the CPU per delivery and per order and the top functions by cumulative
time of each.

    .venv/bin/python bench/profile_webhook.py [--deliveries 300] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--emulator-port", type=int, default=int(os.environ.get("BENCH_EMULATOR_PORT", "8422"))
    )
    args = parser.parse_args()
    import pyotp

    from emulator import EmulatorServer, SmartUser

    server = EmulatorServer(port=args.emulator_port).start()
    secrets = [pyotp.random_base32() for _ in range(5)]
    for index, secret in enumerate(secrets):
        peer = server.state.add_smart_user(SmartUser(f"key{index}", f"B{index}", "4321", secret))
        peer.book.cash = 10**12
    env = {
        "MARKET_ALWAYS_OPEN": "true",
        "WEBHOOK_RATE_PER_MINUTE": "1000000",
        "SMARTAPI_API_ROOT": server.url,
        "SMARTAPI_INSTRUMENTS_URL": f"{server.url}/OpenAPI_File/files/OpenAPIScripMaster.json",
    }
    from harness import throwaway_django

    try:
        with throwaway_django("sigmatrader-profile-webhook-", web=True, env=env):
            profile(secrets, args)
    finally:
        server.stop()
    return 0


def profile(secrets, args) -> None:
    from django.test import Client
    from webhook import setup_world

    from orders.models import Order
    from orders.tasks import execute_order

    token, strategies, symbols = setup_world(secrets)
    client = Client()
    url = f"/webhooks/tradingview/{token}/"

    def body(i: int, prefix: str) -> str:
        return json.dumps(
            {
                "strategy_name": strategies[i % len(strategies)],
                "symbol": f"NSE:{symbols[i % len(symbols)]}",
                "alert_id": f"{prefix}-{i}",
                "trade_details": {"order_action": "buy", "quantity": "1"},
            }
        )

    for i in range(20):  # warm-up: imports, connections, caches
        client.post(url, body(i, "warm"), content_type="text/plain")
    statuses: dict[int, int] = {}
    web = cProfile.Profile()
    cpu = time.process_time()
    web.enable()
    for i in range(args.deliveries):
        status = client.post(url, body(i, "p"), content_type="text/plain").status_code
        statuses[status] = statuses.get(status, 0) + 1
    web.disable()
    web_cpu = (time.process_time() - cpu) * 1000 / args.deliveries
    ids = list(
        Order.objects.filter(status=Order.Status.WAITING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    worker = cProfile.Profile()
    cpu = time.process_time()
    worker.enable()
    for pk in ids:
        execute_order.run(pk)
    worker.disable()
    order_cpu = (time.process_time() - cpu) * 1000 / max(1, len(ids))
    print(f"deliveries {args.deliveries} {statuses}: CPU per delivery {web_cpu:.2f} ms (goal ≤ 3)")
    show(web, args.top)
    sent = Order.objects.filter(pk__in=ids, status=Order.Status.SENT).count()
    print(f"orders {len(ids)} ({sent} SENT): CPU per order {order_cpu:.2f} ms (goal ≤ 8)")
    show(worker, args.top)


def show(profile: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


if __name__ == "__main__":
    sys.exit(main())
