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

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from hashlib import blake2b
from itertools import compress
from operator import itemgetter, methodcaller, not_
from pathlib import Path

import requests
import urllib3
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from brokers import registry
from brokers.base import BrokerError, InstrumentRow, MasterFormatError
from brokers.connections import calling
from brokers.models import BrokerAccount
from brokers.records import MasterRecords, rows_as_records
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from .models import Instrument, InstrumentRefresh
from .resolution import bump_version

logger = logging.getLogger(__name__)

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


# --- Where rows come from ------------------------------------------------------------


@dataclass
class Master:
    """Where a master came from, its raw records, and a digest of its bytes
    (None when it came as rows from a broker session, not as a file)."""

    records: MasterRecords
    where: str
    digest: str | None


def _spooled(stream, into) -> bytes:
    """Copy `stream` into the file `into`, returning the digest of its bytes."""
    hasher = blake2b(digest_size=16)
    while block := stream.read(1 << 20):
        hasher.update(block)
        into.write(block)
    into.seek(0)
    return hasher.digest()


def _file_digest(raw: bytes, records: MasterRecords) -> str:
    # The mapping's salt is part of it: a new mapping re-maps an unchanged file.
    return blake2b(raw + records.salt.encode(), digest_size=16).hexdigest()


@contextmanager
def open_master(broker: str, source: str | None) -> Iterator[Master]:
    """Raw records of the broker's master from a file, a URL, or the broker itself.

    A file or a download is hashed before it is parsed (a download is spooled
    to a temporary file, so memory stays flat), so a refresh can see that the
    bytes are those of its last run and skip the parse."""
    adapter_class = registry.get_adapter_class(broker)
    if source and "://" not in source:
        path = Path(source)
        if not path.is_file():
            raise RefreshFailed(f"No such file: {source}")
        with path.open("rb") as stream:
            hasher = blake2b(digest_size=16)
            while block := stream.read(1 << 20):
                hasher.update(block)
            stream.seek(0)
            records = adapter_class.master_records(stream)
            yield Master(records, str(path), _file_digest(hasher.digest(), records))
        return
    url = source or adapter_class.public_instrument_master_url()
    if url:
        with tempfile.TemporaryFile() as spool:
            try:
                response = requests.get(
                    url, stream=True, timeout=max(settings.BROKER_READ_TIMEOUT, 30)
                )
                response.raise_for_status()
                with response:
                    response.raw.decode_content = True
                    raw = _spooled(response.raw, spool)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                raise RefreshFailed(f"Download failed: {exc}") from exc
            records = adapter_class.master_records(spool)
            yield Master(records, url, _file_digest(raw, records))
        return
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
    with calling(account) as adapter:
        yield Master(
            rows_as_records(adapter.instrument_master(), salt=broker),
            f"{account.display_name} session",
            None,
        )


def same_as_last_run(*, broker: str, exchanges: list[str] | None, digest: str | None):
    """The last successful run of these very bytes, if the table still holds
    what it stored (a hand-deleted row makes the next refresh a full one)."""
    if digest is None:
        return None
    last = (
        InstrumentRefresh.objects.filter(broker=broker, status=InstrumentRefresh.Status.SUCCEEDED)
        .order_by("-started_at", "-pk")
        .first()
    )
    if last is None or last.content_digest != digest:
        return None
    if last.exchanges != ",".join(exchanges or []):
        return None
    stored = Instrument.objects.filter(broker=broker)
    if exchanges:
        stored = stored.filter(exchange__in=[e.upper() for e in exchanges])
    return last if stored.count() == last.rows else None


# --- Applying a master -----------------------------------------------------------------
#
# Three steps, so that SQLite's write lock (one writer for the whole database:
# webhook orders wait behind it) is held only for the last one:
#
# 1. Read: the digests of the current rows, into a set (one small string each).
# 2. Stage, outside any transaction on the instruments table: each raw record's
#    digest is looked up in that set; a hit is an unchanged row and is neither
#    mapped nor written. Only new or changed records are mapped, into a TEMP
#    table (SQLite keeps it in a file of its own, so writing it locks nothing
#    others use; PostgreSQL loads it with COPY). The digests never seen again
#    are the rows that changed or vanished.
# 3. Apply, in one short transaction: UPDATE ... FROM the stage (primary keys,
#    which orders and holdings point at, stay), DELETE the vanished rows,
#    INSERT ... SELECT the new ones. Readers see the old master until the
#    commit and the new one after it, never a mix and never an empty table.

