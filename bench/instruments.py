#!/usr/bin/env python
"""Instrument-master benchmark (prints figures; not a test).

Generates deterministic masters of realistic shape — 200,000 SmartAPI-JSON rows
and 120,000 Kite-CSV rows — and measures, in a throwaway database:
refresh wall time and rows/s, peak RSS, a second refresh with no changes, and
warm symbol resolutions per second.

    .venv/bin/python bench/instruments.py               # SQLite (a temp file)
    DATABASE_URL=postgres://... .venv/bin/python bench/instruments.py   # PostgreSQL

Targets (issue "Market data"): 200k SmartAPI rows refreshed in <= 5 s on
SQLite, peak RSS <= 250 MB, >= 100,000 warm resolutions/s.
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
        writer.writerow(
            [
                "instrument_token",
                "exchange_token",
                "tradingsymbol",
                "name",
                "last_price",
                "expiry",
                "strike",
                "tick_size",
                "lot_size",
                "instrument_type",
                "segment",
                "exchange",
            ]
        )
        writer.writerows(kite_rows(KITE_ROWS))
    return smart, kite


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="sigmatrader-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ["SIGMATRADER_VAR_DIR"] = str(work / "var")
    os.environ["SIGMATRADER_ENV_FILE"] = str(work / "no.env")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(work / "bench.sqlite3")
    print(f"generating {SMART_ROWS:,} SmartAPI rows and {KITE_ROWS:,} Kite rows ...", flush=True)
    smart_file, kite_file = write_masters(work)
    sizes = smart_file.stat().st_size / 1e6, kite_file.stat().st_size / 1e6
    print(f"  {sizes[0]:.0f} MB JSON, {sizes[1]:.0f} MB CSV")
    rss_before = peak_rss_mb()
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from marketdata import refresh, resolution
        from marketdata.models import Instrument

        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        for broker, path, rows in (
            ("angelone", smart_file, SMART_ROWS),
            ("zerodha", kite_file, KITE_ROWS),
        ):
            started = time.perf_counter()
            run = refresh.refresh_instruments(broker=broker, source=str(path))
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = refresh.refresh_instruments(broker=broker, source=str(path))
            second = time.perf_counter() - started
            assert (
                run.rows == rows == again.rows
                and again.added == again.changed == again.removed == 0
            )
            rate = rows / first
            print(
                f"{broker:9s} first refresh : {rows:,} rows in {first:.2f} s ({rate:,.0f} rows/s)"
            )
            print(f"{broker:9s} no-change run : {second:.2f} s ({rows / second:,.0f} rows/s)")
        print(f"peak RSS: {peak_rss_mb():.0f} MB (before the database work: {rss_before:.0f} MB)")

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
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
