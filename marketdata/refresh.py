"""Refresh a broker's instrument master, atomically.

The new master is streamed row by row and applied as a diff inside one
transaction: rows not seen before are inserted, changed rows updated in place
(their primary keys, which orders point at, stay the same), vanished rows
deleted. A reader outside the transaction sees the previous master until the
commit and the new one after it, never an empty or half-written table. Any
error (a bad row, a broken download, a master that looks truncated) rolls the
whole run back and leaves the previous master in place.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from brokers import registry
from brokers.base import BrokerError, InstrumentRow, MasterFormatError
from brokers.connections import calling
from brokers.models import BrokerAccount
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from .models import Instrument, InstrumentRefresh

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
COLUMNS = (
    "broker",
    "exchange",
    "trading_symbol",
    "canonical_symbol",
    "token",
    "name",
    "instrument_type",
    "segment",
    "series",
    "lot_size",
    "tick_size",
    "expiry",
    "strike",
    "row_hash",
)


class RefreshFailed(Exception):
    pass


@dataclass
class Counts:
    rows: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    skipped: int = 0


# --- Versions: how resolution caches learn that a master changed ---------------------


def version_key(broker: str) -> str:
    return f"marketdata:instruments-version:{broker}"


def bump_version(broker: str) -> None:
    cache.set(version_key(broker), timezone.now().timestamp(), None)
    from . import resolution

    resolution.forget(broker)


# --- Where rows come from ------------------------------------------------------------


def open_master(broker: str, source: str | None) -> tuple[Iterator[InstrumentRow], str]:
    """Rows of the broker's master from a file, a URL, or the broker itself."""
    adapter_class = registry.get_adapter_class(broker)
    if source and "://" not in source:
        path = Path(source)
        if not path.is_file():
            raise RefreshFailed(f"No such file: {source}")
        return _file_rows(adapter_class, path), str(path)
    url = source or adapter_class.public_instrument_master_url()
    if url:
        return _url_rows(adapter_class, url), url
    account = (
        BrokerAccount.objects.filter(broker=broker, status=BrokerAccount.Status.CONNECTED)
        .order_by("-last_checked_at")
        .first()
    )
    if account is None:
        raise RefreshFailed(
            f"{adapter_class.label} instruments need a connected {adapter_class.label} account "
            "(or --source FILE_OR_URL)."
        )
    return _account_rows(account), f"{account.display_name} session"


def _file_rows(adapter_class, path: Path) -> Iterator[InstrumentRow]:
    with path.open("rb") as stream:
        yield from adapter_class.parse_instrument_master(stream)


def _url_rows(adapter_class, url: str) -> Iterator[InstrumentRow]:
    try:
        response = requests.get(url, stream=True, timeout=max(settings.BROKER_READ_TIMEOUT, 30))
        response.raise_for_status()
    except requests.RequestException as exc:
        raise RefreshFailed(f"Download failed: {exc}") from exc
    with response:
        response.raw.decode_content = True
        yield from adapter_class.parse_instrument_master(response.raw)


def _account_rows(account) -> Iterator[InstrumentRow]:
    with calling(account) as adapter:
        yield from adapter.instrument_master()


# --- Applying a master -----------------------------------------------------------------


def _values(broker: str, row: InstrumentRow, ops) -> tuple:
    fields = (
        broker,
        row.exchange,
        row.trading_symbol,
        (row.canonical_symbol or row.trading_symbol),
        row.token,
        row.name[:128],
        row.instrument_type[:10],
        row.segment[:20],
        row.series[:10],
        row.lot_size,
        row.tick_size,
        row.expiry,
        row.strike,
    )
    digest = hashlib.blake2b("|".join(map(str, fields)).encode(), digest_size=8).hexdigest()
    return (
        *fields[:10],
        ops.adapt_decimalfield_value(row.tick_size, 14, 6),
        ops.adapt_datefield_value(row.expiry),
        ops.adapt_decimalfield_value(row.strike, 16, 6) if row.strike is not None else None,
        digest,
    )