STAGE = "instrument_refresh_stage"
GONE = "instrument_refresh_changed"


def _values(broker: str, row: InstrumentRow, ops, digest: str) -> tuple:
    return (
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
    return apply_records(
        broker=broker,
        records=rows_as_records(rows, salt=broker),
        exchanges=exchanges,
        progress=progress,
        min_ratio=min_ratio,
    )


def apply_records(
    *,
    broker: str,
    records: MasterRecords,
    exchanges: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    min_ratio: float | None = None,
) -> Counts:
    """Replace `broker`'s instruments (within `exchanges`, if given) by `records`."""
    wanted = {e.upper() for e in exchanges or []}
    min_ratio = settings.INSTRUMENT_MIN_ROW_RATIO if min_ratio is None else min_ratio
    existing, others, odd = _current_digests(broker, wanted)
    total_existing = len(existing)
    hasher = partial(blake2b, digest_size=8, person=records.salt.encode()[:16])
    digest = methodcaller("digest")
    ops = connection.ops  # once: `connection` is a thread-local proxy, costly per row
    counts = Counts()
    stage = _Stage()
    try:
        number = records.first
        for chunk in records.chunks():
            raws = chunk if records.raw is None else list(map(records.raw, chunk))
            # All in C: a digest per record, and which of them are unchanged rows.
            # Digests as ints: at 4 lakh rows the set of them is ~12 MB smaller than strings.
            digests = list(map(int.from_bytes, map(digest, map(hasher, raws))))
            hits = list(map(existing.__contains__, digests))
            existing.difference_update(compress(digests, hits))
            staged = []
            for i in compress(range(len(chunk)), map(not_, hits)):
                if others and digests[i] in others:
                    continue  # an unchanged row of an exchange this run leaves alone
                row = records.row(number + i, chunk[i])
                if wanted and row.exchange not in wanted:
                    continue
                staged.append(_values(broker, row, ops, f"{digests[i]:016x}"))
            stage.write(staged)
            number += len(chunk)
            if progress:
                progress(len(chunk))
        unchanged = total_existing - len(existing)
        gone = existing  # the current rows whose record was not seen again
        counts.skipped = stage.drop_duplicate_keys() if stage.size else 0
        # The current rows that were not seen again: changed (their symbol is
        # staged: updated in place) or vanished (deleted).
        changed_ids, removed = stage.split_gone(broker, gone, odd) if gone else ([], [])
        matched = stage.rows_matching_current(broker) if stage.size else 0
        shadowed = matched - len(changed_ids)  # a symbol listed twice; its first row stands
        counts.skipped += shadowed
        counts.rows = unchanged + stage.size - shadowed
        if total_existing and counts.rows < total_existing * min_ratio:
            raise MasterFormatError(
                f"The new master has {counts.rows:,} rows where the current one has "
                f"{total_existing:,}: it looks truncated, so the current master is kept."
            )
        if changed_ids:
            stage.write_changed(changed_ids)
        if stage.size or removed:
            with transaction.atomic():  # the only write to the instruments table
                counts.changed = stage.update_changed() if changed_ids else 0
                for start in range(0, len(removed), 900):  # under SQLite's parameter limit
                    Instrument.objects.filter(pk__in=removed[start : start + 900]).delete()
                counts.removed = len(removed)
                counts.added = stage.insert_new(broker) if stage.size > len(changed_ids) else 0
    finally:
        stage.drop()
    return counts


def _from_hex(values: list[str], odd: dict[int, str]) -> list[int]:
    """Stored digests as ints. One that is not 16 lower-case hex digits (a row
    made by hand) gets a negative stand-in, never equal to a record's digest
    (so the row is replaced or removed), kept in `odd` with its stored text."""
    joined = "".join(values)
    if len(joined) == 16 * len(values) and joined == joined.lower():
        try:
            return list(map(partial(int, base=16), values))
        except ValueError:
            pass
    out = []
    for value in values:
        try:
            number = int(value, 16)
        except ValueError:
            number = -1
        if number < 0 or f"{number:016x}" != value:
            number = -1 - len(odd)
            odd[number] = value
        out.append(number)
    return out


def _to_hex(digest: int, odd: dict[int, str]) -> str:
    return odd[digest] if digest < 0 else f"{digest:016x}"


def _current_digests(broker: str, wanted: set[str]) -> tuple[set[int], set[int], dict]:
    """Digests of the current rows in scope, and (with an exchange filter) of the rest."""
    table = Instrument._meta.db_table
    existing: set[int] = set()
    others: set[int] = set()
    odd: dict[int, str] = {}
    # chunked_cursor: a server-side cursor on PostgreSQL, so 4 lakh rows are
    # never all in the client's memory at once.
    with connection.chunked_cursor() as cursor:
        # SQLite: a plain scan reads every row of a broker faster than any of the
        # indexes that start with `broker` (each needs a table lookup per row).
        scan = " NOT INDEXED" if connection.vendor == "sqlite" else ""
        cursor.execute(
            f"SELECT {'exchange, ' if wanted else ''}row_hash FROM {table}{scan} "  # noqa: S608
            "WHERE broker = %s",
            [broker],
        )
        while batch := cursor.fetchmany(20_000):
            if not wanted:
                existing.update(_from_hex(list(map(itemgetter(0), batch)), odd))
                continue
            for (exchange, _), digest in zip(
                batch, _from_hex([d for _, d in batch], odd), strict=True
            ):
                (existing if exchange in wanted else others).add(digest)
    return existing, others, odd


class _Stage:
    """The TEMP tables of one refresh, on this thread's connection."""

    def __init__(self):
        self.table = Instrument._meta.db_table
        self.postgres = connection.vendor == "postgresql"
        self.seq = "seq" if self.postgres else "rowid"
        self.size = 0
        self.drop()
        cols = ", ".join(COLUMNS)
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"CREATE TEMP TABLE {STAGE} AS SELECT {cols} FROM {self.table} WITH NO DATA"  # noqa: S608
                )
                cursor.execute(f"ALTER TABLE {STAGE} ADD COLUMN seq bigserial")
            else:
                cursor.execute(
                    f"CREATE TEMP TABLE {STAGE} AS SELECT {cols} FROM {self.table} WHERE 0"  # noqa: S608
                )
            cursor.execute(f"CREATE TEMP TABLE {GONE} (id bigint PRIMARY KEY)")

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.copy(f"COPY {STAGE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO {STAGE} ({', '.join(COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                    rows,
                )
        self.size += len(rows)

    def drop_duplicate_keys(self) -> int:
        """A symbol listed twice keeps its first row; returns how many were dropped."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {STAGE} WHERE {self.seq} NOT IN "  # noqa: S608
                f"(SELECT MIN({self.seq}) FROM {STAGE} GROUP BY exchange, trading_symbol)"
            )
            dropped = max(cursor.rowcount, 0)
            cursor.execute(f"CREATE INDEX {STAGE}_key ON {STAGE} (exchange, trading_symbol)")
        self.size -= dropped
        return dropped

    def split_gone(self, broker: str, gone: set[int], odd: dict) -> tuple[list[int], list[int]]:
        """Ids of the current rows not seen again: (changed, vanished). One scan
        of the broker's rows, outside any transaction."""
        scan = "" if self.postgres else " NOT INDEXED"
        rows = []
        with connection.chunked_cursor() as cursor:
            cursor.execute(
                f"SELECT id, exchange, trading_symbol, row_hash FROM {self.table}{scan} "  # noqa: S608
                "WHERE broker = %s",
                [broker],
            )
            hexes = {_to_hex(d, odd) for d in gone}
            while batch := cursor.fetchmany(20_000):
                rows += [row[:3] for row in batch if row[3] in hexes]
        keys = self._staged_keys({(exchange, symbol) for _, exchange, symbol in rows})
        changed = sorted(pk for pk, exchange, symbol in rows if (exchange, symbol) in keys)
        vanished = sorted(pk for pk, exchange, symbol in rows if (exchange, symbol) not in keys)
        return changed, vanished

    def _staged_keys(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of `keys` are staged."""
        found = set()
        with connection.cursor() as cursor:
            for exchange in {e for e, _ in keys}:
                symbols = [s for e, s in keys if e == exchange]
                for start in range(0, len(symbols), 900):
                    part = symbols[start : start + 900]
                    cursor.execute(
                        f"SELECT trading_symbol FROM {STAGE} WHERE exchange = %s "  # noqa: S608
                        f"AND trading_symbol IN ({', '.join(['%s'] * len(part))})",
                        [exchange, *part],
                    )
                    found.update((exchange, symbol) for (symbol,) in cursor.fetchall())
        return found

    def rows_matching_current(self, broker: str) -> int:
        """Staged rows whose symbol is a current row (driven from the stage)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {STAGE} s WHERE EXISTS (SELECT 1 FROM {self.table} t "  # noqa: S608
                "WHERE t.broker = %s AND t.exchange = s.exchange "
                "AND t.trading_symbol = s.trading_symbol)",
                [broker],
            )
            return cursor.fetchone()[0]

    def write_changed(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {GONE} (id) VALUES (%s)", [(i,) for i in ids])  # noqa: S608
            if self.postgres:
                cursor.execute(f"ANALYZE {STAGE}")
                cursor.execute(f"ANALYZE {GONE}")

    def update_changed(self) -> int:
        """The changed rows, found by id (their symbols are staged), updated in place."""
        t = self.table
        assignments = ", ".join(f"{c} = s.{c}" for c in COLUMNS[3:])
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {t} SET {assignments} FROM {STAGE} s "  # noqa: S608
                f"WHERE {t}.id IN (SELECT id FROM {GONE}) AND s.exchange = {t}.exchange "
                f"AND s.trading_symbol = {t}.trading_symbol",
            )
            return max(cursor.rowcount, 0)

    def insert_new(self, broker: str) -> int:
        cols = ", ".join(COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} ({cols}) SELECT {cols} FROM {STAGE} s "  # noqa: S608
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.table} t WHERE t.broker = %s "
                "AND t.exchange = s.exchange AND t.trading_symbol = s.trading_symbol) "
                f"ORDER BY s.{self.seq} "
                # Another refresh of this broker that committed first already
                # inserted the symbol: its row stands (no IntegrityError midway).
                "ON CONFLICT (broker, exchange, trading_symbol) DO NOTHING",
                [broker],
            )
            return max(cursor.rowcount, 0)

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"DROP TABLE IF EXISTS {GONE}")


