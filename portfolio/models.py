"""Holdings and positions per broker account, in the common vocabulary.

A sync replaces one account's rows in a single transaction, so a reader sees
either the previous set or the new one, never an account half-synced or empty.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from brokers.models import BrokerAccount
from marketdata.models import Instrument

MONEY = {"max_digits": 18, "decimal_places": 4}


class PortfolioRow(models.Model):
    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="+")
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    symbol = models.CharField(
        max_length=64, help_text="Canonical symbol (the broker's if unknown)."
    )
    broker_symbol = models.CharField(max_length=64)
    exchange = models.CharField(max_length=10)
    quantity = models.IntegerField()
    average_price = models.DecimalField(**MONEY)
    last_price = models.DecimalField(**MONEY)
    close_price = models.DecimalField(null=True, blank=True, **MONEY)
    pnl = models.DecimalField(**MONEY)
    day_change = models.DecimalField(
        null=True, blank=True, help_text="Per share, against the previous close.", **MONEY
    )
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def invested(self) -> Decimal:
        return self.average_price * self.quantity

    @property
    def current_value(self) -> Decimal:
        return self.last_price * self.quantity

    @property
    def day_pnl(self) -> Decimal | None:
        return None if self.day_change is None else self.day_change * self.quantity

    @property
    def pnl_percent(self) -> Decimal | None:
        invested = self.invested
        return (self.current_value - invested) * 100 / invested if invested else None


class Holding(PortfolioRow):
    t1_quantity = models.IntegerField(default=0)
    mtf_quantity = models.IntegerField(
        default=0, help_text="Bought with margin (MTF); not in the quantity or its P&L."
    )
    isin = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["symbol"]
        indexes = [models.Index(fields=["account", "symbol"], name="holding_account_symbol")]

    def __str__(self):
        return f"{self.symbol} x{self.quantity} ({self.account_id})"


class Position(PortfolioRow):
    product = models.CharField(max_length=8)  # CNC / MIS / NRML
    overnight_quantity = models.IntegerField(default=0)
    buy_quantity = models.IntegerField(default=0)
    sell_quantity = models.IntegerField(default=0)
    buy_average = models.DecimalField(default=0, **MONEY)
    sell_average = models.DecimalField(default=0, **MONEY)
    day_buy_quantity = models.IntegerField(default=0)
    day_sell_quantity = models.IntegerField(default=0)
    realised = models.DecimalField(default=0, **MONEY)
    unrealised = models.DecimalField(default=0, **MONEY)
    m2m = models.DecimalField(default=0, **MONEY)

    class Meta:
        ordering = ["symbol", "product"]
        indexes = [models.Index(fields=["account", "symbol"], name="position_account_symbol")]

    def __str__(self):
        return f"{self.symbol} {self.product} {self.quantity:+d} ({self.account_id})"

    @property
    def is_open(self) -> bool:
        return self.quantity != 0

    @property
    def open_quantity(self) -> int:
        """The quantity an exit closes (a short position's too), always positive."""
        return abs(self.quantity)

    @property
    def lot_size(self) -> int:
        return self.instrument.lot_size if self.instrument_id and self.instrument else 1

    @property
    def key(self) -> str:
        """What names this position for good (forms post it): a portfolio sync replaces
        the rows, so a pk on a page open since the last sync is gone."""
        return f"{self.account_id}|{self.exchange}|{self.symbol}|{self.product}"

    @staticmethod
    def parse_key(key: str) -> dict | None:
        """`key`'s parts as filter arguments (a symbol may hold "|"); None if malformed."""
        account_id, _, rest = key.partition("|")
        exchange, _, rest = rest.partition("|")
        symbol, _, product = rest.rpartition("|")
        if not account_id.isdigit():
            return None
        return {
            "account_id": int(account_id),
            "exchange": exchange,
            "symbol": symbol,
            "product": product,
        }


class PortfolioSync(models.Model):
    """Per account: when holdings/positions/funds last came back, and the last error."""

    account = models.OneToOneField(
        BrokerAccount, on_delete=models.CASCADE, related_name="portfolio_sync"
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    available_cash = models.DecimalField(null=True, blank=True, **MONEY)
    used_margin = models.DecimalField(null=True, blank=True, **MONEY)
    funds_error = models.TextField(blank=True)

    def __str__(self):
        return f"portfolio sync of {self.account_id}"


class PortfolioSnapshot(models.Model):
    """A daily copy of one account's holdings and positions, for history."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    taken_at = models.DateTimeField(default=timezone.now)
    invested = models.DecimalField(**MONEY)
    current_value = models.DecimalField(**MONEY)
    pnl = models.DecimalField(**MONEY)
    day_pnl = models.DecimalField(**MONEY)
    available_cash = models.DecimalField(null=True, blank=True, **MONEY)
    holdings = models.JSONField(default=list)
    positions = models.JSONField(default=list)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="snapshot_one_per_day")
        ]

    def __str__(self):
        return f"snapshot {self.account_id} {self.date}"
