#!/usr/bin/env python
"""TradingView webhook benchmark (prints figures; not a test).

Starts the broker emulator (a process of its own, so its work does not share a
GIL with the load generator), gunicorn and a Celery worker on loopback against
a fresh database, then sends alerts at a fixed rate — half of
them re-deliveries of earlier ones — to AUTO strategies spread over several
AngelOne accounts (SmartAPI allows 20 orders/s per account). Prints response
time p50/p95/p99, alert-to-broker latency p50/p99 (the emulator's receipt of
the order minus the time the first delivery was posted) and orders at the
emulator against unique alerts, and the CPU seconds each process used (this
machine's cores are shared by all of them).

    .venv/bin/python bench/webhook.py [--rate 100] [--seconds 30]
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/webhook.py

Targets (issue "TradingView webhook"): p99 response <= 50 ms, alert-to-broker
p99 <= 250 ms, zero duplicates, zero lost.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
ACCOUNTS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def prepare_database(env: dict) -> str:
    url = env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        base, _, _name = url.rpartition("/")
        name = f"sigmatrader_bench_webhook_{os.getpid()}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = f"{base}/{name}"
        return name
    env["DATABASE_URL"] = f"sqlite:///{env['SIGMATRADER_VAR_DIR']}/bench.sqlite3"
    return ""


def drop_database(env: dict, name: str) -> None:
    if name:
        import psycopg

        base = env["DATABASE_URL"].rpartition("/")[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=100, help="deliveries per second")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--pool", default="prefork", help="Celery worker pool")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker concurrency")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sigmatrader-bench-webhook-"))
    env = {
        **os.environ,
        "SECRET_KEY": "bench-" + "x" * 60,
        "SIGMATRADER_VAR_DIR": str(work),
        "SIGMATRADER_ENV_FILE": str(work / "none.env"),
        "MARKET_ALWAYS_OPEN": "true",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEBHOOK_RATE_PER_MINUTE": "1000000",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "sigmatrader.settings",
    }
    db_name = prepare_database(env)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django
    import pyotp

    secrets = [pyotp.random_base32() for _ in range(ACCOUNTS)]
    emulator = EmulatorProcess(secrets)
    env.update(
        SMARTAPI_API_ROOT=emulator.url,
        SMARTAPI_INSTRUMENTS_URL=f"{emulator.url}/OpenAPI_File/files/OpenAPIScripMaster.json",
    )
    os.environ.update(env)
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    django.setup()
    token, strategies, symbols = setup_world(secrets)

    port = free_port()
    processes = [
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "sigmatrader.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--threads",
                "8",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "sigmatrader",
                "worker",
                "--pool",
                args.pool,
                "-c",
                str(args.concurrency),
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
        ),
    ]
    try:
        url = f"http://127.0.0.1:{port}/webhooks/tradingview/{token}/"
        wait_for(url)
        print(
            f"database: {env['DATABASE_URL'].split(':')[0]}; broker: "
            f"{'redis' if env.get('REDIS_URL') else 'filesystem'}; {args.rate}/s for "
            f"{args.seconds} s, half duplicates, {ACCOUNTS} AUTO accounts; worker "
            f"{args.pool} x{args.concurrency}",
            flush=True,
        )
        # Warm-up (not reported): every gunicorn thread and worker process has
        # imported its code and opened its connections, as in a running app.
        wait_for_drain(run_load(url, strategies, symbols, args.rate, 3, prefix="warmup"))
        servers_before = server_cpu_seconds()
        sent = run_load(url, strategies, symbols, args.rate, args.seconds)
        drained = wait_for_drain(sent)
        print(f"queue drained {drained:.1f} s after the last alert", flush=True)
        placed, emulator_cpu = emulator.placed()
        report(sent, placed)
        times = os.times()
        print(
            f"CPU seconds: gunicorn {cpu_seconds(processes[0].pid):.1f}, celery worker "
            f"{cpu_seconds(processes[1].pid):.1f}, emulator {emulator_cpu:.1f}, load generator "
            f"{times.user + times.system:.1f}, PostgreSQL+Redis servers "
            f"{server_cpu_seconds() - servers_before:.1f} (on {os.cpu_count()} cores)"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        emulator.stop()
        from django.db import connections

        connections.close_all()
        drop_database(env, db_name)
    return 0


class EmulatorProcess:
    """The broker emulator in a child process; reports what reached it at the end."""

    def __init__(self, secrets: list[str]):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve_emulator, args=(child, secrets), daemon=True)
        self.process.start()
        self.url = self.conn.recv()

    def placed(self) -> tuple[list[tuple[str, float]], float]:
        """(tag, placed-at epoch) of every order at the emulator, and its CPU seconds."""
        self.conn.send("report")
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


def _serve_emulator(conn, secrets: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from brokers.emulator import EmulatorServer, SmartUser

    server = EmulatorServer().start()
    for index, secret in enumerate(secrets):
        peer = server.state.add_smart_user(SmartUser(f"key{index}", f"B{index}", "4321", secret))
        peer.book.cash = 10**12
    conn.send(server.url)
    while conn.recv() != "stop":
        with server.state.lock:
            placed = [
                (remote.tag, remote.placed_at.timestamp())
                for user in server.state.smart_users.values()
                for remote in user.book.orders.values()
            ]
        times = os.times()
        conn.send((placed, times.user + times.system))
    server.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, family = 0.0, {pid}
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats.append((int(entry.name), int(fields[1]), fields))
    changed = True
    while changed:
        changed = False
        for child, parent, _ in stats:
            if parent in family and child not in family:
                family.add(child)
                changed = True
    for child, _, fields in stats:
        if child in family:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def server_cpu_seconds() -> float:
    """CPU used so far by PostgreSQL and Redis server processes on this machine."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name.startswith(("postgres", "redis-server")):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def setup_world(secrets: list[str]):
    import pyotp
    from django.contrib.auth import get_user_model

    from brokers import accounts, connections
    from marketdata import refresh
    from marketdata.models import Instrument
    from orders import webhook
    from orders.models import Strategy

    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")
    strategies = []
    for index, secret in enumerate(secrets):
        account = accounts.create_account(
            user=user,
            broker="angelone",
            label=f"acct{index}",
            credentials={"api_key": f"key{index}", "client_code": f"B{index}"},
        )
        connections.connect_with_credentials(
            account=account, per_connect={"connect_pin": "4321", "totp": pyotp.TOTP(secret).now()}
        )
        strategy = Strategy.objects.create(
            user=user, name=f"auto{index}", account=account, mode="AUTO"
        )
        strategies.append(strategy.name)
    refresh.refresh_instruments(broker="angelone")
    symbols = list(
        Instrument.objects.filter(
            broker="angelone", exchange="NSE", instrument_type="EQ"
        ).values_list("canonical_symbol", flat=True)[:50]
    )
    return webhook.issue_token(user), strategies, symbols


