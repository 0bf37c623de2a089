from django.db import models
from django.utils import timezone

from brokers.base import InstrumentRef


class Instrument(models.Model):
    """One tradable thing at one broker. Tokens belong to their broker only."""

    broker = models.CharField(max_length=32)
    exchange = models.CharField(max_length=10)
    trading_symbol = models.CharField(max_length=64, help_text="The broker's own symbol.")
    canonical_symbol = models.CharField(
        max_length=64, help_text="The exchange-level name traders use (SBIN, NIFTY 50)."
    )
    token = models.CharField(max_length=32)
    name = models.CharField(max_length=128, blank=True)
    instrument_type = models.CharField(max_length=10)  # EQ, INDEX, FUT, CE, PE, ...
    segment = models.CharField(max_length=20, blank=True)
    series = models.CharField(max_length=10, blank=True)
    lot_size = models.PositiveIntegerField(default=1)
    tick_size = models.DecimalField(max_digits=14, decimal_places=6)
    expiry = models.DateField(null=True, blank=True)
    strike = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    # A digest of the fields above: a refresh compares it instead of every column.
    row_hash = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "exchange", "trading_symbol"], name="instrument_unique_symbol"
            )
        ]
        indexes = [
            models.Index(fields=["broker", "exchange", "canonical_symbol"], name="instr_canonical"),
            models.Index(fields=["broker", "token"], name="instr_token"),
            models.Index(fields=["broker", "instrument_type"], name="instr_type"),
            # Prefix search: PostgreSQL needs pattern ops for LIKE 'X%' under a
            # non-C collation; other databases ignore opclasses.
            models.Index(
                fields=["broker", "canonical_symbol"],
                name="instr_search",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self):
        return f"{self.exchange}:{self.trading_symbol} ({self.broker})"

    @property
    def ref(self):
        return InstrumentRef(self.exchange, self.trading_symbol, self.token)


class InstrumentRefresh(models.Model):
    """One run of a broker's instrument-master refresh."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    broker = models.CharField(max_length=32, db_index=True)
    source = models.CharField(max_length=500)
    exchanges = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    # A digest of the master's bytes (and the mapping's version): a refresh of
    # the very same file skips the parse. Empty for rows from a broker session.
    content_digest = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        verbose_name_plural = "instrument refreshes"

    def __str__(self):
        return f"{self.broker} {self.status} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class SymbolAlias(models.Model):
    """`source` (as TradingView or a trader writes it) means `target` at a broker."""

    ANY_BROKER = ""

    broker = models.CharField(max_length=32, blank=True, help_text="Blank: every broker.")
    exchange = models.CharField(max_length=10)
    source = models.CharField(max_length=64)
    target = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "exchange", "source"], name="alias_unique_source"
            )
        ]
        verbose_name_plural = "symbol aliases"

    def __str__(self):
        return f"{self.exchange}:{self.source} → {self.target} ({self.broker or 'any broker'})"

    def save(self, *args, **kwargs):
        self.exchange, self.source = self.exchange.upper(), self.source.strip().upper()
        self.target = self.target.strip()
        super().save(*args, **kwargs)


class Candle(models.Model):
    """Broker-neutral price history, keyed by the exchange-level symbol."""

    exchange = models.CharField(max_length=10)
    canonical_symbol = models.CharField(max_length=64)
    interval = models.CharField(max_length=8)  # 1m, 5m, 15m, 1h, 1d
    at = models.DateTimeField()
    open = models.DecimalField(max_digits=16, decimal_places=4)
    high = models.DecimalField(max_digits=16, decimal_places=4)
    low = models.DecimalField(max_digits=16, decimal_places=4)
    close = models.DecimalField(max_digits=16, decimal_places=4)
    volume = models.BigIntegerField(default=0)
    source_broker = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "canonical_symbol", "interval", "at"], name="candle_unique"
            )
        ]
        ordering = ["exchange", "canonical_symbol", "interval", "at"]

    def __str__(self):
        return f"{self.exchange}:{self.canonical_symbol} {self.interval} {self.at:%Y-%m-%d %H:%M}"
