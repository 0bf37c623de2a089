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

    .venv/bin/python bench/webhook.py [--rate 100] [--seconds 30] [--repeats 1]
    .venv/bin/python bench/webhook.py --burst 500 --accounts 50
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/webhook.py

Ports: gunicorn binds --port (env BENCH_WEBHOOK_PORT, default 8420), the
emulator --emulator-port (env BENCH_EMULATOR_PORT, default 8421). `--app-root`
runs gunicorn and the worker from another checkout (e.g. `git archive` of the
previous commit) so before/after figures come from one run of this script.

Goals (issue 14): at 100 alerts/s for 30 s, response p50 <= 10 ms and p99 <=
50 ms; CPU <= 3 ms per delivery (gunicorn) and <= 8 ms per order (worker); a
burst of 500 alerts over 50 accounts at the broker within what the brokers'
order rate limits allow + 2 s; zero duplicates, zero lost.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
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
# SmartAPI's published order limit per account (brokers/angelone/): 20 per second.
ORDERS_PER_SECOND = 20


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
    parser.add_argument("--repeats", type=int, default=1, help="steady-load runs (min/median)")
    parser.add_argument("--pool", default="threads", help="Celery worker pool")
    parser.add_argument("--concurrency", type=int, default=16, help="Celery worker concurrency")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--web-threads", type=int, default=8, help="gunicorn threads each")
    parser.add_argument("--burst", type=int, default=0, help="alerts sent at one instant")
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("BENCH_WEBHOOK_PORT", "8420"))
    )
    parser.add_argument(
        "--emulator-port", type=int, default=int(os.environ.get("BENCH_EMULATOR_PORT", "8421"))
    )
    parser.add_argument("--app-root", default=str(ROOT), help="checkout gunicorn/celery run from")
    parser.add_argument("--label", default="", help="printed before every figure")
    args = parser.parse_args()
    app = Path(args.app_root).resolve()

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
    sys.path.insert(0, str(app))
    import django
    import pyotp

    secrets = [pyotp.random_base32() for _ in range(args.accounts)]
    emulator = EmulatorProcess(secrets, args.emulator_port, app)
    env.update(
        SMARTAPI_API_ROOT=emulator.url,
        SMARTAPI_INSTRUMENTS_URL=f"{emulator.url}/OpenAPI_File/files/OpenAPIScripMaster.json",
    )
    os.environ.update(env)
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "-v0"], cwd=app, env=env, check=True
    )
    django.setup()
    token, strategies, symbols = setup_world(secrets)

    port = args.port
    gunicorn = [
        str(BIN / "gunicorn"),
        "sigmatrader.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(args.web_workers),
        "--threads",
        str(args.web_threads),
        "--log-level",
        "warning",
    ]
    worker = [
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
    ]
    processes = [subprocess.Popen(gunicorn, cwd=app, env=env)]
    for index in range(args.workers):
        processes.append(subprocess.Popen([*worker, "-n", f"bench{index}@%h"], cwd=app, env=env))
    label = f"{args.label}: " if args.label else ""
    try:
        url = f"http://127.0.0.1:{port}/webhooks/tradingview/{token}/"
        wait_for(url, processes[0])
        load = os.getloadavg()
        print(
            f"{label}database {env['DATABASE_URL'].split(':')[0]}; queue "
            f"{'redis' if env.get('REDIS_URL') else 'filesystem'}; gunicorn "
            f"{args.web_workers}x{args.web_threads}; worker {args.workers}x {args.pool} "
            f"x{args.concurrency}; {args.accounts} AUTO accounts; load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores",
            flush=True,
        )
        # Warm-up (not reported): every gunicorn thread and worker process has
        # imported its code and opened its connections, as in a running app.
        wait_for_drain(run_load(url, strategies, symbols, min(args.rate, 50), 3, prefix="warmup"))
        if args.burst:
            run_burst(url, strategies, symbols, args, emulator, processes, label)
        else:
            run_steady(url, strategies, symbols, args, emulator, processes, label)
        load = os.getloadavg()
        print(f"{label}load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
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


def web_and_worker_cpu(processes) -> tuple[float, float]:
    return cpu_seconds(processes[0].pid), sum(cpu_seconds(p.pid) for p in processes[1:])


def run_steady(url, strategies, symbols, args, emulator, processes, label) -> None:
    p50s, p99s, per_delivery, per_order = [], [], [], []
    for repeat in range(args.repeats):
        web_before, worker_before = web_and_worker_cpu(processes)
        sent = run_load(url, strategies, symbols, args.rate, args.seconds, prefix=f"r{repeat}")
        drained = wait_for_drain(sent)
        web_after, worker_after = web_and_worker_cpu(processes)
        placed, _ = emulator.placed()
        print(
            f"{label}run {repeat + 1}: {args.rate}/s for {args.seconds} s, half duplicates; "
            f"queue drained {drained:.1f} s after the last alert",
            flush=True,
        )
        figures = report(sent, placed, label)
        orders = max(1, figures["orders"])
        p50s.append(figures["p50"])
        p99s.append(figures["p99"])
        per_delivery.append((web_after - web_before) * 1000 / max(1, len(sent)))
        per_order.append((worker_after - worker_before) * 1000 / orders)
        print(
            f"{label}CPU per delivery {per_delivery[-1]:.1f} ms (goal ≤ 3; gunicorn "
            f"{web_after - web_before:.1f} s / {len(sent)}), CPU per order "
            f"{per_order[-1]:.1f} ms (goal ≤ 8; worker {worker_after - worker_before:.1f} s "
            f"/ {orders})",
            flush=True,
        )
    if args.repeats > 1:
        for name, values, goal in (
            ("p50 response", p50s, "≤ 10 ms"),
            ("p99 response", p99s, "≤ 50 ms"),
            ("CPU per delivery", per_delivery, "≤ 3 ms"),
            ("CPU per order", per_order, "≤ 8 ms"),
        ):
            print(
                f"{label}{name}: min {min(values):.1f} ms, median "
                f"{statistics.median(values):.1f} ms over {len(values)} runs (goal {goal})"
            )


def rate_limit_floor(per_account: dict[str, int]) -> float:
    """Seconds the brokers' own order limits force on a burst: an account with n
    orders at r per second cannot finish before (n - 1) // r whole windows pass."""
    return max(((n - 1) // ORDERS_PER_SECOND for n in per_account.values()), default=0)


def run_burst(url, strategies, symbols, args, emulator, processes, label) -> None:
    bodies = [
        {
            "strategy_name": strategies[i % len(strategies)],
            "symbol": f"NSE:{symbols[(i // len(strategies)) % len(symbols)]}",
            "alert_id": f"burst-{i}",
            "trade_details": {"order_action": "buy", "quantity": "1"},
        }
        for i in range(args.burst)
    ]
    per_account: dict[str, int] = {}
    for body in bodies:
        per_account[body["strategy_name"]] = per_account.get(body["strategy_name"], 0) + 1
    floor = rate_limit_floor(per_account)
    web_before, worker_before = web_and_worker_cpu(processes)
    results, lock = [], threading.Lock()
    gate = threading.Barrier(min(len(bodies), 100) + 1)
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=100))

    def sender(share: list[dict]):
        gate.wait()
        for body in share:
            started = time.time()
            try:
                response = session.post(url, data=json.dumps(body), timeout=60)
                status, order = response.status_code, response.json().get("order_id")
            except (requests.RequestException, ValueError) as exc:
                status, order = f"client error {type(exc).__name__}", None
            with lock:
                results.append(
                    {
                        "sent": started,
                        "elapsed": time.time() - started,
                        "status": status,
                        "first": True,
                        "alert": body["alert_id"],
                        "order": order,
                    }
                )

    threads_n = gate.parties - 1
    threads = [
        threading.Thread(target=sender, args=(bodies[i::threads_n],)) for i in range(threads_n)
    ]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.time()
    for thread in threads:
        thread.join()
    answered = time.time() - started
    drained = wait_for_drain(results)
    web_after, worker_after = web_and_worker_cpu(processes)
    placed, _ = emulator.placed()
    print(
        f"{label}burst: {len(bodies)} alerts over {len(per_account)} accounts at one instant "
        f"({threads_n} senders); all answered in {answered:.2f} s; queue drained "
        f"{drained:.1f} s after the last answer",
        flush=True,
    )
    figures = report(results, placed, label)
    tags = figures["tags"]
    arrivals = [at for tag, at in placed if tag in tags]
    if arrivals:
        last = max(arrivals) - started
        print(
            f"{label}burst at the broker: last order {last:.2f} s after the burst began "
            f"(goal ≤ {floor + 2:.0f} s: rate limits allow {floor:.0f} s + 2 s; "
            f"{max(per_account.values())} orders at most per account, "
            f"{ORDERS_PER_SECOND}/s each)"
        )
    orders = max(1, figures["orders"])
    print(
        f"{label}CPU per delivery {(web_after - web_before) * 1000 / len(bodies):.1f} ms "
        f"(goal ≤ 3), CPU per order {(worker_after - worker_before) * 1000 / orders:.1f} ms "
        f"(goal ≤ 8)"
    )


class EmulatorProcess:
    """The broker emulator in a child process; reports what reached it at the end."""

    def __init__(self, secrets: list[str], port: int, app: Path):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve_emulator, args=(child, secrets, port, str(app)), daemon=True
        )
        self.process.start()
        self.url = self.conn.recv()

    def placed(self) -> tuple[list[tuple[str, float]], float]:
        """(tag, placed-at epoch) of every order at the emulator, and its CPU seconds."""
        self.conn.send("report")
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


