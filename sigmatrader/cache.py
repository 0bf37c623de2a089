"""The embedded (no Redis) cache: Django's file cache plus cheap shared counters.

Rate-limit windows (webhook deliveries per token, broker calls per account)
are counters every process must share. On Django's FileBasedCache an
`add` + `incr` pickles, writes a temporary file, renames it and lists the whole
cache folder to cull it — several milliseconds per alert and per order. Here
a counter is one small file updated in place under an exclusive `flock`
(atomic between processes on this machine), with its expiry stored beside the
count. `cache.clear()` clears the counters too. With Redis, `hit` falls back
to the cache's own atomic `incr` (see `sigmatrader.counters.hit`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import time
from pathlib import Path

from django.core.cache.backends.filebased import FileBasedCache as DjangoFileBasedCache

_RECORD = struct.Struct("<dq")  # expires at (epoch seconds), count
SWEEP_EVERY = 10.0  # seconds between removals of expired counter files, per process


class FileBasedCache(DjangoFileBasedCache):
    def __init__(self, dir, params):  # noqa: A002 (Django's signature)
        super().__init__(dir, params)
        self._counters = Path(self._dir) / "counters"
        self._last_sweep = 0.0

    def hit(self, key: str, ttl: float) -> int:
        """Add one to the counter `key` (a fresh one lives `ttl` seconds); the new count."""
        key = self.make_and_validate_key(key)
        name = f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.{int(ttl)}.cnt"
        path = self._counters / name
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            self._counters.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        now = time.time()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = os.pread(fd, _RECORD.size, 0)
            expires, count = _RECORD.unpack(data) if len(data) == _RECORD.size else (0.0, 0)
            if expires <= now:
                expires, count = now + ttl, 0
            count += 1
            os.pwrite(fd, _RECORD.pack(expires, count), 0)
        finally:
            os.close(fd)  # releases the lock
        if now - self._last_sweep > SWEEP_EVERY:
            self._last_sweep = now
            self._sweep(now)
        return count

    def _sweep(self, now: float) -> None:
        """Remove counter files past their lifetime (named with it) by a margin."""
        try:
            entries = list(os.scandir(self._counters))
        except FileNotFoundError:
            return
        for entry in entries:
            try:
                ttl = int(entry.name.split(".")[1])
                if entry.stat().st_mtime < now - ttl - 60:
                    os.unlink(entry.path)
            except (IndexError, ValueError, OSError):
                continue

    def clear(self):
        """Everything: cached values, counters, and generations (which therefore change)."""
        super().clear()
        entries = []
        for folder in (self._counters, Path(self._dir) / "generations"):
            try:
                entries.extend(os.scandir(folder))
            except FileNotFoundError:
                continue
        for entry in entries:
            try:
                os.unlink(entry.path)
            except OSError:
                continue


def _generation_path(cache: FileBasedCache, name: str) -> Path:
    return Path(cache._dir) / "generations" / hashlib.sha256(name.encode()).hexdigest()[:40]


def file_generation(cache: FileBasedCache, name: str):
    """A value that changes whenever `bump_file_generation(name)` runs (a stat, no read)."""
    path = _generation_path(cache, name)
    try:
        stat = os.stat(path)
    except FileNotFoundError:  # never bumped, or cleared: start a generation
        bump_file_generation(cache, name)
        stat = os.stat(path)
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def bump_file_generation(cache: FileBasedCache, name: str) -> None:
    path = _generation_path(cache, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    partial.write_bytes(os.urandom(8))
    os.replace(partial, path)  # a new inode: every reader sees a new generation
