#!/usr/bin/env python
"""Instrument-master benchmark (prints figures; not a test).

Generates deterministic masters of realistic shape — 200,000 SmartAPI-JSON rows
and 120,000 Kite-CSV rows — and measures, in a throwaway database, against the
goals of issue 14 (goal 2), every ratio from this one run:

- the floor: orjson.loads of the file + a bare executemany of its mapped rows;
- a fresh refresh (<= 1.5x the floor), an unchanged one (<= 1.2x the parse; the
  same file is skipped by its digest, the same records in another file are not),
  and a 1% churn (a day's changes);
- an OpenAlgo-style pandas delete+insert of the same file (>= 3x slower than
  ours; needs the `bench` extra: `make bench` installs it);
- peak RSS of fresh + unchanged refreshes at 100k/200k/400k rows, each in a
  subprocess of its own (<= 150 MB at 400k, flat);
- on SQLite, the longest write-lock hold during each refresh, seen by a
  concurrent writer (bench/write_lock.py's probe) (<= 1 s).

    .venv/bin/python bench/instruments.py [--repeat 3]     # SQLite (a temp file)
    DATABASE_URL=postgres://... .venv/bin/python bench/instruments.py   # PostgreSQL
    (BENCH_DATABASE_NAME=NAME: use, create and drop database NAME, not test_<name>)

The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator.kite import KITE_MASTER_COLUMNS  # noqa: E402 (after the path is set)

SMART_ROWS = 200_000
KITE_ROWS = 120_000


def expiries(count=6):
    day, found = date(2026, 11, 26), []
    while len(found) < count:
        found.append(day)
        day += timedelta(days=7)
    return found


def underlyings(rng, count):
    return [(f"STK{i:04d}", rng.randint(50, 5000)) for i in range(count)]


def smart_rows(total: int):
    """Yield SmartAPI master rows: equities, indices, then options until `total`."""
    rng = random.Random(20261124)  # noqa: S311 (a deterministic data set)
    made = 0
    stocks = underlyings(rng, 2500)
    for exchange in ("NSE", "BSE"):
        for name, _price in stocks:
            made += 1
            yield {
                "token": str(100000 + made),
                "symbol": f"{name}-EQ" if exchange == "NSE" else name,
                "name": name,
                "expiry": "",
                "strike": "-1.000000",
                "lotsize": "1",
                "instrumenttype": "",
                "exch_seg": exchange,
                "tick_size": "5.000000",
            }
    for i in range(100):
        made += 1
        yield {
            "token": str(99900000 + i),
            "symbol": f"Index {i}",
            "name": f"INDEX{i}",
            "expiry": "",
            "strike": "0.000000",
            "lotsize": "1",
            "instrumenttype": "AMXIDX",
            "exch_seg": "NSE",
            "tick_size": "-1.000000",
        }
    while made < total:
        for name, price in stocks:
            for expiry in expiries():
                stamp = expiry.strftime("%d%b%y").upper()
                for step in range(-8, 9):
                    strike = max(1, price + step * max(1, price // 50))
                    for kind in ("CE", "PE"):
                        if made >= total:
                            return
                        made += 1
                        yield {
                            "token": str(1000000 + made),
                            "symbol": f"{name}{stamp}{strike}{kind}",
                            "name": name,
                            "expiry": expiry.strftime("%d%b%Y").upper(),
                            "strike": f"{strike * 100:.6f}",
                            "lotsize": str(rng.choice([25, 50, 75, 250])),
                            "instrumenttype": "OPTSTK",
                            "exch_seg": "NFO",
                            "tick_size": "5.000000",
                        }


def kite_rows(total: int):
    for number, row in enumerate(smart_rows(total), start=1):
        kind = "EQ" if row["instrumenttype"] == "" else row["symbol"][-2:]
        index = row["instrumenttype"] == "AMXIDX"
        yield [
            str(number * 256 + 1),
            str(number),
            row["symbol"].removesuffix("-EQ") if not index else row["symbol"].upper(),
            row["name"],
            "0.0",
            "" if not row["expiry"] else str(_date(row["expiry"])),
            "0.0" if kind == "EQ" or index else str(float(row["strike"]) / 100),
            "0.05",
            row["lotsize"],
            "EQ" if index else kind,
            "INDICES" if index else ("NFO-OPT" if kind in ("CE", "PE") else row["exch_seg"]),
            row["exch_seg"],
        ]


def _date(text):
    from datetime import datetime

    return datetime.strptime(text, "%d%b%Y").date()


def write_masters(folder: Path) -> tuple[Path, Path]:
    smart = folder / "OpenAPIScripMaster.json"
    with smart.open("w") as out:  # streamed: the generator never holds the file
        out.write("[")
        for number, row in enumerate(smart_rows(SMART_ROWS)):
            out.write(("," if number else "") + json.dumps(row))
        out.write("]")
    kite = folder / "instruments.csv"
    with kite.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(KITE_MASTER_COLUMNS)
        writer.writerows(kite_rows(KITE_ROWS))
    return smart, kite


def peak_rss_mb() -> float:
    """This process's peak RSS. /proc's VmHWM where there is one: getrusage's
    ru_maxrss also counts the parent's RSS at the fork before exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_smart(path: Path, total: int, *, change: int = 0) -> Path:
    """A SmartAPI master of `total` rows; `change` > 0: every 100th row's lot size
    changed, every 200th row left out and `change` rows added (a day's churn)."""
    with path.open("w") as out:
        out.write("[")
        written = 0
        for number, row in enumerate(smart_rows(total)):
            if change and number % 200 == 199:
                continue
            if change and number % 100 == 50:
                row = dict(row, lotsize=str(int(row["lotsize"]) + 1))
            out.write(("," if written else "") + json.dumps(row))
            written += 1
        for i in range(change):
            extra = dict(row, token=str(90_000_000 + i), symbol=f"NEWCO{i}-EQ", name=f"NEWCO{i}")
            out.write("," + json.dumps(dict(extra, exch_seg="NSE", instrumenttype="")))
        out.write("]")
    return path