def wait_for(url: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            requests.post(url, data="{}", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise SystemExit("the app did not start")


def run_load(url, strategies, symbols, rate, seconds, prefix="bench"):
    """Send `rate` deliveries per second; every other one repeats an earlier alert."""
    results, lock = [], threading.Lock()
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=32))
    unique: list[dict] = []

    def send(body: dict, first: bool):
        started = time.time()
        try:
            response = session.post(
                url, data=json.dumps(body), timeout=10, headers={"Content-Type": "text/plain"}
            )
            status, order = response.status_code, response.json().get("order_id")
        except (requests.RequestException, ValueError) as exc:  # counted, never hidden
            status, order = f"client error {type(exc).__name__}", None
        elapsed = time.time() - started
        with lock:
            results.append(
                {
                    "sent": started,
                    "elapsed": elapsed,
                    "status": status,
                    "first": first,
                    "alert": body["alert_id"],
                    "order": order,
                }
            )

    with ThreadPoolExecutor(max_workers=32) as pool:
        start = time.time()
        for tick in range(rate * seconds):
            target = start + tick / rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            if tick % 2 == 0 or not unique:
                body = {
                    "strategy_name": strategies[tick % len(strategies)],
                    "symbol": f"NSE:{symbols[tick % len(symbols)]}",
                    "alert_id": f"{prefix}-{tick}",
                    "trade_details": {"order_action": "buy", "quantity": "1"},
                }
                unique.append(body)
                pool.submit(send, body, True)
            else:
                pool.submit(send, unique[(tick * 7) % len(unique)], False)
    return results