def _serve_emulator(conn, secrets: list[str], port: int, app: str) -> None:
    sys.path.insert(0, app)
    from emulator import EmulatorServer, SmartUser

    server = EmulatorServer(port=port).start()
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


def wait_for(url: str, process: subprocess.Popen, limit: float = 180.0) -> None:
    """Until the app answers (any HTTP status) — a cold gunicorn imports Django and
    opens its database on the first request, which can take many seconds on a
    loaded machine: a read timeout is waited out like a refused connection."""
    deadline = time.time() + limit
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode} before answering")
        try:
            requests.post(url, data="{}", timeout=(2, 30))
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    raise SystemExit(f"the app did not answer within {limit:.0f} s")


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


def report(results, placed, label="") -> dict:
    """Print the figures of one run; returns them for min/median over repeats."""
    from orders.models import Order

    elapsed_ms = [r["elapsed"] * 1000 for r in results]
    codes = {}
    for r in results:
        codes[r["status"]] = codes.get(r["status"], 0) + 1
    p50, p99 = percentile(elapsed_ms, 0.5), percentile(elapsed_ms, 0.99)
    print(
        f"{label}responses: {len(results)} ({codes}); p50 response {p50:.1f} ms (goal ≤ 10), "
        f"p95 {percentile(elapsed_ms, 0.95):.1f} ms, p99 response {p99:.1f} ms (goal ≤ 50)"
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
    lost = len(unique_alerts) - len(at_broker)
    print(
        f"{label}unique alerts {len(unique_alerts)}, orders created {len(orders)}, orders at the "
        f"emulator {sum(len(v) for v in at_broker.values())}, duplicates at the broker "
        f"{duplicates} (goal 0), lost {lost} (goal 0)"
    )
    if latencies:
        print(
            f"{label}alert-to-broker: p50 {percentile(latencies, 0.5):.0f} ms, p99 "
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
            f"{label}worker: queue wait p50 {percentile(waits, 0.5):.0f} ms p99 {percentile(waits, 0.99):.0f} ms"
            f"; execution p50 {percentile(runs, 0.5):.0f} ms p99 {percentile(runs, 0.99):.0f} ms"
            f" ({len(waits)} picked up)"
        )
    print(f"{label}measured at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    return {
        "p50": p50,
        "p99": p99,
        "orders": sum(len(v) for v in at_broker.values()),
        "tags": set(orders),
    }


if __name__ == "__main__":
    sys.exit(main())
