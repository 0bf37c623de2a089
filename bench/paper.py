#!/usr/bin/env python
"""Paper-trading benchmark (prints figures; not a test).

In a throwaway database, with the broker emulator on loopback, an AngelOne
account as the price source and a paper account:
- placing a MARKET order (price fetch, funds check, fill, charges, holdings);
- placing a resting LIMIT order;
- one beat check that prices 200 resting orders in one quote call and fills them.

    .venv/bin/python bench/paper.py [--emulator-port 0]
    DATABASE_URL=postgres://... .venv/bin/python bench/paper.py   # on PostgreSQL

No goal was set for these figures; they print median and min.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import figure, load_average, port_argument, start_emulator, throwaway_django  # noqa: E402

RESTING = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    port_argument(parser)
    args = parser.parse_args()
    with throwaway_django("sigmatrader-bench-paper-", env={"MARKET_ALWAYS_OPEN": "true"}) as (
        settings,
        _,
    ):
        run(settings, args)
    return 0


def run(settings, args) -> None:
    import pyotp
    from django.contrib.auth import get_user_model
    from django.db import connection

    from brokers import accounts, connections
    from brokers.base import InstrumentRef, OrderRequest, OrderType, Product, Side
    from emulator import SmartUser
    from marketdata import refresh
    from paper import engine
    from paper.models import PaperOrder

    server = start_emulator(args.emulator_port)
    settings.SMARTAPI_API_ROOT = server.url
    settings.SMARTAPI_INSTRUMENTS_URL = f"{server.url}/OpenAPI_File/files/OpenAPIScripMaster.json"
    secret = pyotp.random_base32()
    server.state.add_smart_user(SmartUser("benchkey", "B1234", "4321", secret))
    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    live = accounts.create_account(
        user=user,
        broker="angelone",
        label="live",
        credentials={"api_key": "benchkey", "client_code": "B1234"},
    )
    connections.connect_with_credentials(
        account=live, per_connect={"connect_pin": "4321", "totp": pyotp.TOTP(secret).now()}
    )
    refresh.refresh_instruments(broker="angelone")
    paper = accounts.create_account(
        user=user,
        broker="paper",
        label="practice",
        credentials={"starting_cash": "1000000000", "price_source": "live"},
    )
    connections.connect_with_credentials(account=paper, per_connect={})
    paper.refresh_from_db()
    adapter = connections.adapter_for(paper)
    server.state.market.set_price("NSE", "SBIN", "800")
    print(f"database: {connection.vendor}; emulator at {server.url}; {load_average()}")

    def request(kind, n, price=None):
        return OrderRequest(
            instrument=InstrumentRef("NSE", "SBIN"),
            side=Side.BUY,
            quantity=1,
            order_type=OrderType(kind),
            product=Product.CNC,
            tag=f"B{kind[0]}{n}",
            price=price,
        )

    adapter.place_order(request("MARKET", 0))  # warm
    market = []
    for n in range(1, 51):
        time.sleep(0.06)  # stay inside the price source's quote rate limit: measure work
        started = time.perf_counter()
        adapter.place_order(request("MARKET", n))
        market.append((time.perf_counter() - started) * 1000)
    resting = []
    for n in range(RESTING):
        time.sleep(0.11)
        started = time.perf_counter()
        adapter.place_order(request("LIMIT", n, Decimal("700")))
        resting.append((time.perf_counter() - started) * 1000)
    figure(
        "MARKET order placed and filled (50 orders)",
        market,
        extra="includes one quote call to the price source",
    )
    figure(f"LIMIT order placed, resting ({RESTING} orders)", resting)
    server.state.market.set_price("NSE", "SBIN", "699")
    time.sleep(1.1)
    started = time.perf_counter()
    result = engine.check_resting_orders()
    elapsed = (time.perf_counter() - started) * 1000
    assert result["filled"] == RESTING, result
    left = PaperOrder.objects.filter(status__in=PaperOrder.ACTIVE).count()
    print(
        f"beat check, {RESTING} resting orders crossing at once: {elapsed:.0f} ms "
        f"({elapsed / RESTING:.1f} ms per fill; {result['filled']} filled, {left} left)"
    )
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