def stats(values: list[float]) -> str:
    return f"min {min(values):.2f} / median {statistics.median(values):.2f}"


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def loadavg() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def floor_times(path: Path, repeat: int) -> tuple[list[float], list[float]]:
    """The floor: orjson.loads of the whole file, and a bare executemany of the
    already-mapped rows into the same (empty) instruments table."""
    import orjson
    from django.db import connection, transaction

    from brokers.angelone import AngelOneAdapter
    from marketdata import refresh
    from marketdata.models import Instrument

    parse = []
    for _ in range(repeat):
        started = time.perf_counter()
        orjson.loads(path.read_bytes())
        parse.append(time.perf_counter() - started)
    with path.open("rb") as stream:
        ops = connection.ops
        values = [
            refresh._values("angelone", row, ops, "0" * 16)
            for row in AngelOneAdapter.parse_instrument_master(stream)
        ]
    table = Instrument._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(refresh.COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(refresh.COLUMNS))})"
    )
    insert = []
    for _ in range(repeat):
        Instrument.objects.filter(broker="angelone").delete()
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, values)
        insert.append(time.perf_counter() - started)
    Instrument.objects.filter(broker="angelone").delete()
    return parse, insert


def rss_child(rows: int, database: str) -> int:
    """In a process of its own, like a worker (no migrations run in it): peak RSS
    of a fresh and an unchanged refresh of `rows` rows on the bench's database."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="sigmatrader-bench-rss-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ["SIGMATRADER_VAR_DIR"] = str(work / "var")
    os.environ["SIGMATRADER_ENV_FILE"] = str(work / "no.env")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = database
    from marketdata import refresh
    from marketdata.models import Instrument

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Instrument._meta.db_table} WHERE broker = 'angelone'")
    master = write_smart(work / "master.json", rows)
    before = peak_rss_mb()
    refresh.refresh_instruments(broker="angelone", source=str(master))
    fresh = peak_rss_mb()
    # The same records in another file: the per-record path (the very same
    # file is skipped whole by its digest and would measure nothing).
    refresh.refresh_instruments(broker="angelone", source=str(same_records(master)))
    print(json.dumps({"before": before, "fresh": fresh, "unchanged": peak_rss_mb()}))
    master.unlink()
    return 0


def same_records(path: Path) -> Path:
    """The same records in a file whose bytes differ (a trailing newline): an
    unchanged master the refresh must read record by record."""
    copy = path.with_name(path.stem + "-same-records.json")
    shutil.copyfile(path, copy)  # streamed: this runs inside the RSS measurement too
    with copy.open("ab") as stream:
        stream.write(b"\n")
    return copy


def rss_figures(counts: list[int], database: str) -> dict[int, dict]:
    figures = {}
    for rows in counts:
        done = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(rows), "--database", database],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ),
        )
        figures[rows] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each figure (min/median)")
    parser.add_argument("--rss-rows", default="100000,200000,400000")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--no-pandas", action="store_true", help="skip the OpenAlgo-style path")
    args = parser.parse_args()
    if args.rss_child:
        return rss_child(args.rss_child, args.database)
    from harness import throwaway_django

    if os.environ.get("BENCH_DATABASE_NAME"):
        # A database of one's own on a shared PostgreSQL server, used under this
        # exact name (created, then dropped) instead of test_<name>.
        from django.db.backends.base.creation import BaseDatabaseCreation

        BaseDatabaseCreation._get_test_db_name = lambda self: os.environ["BENCH_DATABASE_NAME"]
    print(f"{loadavg()} at the start (a shared machine: ratios in one run are what count)")
    with throwaway_django("sigmatrader-bench-") as (_settings, work):
        return run(args, work)


def run(args, work: Path) -> int:
    from django.db import connection

    from marketdata import refresh, resolution
    from marketdata.models import Instrument

    sqlite = connection.vendor == "sqlite"
    print(f"generating {SMART_ROWS:,} SmartAPI rows and {KITE_ROWS:,} Kite rows ...", flush=True)
    smart_file, kite_file = write_masters(work)
    churned = write_smart(work / "churned.json", SMART_ROWS, change=1000)
    resaved = same_records(smart_file)
    sizes = smart_file.stat().st_size / 1e6, kite_file.stat().st_size / 1e6
    print(f"  {sizes[0]:.0f} MB JSON, {sizes[1]:.0f} MB CSV")
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    probe = None
    if sqlite:
        from write_lock import LockProbe

        probe = LockProbe(connection.settings_dict["NAME"])
        probe.start()

    def timed(label, work_fn):
        started = time.perf_counter()
        if probe is None:
            work_fn()
            return time.perf_counter() - started, None
        held = probe.measure(label, work_fn)
        return time.perf_counter() - started, held

    parse, insert = floor_times(smart_file, args.repeat)
    floor = min(parse) + min(insert)
    print(f"floor: orjson.loads {stats(parse)} s + bare executemany {stats(insert)} s")

    def smart(path=smart_file):
        return lambda: refresh.refresh_instruments(broker="angelone", source=str(path))

    fresh, fresh_lock, same, same_lock, churn, churn_lock = [], [], [], [], [], []
    records, records_lock = [], []
    for _ in range(args.repeat):
        Instrument.objects.filter(broker="angelone").delete()
        seconds, held = timed("angelone fresh", smart())
        fresh.append(seconds), fresh_lock.append(held)
        seconds, held = timed("angelone unchanged records, another file", smart(resaved))
        records.append(seconds), records_lock.append(held)
        seconds, held = timed("angelone unchanged file", smart(resaved))
        same.append(seconds), same_lock.append(held)
    run_ = refresh.refresh_instruments(broker="angelone", source=str(smart_file))
    assert run_.rows == SMART_ROWS and run_.added == run_.changed == run_.removed == 0, run_
    for i in range(args.repeat):  # back and forth: every run changes ~3,000 rows
        seconds, held = timed("angelone 1% churn", smart(churned if i % 2 == 0 else smart_file))
        churn.append(seconds), churn_lock.append(held)
    print(f"angelone fresh     : {stats(fresh)} s ({SMART_ROWS / min(fresh):,.0f} rows/s)")
    print(f"angelone unchanged file    : {stats(same)} s (the same bytes: skipped by their digest)")
    print(f"angelone unchanged records : {stats(records)} s (another file, every record hashed)")
    print(f"angelone 1% churn  : {stats(churn)} s (~1,000 changed, ~1,000 gone, 1,000 new)")

    for label, path in (("fresh", kite_file), ("unchanged", kite_file)):
        if label == "fresh":
            Instrument.objects.filter(broker="zerodha").delete()
        started = time.perf_counter()
        kite = refresh.refresh_instruments(broker="zerodha", source=str(path))
        print(f"zerodha  {label:9s} : {time.perf_counter() - started:.2f} s ({kite.rows:,} rows)")
    assert kite.rows == KITE_ROWS and kite.added == kite.changed == kite.removed == 0, kite

    pandas_times = []
    if not args.no_pandas:
        import openalgo_style

        db = openalgo_style.connect(work / "openalgo.sqlite3")
        for _ in range(args.repeat):
            started = time.perf_counter()
            inserted = openalgo_style.refresh(db, smart_file)
            pandas_times.append(time.perf_counter() - started)
        assert inserted == SMART_ROWS, inserted
        print(f"OpenAlgo-style pandas delete+insert: {stats(pandas_times)} s")

    rss_counts = [int(n) for n in args.rss_rows.split(",") if n]
    rss = rss_figures(rss_counts, connection.settings_dict["NAME"])
    for rows, figures in rss.items():
        print(
            f"peak RSS at {rows:,} rows: {figures['fresh']:.0f} MB after a fresh refresh, "
            f"{figures['unchanged']:.0f} MB after an unchanged one "
            f"({figures['before']:.0f} MB before; a process of its own, like a worker)"
        )

    print(f"\n{loadavg()} at the end")
    print("goals (issue 14, goal 2; min of each, ratios from this run):")
    goals = []

    def goal(text, ok):
        goals.append(ok)
        print(f"  {verdict(ok):6s} {text}")

    goal(
        f"fresh {min(fresh):.2f} s = {min(fresh) / floor:.2f}x the floor {floor:.2f} s"
        " (goal <= 1.5x)",
        min(fresh) <= 1.5 * floor,
    )
    goal(
        f"unchanged file {min(same):.2f} s = {min(same) / min(parse):.2f}x the parse "
        f"{min(parse):.2f} s (goal <= 1.2x); unchanged records in another file "
        f"{min(records):.2f} s = {min(records) / min(parse):.2f}x (each record hashed)",
        min(same) <= 1.2 * min(parse),
    )
    if pandas_times:
        goal(
            f"pandas path {min(pandas_times):.2f} s = {min(pandas_times) / min(fresh):.1f}x fresh, "
            f"{min(pandas_times) / min(same):.1f}x an unchanged file, "
            f"{min(pandas_times) / min(records):.1f}x unchanged records, "
            f"{min(pandas_times) / min(churn):.1f}x a 1% churn (goal >= 3x)",
            min(pandas_times) >= 3 * min(fresh),
        )
    if rss:
        top = max(rss)
        goal(
            f"peak RSS {rss[top]['unchanged']:.0f} MB at {top:,} rows; "
            + ", ".join(f"{rss[n]['unchanged']:.0f} MB at {n:,}" for n in sorted(rss))
            + " (goal <= 150 MB at 400,000, flat)",
            rss[top]["unchanged"] <= 150,
        )
    if probe is not None:
        worst = max(fresh_lock + same_lock + records_lock + churn_lock)
        goal(
            f"write lock held: fresh {stats(fresh_lock)} s, unchanged {stats(records_lock)} s, "
            f"1% churn {stats(churn_lock)} s (goal <= 1 s)",
            worst <= 1,
        )
        probe.running = False

    names = list(
        Instrument.objects.filter(
            broker="angelone", exchange="NSE", instrument_type="EQ"
        ).values_list("canonical_symbol", flat=True)[:1000]
    )
    symbols = [f"NSE:{name}" for name in names]
    resolution.forget()
    started = time.perf_counter()
    for symbol in symbols:
        resolution.resolve(broker="angelone", symbol=symbol)
    cold = time.perf_counter() - started
    calls = 300_000
    started = time.perf_counter()
    for i in range(calls):
        resolution.resolve(broker="angelone", symbol=symbols[i % len(symbols)])
    warm = time.perf_counter() - started
    print(
        f"resolution: cold {len(symbols) / cold:,.0f}/s ({len(symbols)} symbols), "
        f"warm {calls / warm:,.0f}/s"
    )
    from marketdata.search import search_instruments

    prefixes = ["S", "STK0", "STK12", "STK1234", "STK0042-", "INDEX", "ZZZ"]
    started = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for prefix in prefixes:
            search_instruments(broker="angelone", query=prefix)
    per_search = (time.perf_counter() - started) / (rounds * len(prefixes)) * 1000
    print(f"search (autocomplete): {per_search:.1f} ms per query over {SMART_ROWS:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
