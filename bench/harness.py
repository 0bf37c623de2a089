"""Shared set-up of the in-process benchmarks: Django on a throwaway database.

SQLite by default (a file in a temporary folder); with DATABASE_URL, a test
database on that PostgreSQL server, dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def throwaway_django(prefix: str, *, web: bool = False, env: dict | None = None):
    """Set up Django on a fresh database; yields (settings, work folder).

    `web`: settings for driving views with Django's test client; `env`: more
    environment for the settings (e.g. MARKET_ALWAYS_OPEN).
    """
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ["SIGMATRADER_VAR_DIR"] = str(work / "var")
    os.environ["SIGMATRADER_ENV_FILE"] = str(work / "no.env")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.update(env or {})
    if web:
        os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test client speaks plain HTTP
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(work / "bench.sqlite3")
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    if web:
        settings.ALLOWED_HOSTS = ["testserver"]
        # No collectstatic here: plain static storage instead of the production manifest.
        settings.STORAGES["staticfiles"]["BACKEND"] = (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    try:
        yield settings, work
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


def live_orders_at_the_emulator(server, peer, account, count: int) -> None:
    """`count` SBIN orders placed at the emulator's AngelOne book and SENT here
    (what an order sync then brings up to date)."""
    from decimal import Decimal

    from marketdata.models import Instrument
    from orders.models import Order

    sbin = Instrument.objects.get(broker="angelone", exchange="NSE", canonical_symbol="SBIN")
    market = server.state.market.get("NSE", "SBIN")
    rows = []
    for i in range(count):
        remote = server.state.place(
            peer.book,
            market,
            side="BUY",
            quantity=1,
            order_type="MARKET",
            product="CNC",
            price=Decimal(0),
            trigger_price=Decimal(0),
            validity="DAY",
            variety="NORMAL",
            tag=f"B{i:05d}",
        )
        rows.append(
            Order(
                user=account.user,
                account=account,
                account_name=account.display_name,
                instrument=sbin,
                symbol="SBIN-EQ",
                exchange="NSE",
                side="BUY",
                quantity=1,
                status="SENT",
                broker_order_id=remote.order_id,
                client_tag=f"B{i:05d}",
            )
        )
    Order.objects.bulk_create(rows)
