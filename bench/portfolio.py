#!/usr/bin/env python
"""Portfolio benchmark (prints figures; not a test).

In a throwaway database, with the broker emulator on loopback and three
connected AngelOne accounts:
- sync of one account holding 500 instruments (holdings + positions + funds
  calls, mapping, atomic replace);
- the Holdings page's server time and query count with 500 holdings across
  the 3 accounts (one account's tab and the merged "All accounts" tab), and
  with 50, to show the query count does not grow with the rows;
- the dashboard with the same data.

    .venv/bin/python bench/portfolio.py [--repeats 7] [--emulator-port 0]
    DATABASE_URL=postgres://... .venv/bin/python bench/portfolio.py   # on PostgreSQL

Goals (issues "Portfolio" and 14): the holdings page <= 150 ms with 500
holdings across 3 accounts, "All accounts" included, constant queries; sync of
500 holdings <= 1 s. Each figure is printed with its goal beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    figure,
    load_average,
    port_argument,
    start_emulator,
    throwaway_django,
    timed_page,
)

PAGE_GOAL_MS = 150.0
SYNC_GOAL_MS = 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    port_argument(parser)
    args = parser.parse_args()
    with throwaway_django("sigmatrader-bench-portfolio-", web=True) as (settings, _work):
        run(settings, args)
    return 0


def run(settings, args) -> None:
    import pyotp
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from brokers import accounts, connections
    from emulator import SmartUser
    from emulator.state import Lot
    from marketdata import refresh
    from portfolio.models import Holding
    from portfolio.sync import portfolio_sync_account

    server = start_emulator(args.emulator_port)
    settings.SMARTAPI_API_ROOT = server.url
    settings.SMARTAPI_INSTRUMENTS_URL = f"{server.url}/OpenAPI_File/files/OpenAPIScripMaster.json"
    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    equities = [
        i.symbol
        for i in server.state.market.instruments.values()
        if i.exchange == "NSE" and i.instrument_type == "EQ"
    ]
    books, account_list = [], []
    for index in range(3):
        secret = pyotp.random_base32()
        peer = server.state.add_smart_user(SmartUser(f"key{index}", f"B{index}", "4321", secret))
        account = accounts.create_account(
            user=user,
            broker="angelone",
            label=f"acct{index}",
            credentials={"api_key": f"key{index}", "client_code": f"B{index}"},
        )
        connections.connect_with_credentials(
            account=account, per_connect={"connect_pin": "4321", "totp": pyotp.TOTP(secret).now()}
        )
        account.refresh_from_db()
        books.append(peer.book)
        account_list.append(account)
    refresh.refresh_instruments(broker="angelone")
    print(f"database: {connection.vendor}; emulator at {server.url}; {load_average()}")

    def fill(book, symbols):
        book.holdings.clear()
        for n, symbol in enumerate(symbols):
            book.holdings[("NSE", symbol)] = Lot(
                "NSE", symbol, 10 + n % 50, Decimal(100 + n), t1_quantity=n % 3
            )

    # Sync of one account with 500 holdings.
    fill(books[0], equities[:500])
    portfolio_sync_account(account_list[0])  # warm (connections, instrument cache)
    runs = []
    for _ in range(5):
        time.sleep(1.05)  # a fresh rate-limit window for the portfolio endpoints
        started = time.perf_counter()
        result = portfolio_sync_account(account_list[0])
        runs.append((time.perf_counter() - started) * 1000)
        assert result.ok and result.holdings == 500, result
    figure(
        "sync, 500 holdings in one account (5 runs)",
        runs,
        goal_ms=SYNC_GOAL_MS,
        extra="includes 3 HTTP calls to the emulator",
    )

    client = Client()
    client.force_login(user)
    for total, split in ((50, (20, 20, 10)), (500, (200, 200, 100))):
        # Overlapping symbols, so the merged tab really merges.
        starts = (0, 100, 150) if total == 500 else (0, 10, 15)
        for book, account, count, start in zip(books, account_list, split, starts, strict=True):
            fill(book, equities[start : start + count])
            time.sleep(1.05)
            assert portfolio_sync_account(account).ok
        assert Holding.objects.count() == total
        repeats = args.repeats
        goal = PAGE_GOAL_MS if total == 500 else None
        one, one_q = timed_page(client, f"/holdings/?account={account_list[0].pk}", repeats)
        merged, all_q = timed_page(client, "/holdings/?account=all", repeats)
        by_pnl, pnl_q = timed_page(client, "/holdings/?account=all&sort=-pnl", repeats)
        dash, dash_q = timed_page(client, "/", repeats)
        size = f"{total} holdings across 3 accounts"
        figure(f"holdings one account's tab, {size}", one, goal_ms=goal, extra=one_q)
        figure(f"holdings all-accounts {size}", merged, goal_ms=goal, extra=all_q)
        figure(f"holdings all-accounts {size}, sorted by P&L", by_pnl, goal_ms=goal, extra=pnl_q)
        figure(f"dashboard, {size}", dash, extra=dash_q)
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
