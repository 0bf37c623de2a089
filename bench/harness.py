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
    elif not connection.settings_dict["TEST"].get("NAME"):
        # A name of its own (process id), so two benches on one server never clobber
        # each other's throwaway database.
        base = connection.settings_dict["NAME"]
        connection.settings_dict["TEST"]["NAME"] = f"test_{base}_bench_{os.getpid()}"
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


# --- Added for bench hygiene (ports, repeats, goals) ------------------------------------


def port_argument(parser, *, name: str = "--emulator-port", env: str = "BENCH_EMULATOR_PORT"):
    """`--emulator-port` (or the env variable) for the loopback port a bench binds;
    0 (the default) lets the system choose a free one."""
    parser.add_argument(
        name,
        type=int,
        default=int(os.environ.get(env, "0") or 0),
        help=f"port to bind (env {env}; default 0: any free port)",
    )


def start_emulator(port: int = 0, *, ready_timeout: float = 60.0):
    """The broker emulator on 127.0.0.1:`port`, started and answering (a cold start on a
    busy machine may take seconds: wait for a TCP answer up to `ready_timeout`)."""
    import socket
    import time

    from emulator import EmulatorServer

    server = EmulatorServer(port=port).start()
    host, bound = server.httpd.server_address[:2]
    deadline = time.monotonic() + ready_timeout
    while True:
        try:
            with socket.create_connection((host, bound), timeout=5):
                return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)


def wait_until_serving(url: str, *, timeout: float = 120.0, method: str = "GET") -> float:
    """Wait for a (cold) HTTP server at `url` to answer at all (any status); returns the
    seconds waited. Each try may take long (a worker importing Django), so the per-try
    read timeout is generous and only the overall deadline aborts."""
    import time

    import requests

    started = time.monotonic()
    while True:
        try:
            requests.request(method, url, timeout=max(5.0, timeout / 4))
            return time.monotonic() - started  # it answered (any status)
        except requests.RequestException:
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.2)


def min_median(values) -> tuple[float, float]:
    import statistics

    return min(values), statistics.median(values)


def figure(label: str, values_ms, *, goal_ms: float | None = None, extra: str = "") -> str:
    """`label: median 121 ms, min 110 ms (goal ≤ 150)`, printed and returned; `values_ms`
    are the repeats. A missed goal is marked MISSED (on the median)."""
    low, middle = min_median(values_ms)
    text = f"{label}: median {middle:.1f} ms, min {low:.1f} ms"
    if goal_ms is not None:
        text += f" (goal ≤ {goal_ms:g}{'' if middle <= goal_ms else '; MISSED'})"
    if extra:
        text += f"; {extra}"
    print(text, flush=True)
    return text


def load_average() -> str:
    """The machine's load average (1, 5, 15 minutes), to print beside the figures."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def angelone_bench_account(server, settings):
    """A connected AngelOne account ("bench") of a new user on the emulator `server`,
    with ample cash and AngelOne's instruments loaded: (peer, user, account)."""
    from decimal import Decimal

    import pyotp
    from django.contrib.auth import get_user_model

    from brokers import accounts, connections
    from emulator import SmartUser
    from marketdata import refresh

    settings.SMARTAPI_API_ROOT = server.url
    settings.SMARTAPI_INSTRUMENTS_URL = f"{server.url}/OpenAPI_File/files/OpenAPIScripMaster.json"
    secret = pyotp.random_base32()
    peer = server.state.add_smart_user(SmartUser("benchkey", "B1234", "4321", secret))
    peer.book.cash = Decimal("1e12")
    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    account = accounts.create_account(
        user=user,
        broker="angelone",
        label="bench",
        credentials={"api_key": "benchkey", "client_code": "B1234"},
    )
    connections.connect_with_credentials(
        account=account, per_connect={"connect_pin": "4321", "totp": pyotp.TOTP(secret).now()}
    )
    account.refresh_from_db()
    refresh.refresh_instruments(broker="angelone")
    return peer, user, account


def timed_page(client, url: str, runs: int = 7, **headers) -> tuple[list[float], str]:
    """Server times (ms) of `runs` GETs of `url` after one warm-up, with the CPU
    time and the query count (CPU time is steadier than wall time on a shared
    machine)."""
    import statistics
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, headers=headers)  # warm
    timings, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    return timings, f"CPU median {statistics.median(cpu):.1f} ms; {len(queries)} queries"


class counting:
    """Counts the queries run inside it (Django's own log stops at 9,000)."""

    def __init__(self, connection):
        self.connection, self.count = connection, 0

    def __enter__(self):
        self.wrapper = self.connection.execute_wrapper(self._count)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self.wrapper.__exit__(*exc)

    def _count(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __len__(self):
        return self.count
