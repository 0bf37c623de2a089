#!/usr/bin/env python
"""Watchlists benchmark (prints figures; not a test).

In a throwaway database, with the broker emulator on loopback and a connected
AngelOne account (the smallest quote batch, 50):
- import of a 1,000-symbol TradingView list: parse + per-row resolution preview,
  then the confirmed save (one transaction), through the Import page's POSTs, cold
  (resolution cache empty) and warm;
- the watchlist page with 500 members: server time and queries of the page and of
  its live poll (neither calls the broker), and what one beat refresh then costs:
  broker quote calls (500 / 50 = 10 batches for the list) and its time.

    .venv/bin/python bench/watchlists.py [--repeats 7] [--emulator-port 0]

The issue sets no goal; the 300 ms beside the page figures is this script's own
(twice the holdings page's 150 ms, for a page that resolves 500 symbols per render).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    angelone_bench_account,
    figure,
    load_average,
    port_argument,
    start_emulator,
    throwaway_django,
    timed_page,
)

PAGE_GOAL_MS = 300.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    port_argument(parser)
    args = parser.parse_args()
    with throwaway_django("sigmatrader-bench-watchlists-", web=True) as (settings, _work):
        run(settings, args)
    return 0


def run(settings, args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from marketdata import resolution
    from portfolio.live import quote_plan, refresh_live_quotes
    from watchlists.models import Watchlist

    server = start_emulator(args.emulator_port)
    peer, user, account = angelone_bench_account(server, settings)
    settings.MARKET_CLOCK = "always-open"
    equities = sorted(
        i.symbol
        for i in server.state.market.instruments.values()
        if i.exchange == "NSE" and i.instrument_type == "EQ"
    )
    print(f"database: {connection.vendor}; emulator at {server.url}; {load_average()}")
    print(f"{len(equities)} NSE equities at the emulator")
    client = Client()
    client.force_login(user)

    # --- Import of 1,000 symbols ------------------------------------------------------
    symbols = (equities * 2)[:1000]
    text = "###Bench\n" + ",".join(f"NSE:{s}" for s in symbols)
    base = {"format": "auto", "account": account.pk, "into": 0, "kind": "WATCHLIST", "text": text}
    for label, cold in (("cold resolution cache", True), ("warm", False)):
        previews, saves, query_counts = [], [], []
        for n in range(3):
            if cold:
                resolution.forget()
            name = f"Bench {label} {n}"
            started = time.perf_counter()
            response = client.post("/watchlists/import/", {**base, "name": name, "step": "read"})
            previews.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            if cold:
                resolution.forget()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.post(
                    "/watchlists/import/", {**base, "name": name, "step": "confirm"}
                )
                saves.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, response.status_code
            query_counts.append(len(queries))
            imported = Watchlist.objects.get(user=user, name=name).members.count()
        figure(
            f"import 1,000 symbols, preview ({label})",
            previews,
            extra=f"{imported} unique members saved",
        )
        figure(
            f"import 1,000 symbols, confirm and save ({label})",
            saves,
            extra=f"{statistics.median(query_counts):.0f} queries",
        )

    # --- The page with 500 members ----------------------------------------------------
    watchlist = Watchlist.objects.create(user=user, name="Five hundred")
    from watchlists.models import Member

    Member.objects.bulk_create(
        Member(watchlist=watchlist, exchange="NSE", symbol=s, position=n)
        for n, s in enumerate(equities[:500])
    )
    url = f"/watchlists/{watchlist.pk}/?account={account.pk}"
    calls_before = server.state.count("smartapi", "quote")
    page, page_q = timed_page(client, url, args.repeats)
    poll, poll_q = timed_page(
        client,
        f"/live/watchlists/{watchlist.pk}/?account={account.pk}",
        args.repeats,
        HX_Request="true",
    )
    assert server.state.count("smartapi", "quote") == calls_before, "a page called the broker"
    figure("watchlist page, 500 members, empty cache", page, goal_ms=PAGE_GOAL_MS, extra=page_q)
    plan = quote_plan()
    wanted = sum(len(entries) for entries in plan.values())
    refreshes = []
    for _ in range(3):
        time.sleep(1.05)  # a fresh rate-limit window (10 quote calls a second at AngelOne)
        before = server.state.count("smartapi", "quote")
        started = time.perf_counter()
        outcome = refresh_live_quotes()
        refreshes.append((time.perf_counter() - started) * 1000)
        calls = server.state.count("smartapi", "quote") - before
    figure(
        f"beat refresh with the page open ({wanted} instruments in the plan)",
        refreshes,
        extra=f"{calls} broker quote calls per refresh (batch of "
        f"{account.adapter_class.capabilities.quote_batch_size}); stored {outcome}",
    )
    page, page_q = timed_page(client, url, args.repeats)
    figure("watchlist page, 500 members, prices cached", page, goal_ms=PAGE_GOAL_MS, extra=page_q)
    poll, poll_q = timed_page(
        client,
        f"/live/watchlists/{watchlist.pk}/?account={account.pk}",
        args.repeats,
        HX_Request="true",
    )
    figure(
        "its live poll, 500 members", poll, goal_ms=PAGE_GOAL_MS, extra=poll_q + "; 0 broker calls"
    )
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