def _update_planner_statistics() -> None:
    """After lakhs of rows changed, stale statistics make searches 10x slower.

    Best effort: the new master is already committed, so a busy database here
    (SQLite answers "database is locked" when ANALYZE cannot get the write
    lock) is logged and left to the next refresh, never a failed run."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {Instrument._meta.db_table}")
            elif connection.vendor == "sqlite":
                # ANALYZE writes (takes the write lock): sample, never scan every row.
                cursor.execute("PRAGMA analysis_limit = 1000")
                cursor.execute("PRAGMA optimize")
    except OperationalError as exc:
        logger.warning("instrument statistics not updated (the next refresh will): %s", exc)


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
        with open_master(broker, source) as master:
            run.source, run.content_digest = master.where[:500], master.digest or ""
            last = same_as_last_run(broker=broker, exchanges=exchanges, digest=master.digest)
            if last is not None:
                return _unchanged(run, last, label)
            counts = apply_records(
                broker=broker, records=master.records, exchanges=exchanges, progress=progress
            )
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
    if counts.added or counts.changed or counts.removed:
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


def _unchanged(run: InstrumentRefresh, last: InstrumentRefresh, label: str) -> InstrumentRefresh:
    """Record a run whose bytes are those of `last`: nothing parsed, nothing written."""
    run.rows = last.rows
    run.status, run.finished_at = run.Status.SUCCEEDED, timezone.now()
    run.save()
    record_event(
        category=SystemEvent.Category.MARKETDATA,
        message=(
            f"{label} instruments unchanged: the same file as the refresh of "
            f"{timezone.localtime(last.started_at):%d %b %H:%M}; {run.rows:,} rows kept"
        ),
        details={"refresh_id": run.pk, "broker": run.broker, "same_as": last.pk},
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