def apply_master(
    *,
    broker: str,
    rows: Iterable[InstrumentRow],
    exchanges: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    min_ratio: float | None = None,
) -> Counts:
    """Replace `broker`'s instruments (within `exchanges`, if given) by `rows`."""
    table = Instrument._meta.db_table
    wanted = {e.upper() for e in exchanges or []}
    min_ratio = settings.INSTRUMENT_MIN_ROW_RATIO if min_ratio is None else min_ratio
    insert_sql = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) "  # noqa: S608 (fixed identifiers)
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    )
    update_sql = (
        f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in COLUMNS[3:])} "  # noqa: S608
        "WHERE id = %s"
    )
    counts = Counts()
    ops = connection.ops  # once: `connection` is a thread-local proxy, costly per row
    with transaction.atomic(), connection.cursor() as cursor:
        current = Instrument.objects.filter(broker=broker)
        if wanted:
            current = current.filter(exchange__in=wanted)
        existing = {
            (exchange, symbol): (pk, digest)
            for pk, exchange, symbol, digest in current.values_list(
                "pk", "exchange", "trading_symbol", "row_hash"
            ).iterator(chunk_size=10_000)
        }
        seen: set[tuple[str, str]] = set()
        inserts: list[tuple] = []
        updates: list[tuple] = []
        for row in rows:
            if wanted and row.exchange not in wanted:
                continue
            key = (row.exchange, row.trading_symbol)
            if key in seen:
                counts.skipped += 1  # a duplicate line in the master: keep the first
                continue
            seen.add(key)
            values = _values(broker, row, ops)
            before = existing.get(key)
            if before is None:
                inserts.append(values)
                counts.added += 1
            elif before[1] != values[-1]:
                updates.append((*values[3:], before[0]))
                counts.changed += 1
            counts.rows += 1
            if len(inserts) >= BATCH_SIZE:
                _insert(cursor, table, insert_sql, inserts)
                inserts.clear()
            if len(updates) >= BATCH_SIZE:
                cursor.executemany(update_sql, updates)
                updates.clear()
            if progress and counts.rows % BATCH_SIZE == 0:
                progress(BATCH_SIZE)
        if inserts:
            _insert(cursor, table, insert_sql, inserts)
        if updates:
            cursor.executemany(update_sql, updates)
        if progress:
            progress(counts.rows % BATCH_SIZE)
        if existing and counts.rows < len(existing) * min_ratio:
            raise MasterFormatError(
                f"The new master has {counts.rows:,} rows where the current one has "
                f"{len(existing):,}: it looks truncated, so the current master is kept."
            )
        removed = [pk for key, (pk, _) in existing.items() if key not in seen]
        for start in range(0, len(removed), 900):  # stay under SQLite's parameter limit
            Instrument.objects.filter(pk__in=removed[start : start + 900]).delete()
        counts.removed = len(removed)
    return counts


def _insert(cursor, table: str, insert_sql: str, rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL (several times faster), executemany elsewhere."""
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(insert_sql, rows)


def _update_planner_statistics() -> None:
    """After lakhs of rows changed, stale statistics make searches 10x slower."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {Instrument._meta.db_table}")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")


def refresh_instruments(
    *,
    broker: str,
    source: str | None = None,
    exchanges: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> InstrumentRefresh:
    """One recorded refresh run. Raises RefreshFailed (after recording it) on failure."""
    label = registry.get_adapter_class(broker).label
    run = InstrumentRefresh.objects.create(
        broker=broker, source=source or "broker", exchanges=",".join(exchanges or [])
    )
    try:
        rows, where = open_master(broker, source)
        run.source = where[:500]
        counts = apply_master(broker=broker, rows=rows, exchanges=exchanges, progress=progress)
    except (RefreshFailed, MasterFormatError, BrokerError, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        run.status, run.error, run.finished_at = run.Status.FAILED, message[:2000], timezone.now()
        run.save()
        record_event(
            category=SystemEvent.Category.MARKETDATA,
            level=SystemEvent.Level.ERROR,
            message=f"{label} instruments refresh failed; the previous master is kept: {message}",
            details={"refresh_id": run.pk, "broker": broker},
        )
        raise RefreshFailed(message) from exc
    run.rows, run.added, run.changed = counts.rows, counts.added, counts.changed
    run.removed, run.skipped = counts.removed, counts.skipped
    _update_planner_statistics()
    run.status, run.finished_at = run.Status.SUCCEEDED, timezone.now()
    run.save()
    bump_version(broker)
    record_event(
        category=SystemEvent.Category.MARKETDATA,
        message=(
            f"{label} instruments refreshed: {counts.rows:,} rows (+{counts.added:,} "
            f"-{counts.removed:,} ~{counts.changed:,})"
        ),
        details={"refresh_id": run.pk, "broker": broker, "seconds": run.seconds},
    )
    return run


def brokers_to_refresh() -> list[str]:
    """Every broker with a public master or at least one connected account."""
    connected = set(
        BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
        .values_list("broker", flat=True)
        .distinct()
    )
    return [
        adapter.name
        for adapter in registry.all_adapters()
        if adapter.public_instrument_master_url() or adapter.name in connected
    ]
