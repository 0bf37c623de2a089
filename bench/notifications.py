"""Event-to-delivery latency of notifications on the embedded defaults.

SQLite, kombu's file queue and one real Celery worker process, the Telegram Bot
API emulator on loopback: the bench records `--events` alert events (each its own
transaction, `--gap` seconds apart so each is its own message rather than a
digest), and measures from the event's `created_at` to the moment the emulator
received the message. Prints p50/p99/max. The digest wait
(NOTIFICATIONS_DIGEST_SECONDS, default 1 s) is part of the figure by design:
`--digest 0` shows the floor without it.

    .venv/bin/python bench/notifications.py [--events 30] [--gap 1.5] [--digest 1]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, throwaway_django  # noqa: E402

TOKEN = "123456789:AABenchTokenNotARealOne-abcdefghij"  # noqa: S105 (the emulator's)
CHAT = "777000"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between events")
    parser.add_argument("--digest", type=float, default=None, help="NOTIFICATIONS_DIGEST_SECONDS")
    args = parser.parse_args()
    extra = {"LOG_LEVEL": "WARNING"}
    if args.digest is not None:
        extra["NOTIFICATIONS_DIGEST_SECONDS"] = str(args.digest)

    from emulator.telegram import TelegramServer

    telegram = TelegramServer().start()
    extra["TELEGRAM_API_ROOT"] = telegram.url
    with throwaway_django("st-bench-notify-", env=extra) as (settings, work):
        from django.contrib.auth import get_user_model

        from notifications.models import Preferences
        from notifications.services import telegram_bot_set
        from sigmatrader.events import record_event

        user = get_user_model().objects.create_user("bench", "bench@example.com", "x" * 20)
        Preferences.objects.create(user=user, telegram_enabled=True, telegram_chat_id=CHAT)
        telegram_bot_set(token=TOKEN, username="bench_bot")
        env = {
            **os.environ,
            **extra,
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "SIGMATRADER_VAR_DIR": str(settings.VAR_DIR),
            "CONN_MAX_AGE": "0",
        }
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "sigmatrader",
                "worker",
                "--pool=threads",
                "--concurrency=4",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            # Warm-up (not measured): the worker is up and has delivered one message.
            record_event(category="alert", user=user, message="warm-up")
            deadline = time.monotonic() + 120
            while not telegram.state.sent and time.monotonic() < deadline:
                time.sleep(0.1)
            if not telegram.state.sent:
                print("the worker delivered nothing within 120 s")
                return 1
            time.sleep(max(args.gap, 1.5))
            first = len(telegram.state.sent)
            created = {}
            for n in range(args.events):
                event = record_event(category="alert", user=user, message=f"bench event {n}")
                created[f"bench event {n}"] = event.created_at.timestamp()
                time.sleep(args.gap)
            deadline = time.monotonic() + 60
            while len(telegram.state.sent) - first < args.events and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        latencies, digests = [], 0
        for message in telegram.state.sent[first:]:
            names = [name for name in created if f"{name} (" in message.text]
            digests += len(names) > 1
            latencies += [(message.at - created[name]) * 1000 for name in names]
        telegram.stop()
        delivered = len(latencies)
        print(
            f"notifications: {args.events} events, {delivered} delivered "
            f"({digests} digest message(s)), digest wait "
            f"{settings.NOTIFICATIONS_DIGEST_SECONDS:g} s, SQLite + file queue + 1 worker"
        )
        if latencies:
            print(
                f"event-to-delivery latency p50 {percentile(latencies, 0.5):.0f} ms, "
                f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms "
                f"(load average {os.getloadavg()[0]:.2f})"
            )
        return 0 if delivered == args.events else 1


if __name__ == "__main__":
    sys.exit(main())
