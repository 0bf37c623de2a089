#!/usr/bin/env python
"""How long the longest real writers hold SQLite's write lock (prints figures; not a test).

A probe thread on its own connection tries `BEGIN IMMEDIATE` (no busy wait)
every 2 ms and records the longest stretch it was refused: that is how long
any other writer (a webhook delivery, an order claim) would have waited. It
is compared with the busy timeout those writers wait before giving up (the
webhook then answers 503 with Retry-After).

Writers measured: order sync of 1,000 live orders, portfolio replace of 500
holdings, an instrument-master refresh of 200,000 rows (first load, then an
unchanged re-run).

    .venv/bin/python bench/write_lock.py
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    angelone_bench_account,
    live_orders_at_the_emulator,
    throwaway_django,
)
from instruments import SMART_ROWS, smart_rows  # noqa: E402


class LockProbe(threading.Thread):
    def __init__(self, path: str):
        super().__init__(daemon=True)
        self.db = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        self.longest = 0.0
        self.blocked_since: float | None = None
        self.running = True

    def run(self):
        while self.running:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("ROLLBACK")
                if self.blocked_since is not None:
                    self.longest = max(self.longest, time.perf_counter() - self.blocked_since)
                    self.blocked_since = None
            except sqlite3.OperationalError:
                if self.blocked_since is None:
                    self.blocked_since = time.perf_counter()
            time.sleep(0.002)

    def measure(self, label: str, work) -> float:
        time.sleep(0.05)
        self.longest, self.blocked_since = 0.0, None
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
        time.sleep(0.05)  # let the probe see the lock released
        print(
            f"{label}: longest write-lock hold {self.longest:.2f} s (the whole run {elapsed:.2f} s)"
        )
        return self.longest


def main() -> int:
    with throwaway_django("sigmatrader-bench-lock-", env={"MARKET_ALWAYS_OPEN": "true"}) as (
        settings,
        work,
    ):
        from django.db import connection

        if connection.vendor != "sqlite":
            print("This benchmark measures SQLite's file lock; unset DATABASE_URL.")
            return 1
        return run(settings, work, connection.settings_dict["NAME"])


def run(settings, work: Path, path: str) -> int:

    from emulator import EmulatorServer
    from emulator.state import Lot
    from marketdata import refresh
    from marketdata.models import Instrument
    from orders.sync import order_sync_account
    from portfolio.sync import portfolio_sync_account

    server = EmulatorServer().start()
    peer, user, account = angelone_bench_account(server, settings)
    busy = settings.DATABASES["default"]["OPTIONS"]["timeout"]
    probe = LockProbe(path)
    probe.start()
    figures = {}

    # Order sync: 1,000 live orders brought up to date from one order book.
    live_orders_at_the_emulator(server, peer, account, 1000)
    time.sleep(1.1)
    synced = []
    figures["order sync"] = probe.measure(
        "order sync, 1,000 live orders", lambda: synced.append(order_sync_account(account))
    )
    assert synced[0].updated == 1000, synced

    # Portfolio replace: 500 holdings.
    equities = [
        i.symbol
        for i in server.state.market.instruments.values()
        if i.exchange == "NSE" and i.instrument_type == "EQ"
    ][:500]
    for n, symbol in enumerate(equities):
        peer.book.holdings[("NSE", symbol)] = Lot("NSE", symbol, 10 + n % 50, Decimal(100 + n))
    time.sleep(1.1)
    synced.clear()
    figures["portfolio"] = probe.measure(
        f"portfolio sync, {len(equities)} holdings",
        lambda: synced.append(portfolio_sync_account(account)),
    )
    assert synced[0].ok and synced[0].holdings == len(equities), synced

    # Instrument master: 200,000 rows, first load and an unchanged re-run.
    master = work / "OpenAPIScripMaster.json"
    with master.open("w") as out:
        out.write("[")
        for number, row in enumerate(smart_rows(SMART_ROWS)):
            out.write(("," if number else "") + json.dumps(row))
        out.write("]")
    Instrument.objects.filter(broker="angelone").delete()
    figures["refresh"] = probe.measure(
        f"instrument refresh, {SMART_ROWS:,} rows (first load)",
        lambda: refresh.refresh_instruments(broker="angelone", source=str(master)),
    )
    figures["refresh again"] = probe.measure(
        f"instrument refresh, {SMART_ROWS:,} rows (unchanged)",
        lambda: refresh.refresh_instruments(broker="angelone", source=str(master)),
    )
    probe.running = False
    server.stop()
    worst = max(figures, key=figures.get)
    print(
        f"longest SQLite write-lock hold: {figures[worst]:.2f} s ({worst}); busy timeout {busy} s "
        f"-> {'below' if figures[worst] < busy else 'ABOVE'} it"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
