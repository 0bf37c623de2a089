"""Instrument masters as raw records: the unit a refresh hashes before it maps.

A refresh compares a digest of each raw record (the bytes of one JSON object,
one CSV line) with the digest stored for that row last time, and maps only the
records that differ. `MasterRecords.chunks()` yields lists of raw records (a
few MB at a time, never the whole file); `MasterRecords.row()` maps one record
to an `InstrumentRow`, raising MasterFormatError that names the record.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from operator import attrgetter, methodcaller
from typing import Any

import ijson
import orjson

from .base import InstrumentRow, MasterFormatError
from .mapping import RowReader

CHUNK_BYTES = 1 << 20


@dataclass
class MasterRecords:
    """Raw records of one master, and how to map one of them."""

    chunks: Callable[[], Iterator[list]]
    row: Callable[[int, Any], InstrumentRow]
    # Part of every record's digest: bump it when the mapping changes, so that a
    # refresh re-maps rows whose raw record did not change.
    salt: str
    # The bytes hashed for a record (None: the record is its own bytes).
    raw: Callable[[Any], bytes] | None = None
    # The number of the first record in error messages (2 after a header line).
    first: int = 1


# --- A JSON array of flat objects (the SmartAPI master) -------------------------------

_OBJECT = re.compile(rb"(\{[^{}]*\})")
_BETWEEN = re.compile(rb"\s*,\s*")
_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*\[\s*")
_END = re.compile(rb"\s*\]\s*")
_EMPTY = re.compile(rb"(?:\xef\xbb\xbf)?\s*\[\s*\]\s*")


class _Rest:
    """`prefix` followed by what is left of `stream`, as one binary stream."""

    def __init__(self, prefix: bytes, stream):
        self.prefix, self.stream = prefix, stream

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks read(0) to tell bytes from text
            return b""
        if self.prefix:
            out, self.prefix = self.prefix, b""
            return out
        return self.stream.read(size)


def json_array_chunks(stream, *, source: str) -> Iterator[list]:
    """Raw records of a JSON array of flat objects, found at C speed.

    The fast path splits the bytes at every closing brace: each piece is the
    gap before an object and the object without its closing brace, and must
    hold exactly one opening brace (no "[" past the first). A master that is not
    a flat array of flat objects (an object inside an object, a brace inside a
    string) is noticed at its first such piece; from one piece before it the
    bytes are split by a regular expression that also checks every gap, and
    from its first doubt on, by ijson (each object re-serialised, sorted, as its
    raw record). Digests differ between the readings, so a master that changes
    shape is re-mapped once; nothing is ever read wrongly. The gap of a piece is
    checked when the piece is mapped (`json_object_row`); a piece whose digest
    matches a stored row was checked when that row was stored.
    """
    tail, started = b"", False
    one = methodcaller("count", b"{")
    final = False
    while not final:
        data = stream.read(CHUNK_BYTES)
        final = not data
        buffer = tail + data if tail else data
        pieces = buffer.split(b"}")
        tail = pieces.pop()
        if not pieces:
            if len(tail) > 4 * CHUNK_BYTES:  # no object closed in 4 MB: not this shape
                yield from _regex_chunks(_Rest(tail, stream), source=source, started=started)
                return
            continue
        # Flat: one "{" per piece, right after the same gap (", ", ",\n  "...).
        counts = list(map(one, pieces))
        body = pieces if started else pieces[1:]
        sample = body[0] if body else b"{"
        gap = sample[: sample.find(b"{") + 1]
        if gap[:-1] and not _BETWEEN.fullmatch(gap[:-1]):
            gap = b"\0"  # matches nothing: the regular expression reads on
        good = [True, *map(methodcaller("startswith", gap), body)][(1 if started else 0) :]
        if not started:
            head = pieces[0]
            good[0] = _START.fullmatch(head[: head.find(b"{")]) is not None
        brackets = buffer.count(b"[")
        flat = counts.count(1) == len(counts) and good.count(True) == len(good)
        flat = flat and brackets == (0 if started else 1)
        if not flat:
            first_bad = next(
                (i for i, (c, g) in enumerate(zip(counts, good, strict=True)) if c != 1 or not g),
                0,
            )
            keep = max(first_bad - 1, 0)
            if started and brackets:
                keep = 0
            if keep:
                yield pieces[:keep]
            rest = b"}".join([*pieces[keep:], tail])
            yield from _regex_chunks(
                _Rest(rest, stream), source=source, started=started or keep > 0
            )
            return
        if not final:  # the last piece waits: the next piece may show it is a fragment
            tail = pieces.pop() + b"}" + tail
        if pieces:
            started = True
            yield pieces
    yield from _after_last_record(tail, stream, source=source, started=started)


def _regex_chunks(stream, *, source: str, started: bool) -> Iterator[list]:
    """Whole `{...}` objects found by a regular expression, every gap checked."""
    tail, final = b"", False
    while not final:
        data = stream.read(CHUNK_BYTES)
        final = not data
        buffer = tail + data if tail else data
        parts = _OBJECT.split(buffer)
        if len(parts) == 1:
            tail = buffer
            if len(tail) > 4 * CHUNK_BYTES:  # no flat object in 16 MB: not this shape
                yield from _json_items(_Rest(tail, stream), source=source, started=started)
                return
            continue
        lead, records, gaps = parts[0], parts[1::2], parts[2:-1:2]
        # Past the start, a buffer begins with the record held back (no gap) or a gap.
        good = (lead == b"" and started) or (
            (_BETWEEN if started else _START).fullmatch(lead) is not None
        )
        bad = {gap for gap in set(gaps) if not _BETWEEN.fullmatch(gap)}
        if not good or bad:
            if not good:
                yield from _json_items(_Rest(buffer, stream), source=source, started=started)
                return
            # Keep the records before the one ahead of the first bad gap (that one
            # may be a fragment); ijson reads on from there.
            cut = next(i for i, gap in enumerate(gaps) if gap in bad)
            if cut:
                yield records[:cut]
            rest = b"".join(parts[2 * cut + 1 :])
            yield from _json_items(_Rest(rest, stream), source=source, started=True)
            return
        tail = parts[-1]
        if not final:  # the last record waits: the next gap may show it is a fragment
            tail = records.pop() + tail
        if records:
            started = True
            yield records
        elif not started:
            tail = lead + tail  # the opening bracket is still ahead of the held record
    yield from _after_last_record(tail, stream, source=source, started=started)


def _after_last_record(tail: bytes, stream, *, source: str, started: bool) -> Iterator[list]:
    """What is left once the stream is read: "]" after the records, or (when no
    record was found) an empty array, or something ijson must judge."""
    if not started:
        if not tail.strip():
            raise MasterFormatError(f"{source}: not valid JSON (the file is empty)")
        if not _EMPTY.fullmatch(tail):
            yield from _json_items(_Rest(tail, stream), source=source, started=False)
        return
    if not _END.fullmatch(tail):
        raise MasterFormatError(f"{source}: not valid JSON (it ends inside a row or after it)")


def _json_items(stream, *, source: str, started: bool) -> Iterator[list]:
    if started:  # the opening bracket was consumed: ijson reads "item, item ... ]"
        first = stream.read(CHUNK_BYTES).lstrip().removeprefix(b",")
        stream = _Rest(b"[" + first, stream)
    batch: list = []
    try:
        for item in ijson.items(stream, "item"):
            batch.append(
                json.dumps(item, sort_keys=True, default=str).encode()
                if isinstance(item, dict)
                else b"null"
            )
            if len(batch) >= 5000:
                yield batch
                batch = []
    except ijson.JSONError as exc:
        raise MasterFormatError(f"{source}: not valid JSON ({exc})") from exc
    if batch:
        yield batch


def json_object_row(
    mapper: Callable[[int, dict, str], InstrumentRow], source: str
) -> Callable[[int, bytes], InstrumentRow]:
    """Map one raw JSON object with `mapper(number, item, source)`."""
    loads = orjson.loads

    def row(number: int, raw: bytes) -> InstrumentRow:
        try:
            item = loads(raw)
        except orjson.JSONDecodeError as exc:
            raise MasterFormatError(f"{source} row {number}: not valid JSON ({exc})") from exc
        if not isinstance(item, dict):
            raise MasterFormatError(f"{source} row {number}: not an object")
        return mapper(number, item, source)

    def piece_row(number: int, raw: bytes) -> InstrumentRow:
        if raw[-1:] == b"}":  # a whole object (the regular expression's or ijson's)
            return row(number, raw)
        start = raw.find(b"{")
        gap = raw[:start]
        if start < 0 or not (_BETWEEN.fullmatch(gap) or _START.fullmatch(gap)):
            raise MasterFormatError(f"{source} row {number}: not valid JSON before the row")
        return row(number, raw[start:] + b"}")

    return piece_row

    return row


# --- CSV with a header line (the Kite master) -----------------------------------------


def csv_records(
    stream, *, columns: tuple[str, ...], mapper: Callable[[RowReader], InstrumentRow], source: str
) -> MasterRecords:
    """Each line after the header is a raw record (a quoted field spanning lines
    joins its lines into one record)."""
    header_line = stream.readline()
    header = next(csv.reader([header_line.decode("utf-8-sig")]), [])
    header = [name.strip() for name in header]
    missing = [c for c in columns if c not in header]
    if missing:
        raise MasterFormatError(f"{source} header: missing columns {', '.join(missing)}")
    width = len(header)

    def chunks() -> Iterator[list]:
        pending = b""
        while True:
            lines = stream.readlines(CHUNK_BYTES)
            if not lines:
                break
            if pending or any(b'"' in line for line in lines):
                records = []
                for line in lines:
                    pending += line
                    if pending.count(b'"') % 2 == 0:
                        records.append(pending.rstrip(b"\r\n"))
                        pending = b""
                records = [r for r in records if r.strip()]
            else:
                records = list(filter(bytes.strip, (line.rstrip(b"\r\n") for line in lines)))
            if records:
                yield records
        if pending.strip():
            raise MasterFormatError(f"{source}: the file ends inside a quoted field")

    def row(number: int, raw: bytes) -> InstrumentRow:
        try:
            values = next(csv.reader([raw.decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise MasterFormatError(f"{source} row {number}: unreadable ({exc})") from exc
        fields = dict(zip(header, values, strict=False))
        reader = RowReader(number, fields, source)
        if len(values) != width:
            reader.fail("wrong number of columns")
        return mapper(reader)

    return MasterRecords(chunks=chunks, row=row, salt="", first=2)


def rows_of(records: MasterRecords) -> Iterator[InstrumentRow]:
    """Every record mapped (for callers that want rows, not a diff)."""
    number = records.first
    for chunk in records.chunks():
        for raw in chunk:
            yield records.row(number, raw)
            number += 1


# --- Rows already mapped (a broker's own download, tests) ------------------------------


_ROW_FIELDS = attrgetter(*(f.name for f in fields(InstrumentRow)))


def row_bytes(row: InstrumentRow) -> bytes:
    return "|".join(map(str, _ROW_FIELDS(row))).encode()


def rows_as_records(rows, *, salt: str) -> MasterRecords:
    """Mapped rows as records: every row is mapped anyway, only the diff is saved."""

    def chunks() -> Iterator[list]:
        batch: list = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                yield batch
                batch = []
        if batch:
            yield batch

    return MasterRecords(chunks=chunks, row=lambda number, row: row, salt=salt, raw=row_bytes)