def wait_for_drain(results, limit: float = 120.0) -> float:
    """Seconds until every accepted order has left WAITING/SENDING (at most `limit`)."""
    from orders.models import Order

    ids = {r["order"] for r in results if r["order"]}
    started = time.time()
    while time.time() - started < limit:
        pending = Order.objects.filter(pk__in=ids, status__in=("WAITING", "SENDING")).count()
        if not pending:
            break
        time.sleep(0.2)
    return time.time() - started


def report(results, placed) -> None:
    from orders.models import Order

    elapsed_ms = [r["elapsed"] * 1000 for r in results]
    codes = {}
    for r in results:
        codes[r["status"]] = codes.get(r["status"], 0) + 1
    print(
        f"responses: {len(results)} ({codes}); p50 {percentile(elapsed_ms, 0.5):.1f} ms, "
        f"p95 {percentile(elapsed_ms, 0.95):.1f} ms, p99 {percentile(elapsed_ms, 0.99):.1f} ms"
    )
    unique_alerts = {r["alert"] for r in results}
    first_post = {}
    for r in results:
        first_post[r["alert"]] = min(first_post.get(r["alert"], r["sent"]), r["sent"])
    measured = {r["order"] for r in results if r["order"]}
    orders = {o.client_tag: o for o in Order.objects.filter(pk__in=measured)}
    at_broker = {}
    for tag, placed_at in placed:
        if tag not in orders:
            continue  # a warm-up order
        at_broker.setdefault(tag, []).append(placed_at)
    duplicates = sum(len(v) - 1 for v in at_broker.values())
    order_alert = {r["order"]: r["alert"] for r in results if r["order"] and r["first"]}
    latencies = []
    for order in orders.values():
        arrived = at_broker.get(order.client_tag)
        alert = order_alert.get(order.pk)
        if arrived and alert:
            latencies.append((arrived[0] - first_post[alert]) * 1000)
    print(
        f"unique alerts {len(unique_alerts)}, orders created {len(orders)}, orders at the "
        f"emulator {sum(len(v) for v in at_broker.values())}, duplicates at the broker "
        f"{duplicates}, lost {len(unique_alerts) - len(at_broker)}"
    )
    if latencies:
        print(
            f"alert-to-broker: p50 {percentile(latencies, 0.5):.0f} ms, p99 "
            f"{percentile(latencies, 0.99):.0f} ms (n={len(latencies)}; "
            f"mean {statistics.mean(latencies):.0f} ms)"
        )
    from orders.models import OrderEvent

    waits, runs = [], []
    for order in orders.values():
        events = {e.to_status: e.at for e in OrderEvent.objects.filter(order=order) if e.to_status}
        if "SENDING" in events:
            waits.append((events["SENDING"] - order.created_at).total_seconds() * 1000)
            if "SENT" in events:
                runs.append((events["SENT"] - events["SENDING"]).total_seconds() * 1000)
    if waits:
        print(
            f"worker: queue wait p50 {percentile(waits, 0.5):.0f} ms p99 {percentile(waits, 0.99):.0f} ms"
            f"; execution p50 {percentile(runs, 0.5):.0f} ms p99 {percentile(runs, 0.99):.0f} ms"
            f" ({len(waits)} picked up)"
        )
    print(f"measured at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    sys.exit(main())
