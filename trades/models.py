"""Fills, captured days, opening lots, corporate-action adjustments, round trips.

`Trade` and `OpeningLot` and `Adjustment` are the inputs; `RoundTrip` is derived
(trades/services.py rebuilds it from them, any time, with the same answer).
History outlives an account: when it is deleted, rows keep its name, and its id
as `account_ref` (trades/history.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 18, "decimal_places": 4}


class Trade(models.Model):
    """One fill at a broker: captured from the account's trade book, or imported."""

    class Side(models.TextChoices):
        BUY = "BUY", "Buy"
        SELL = "SELL", "Sell"

    class Origin(models.TextChoices):
        CAPTURED = "captured", "Trade book"
        IMPORTED = "imported", "Imported"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set to the account's id as the account is deleted (`account` becomes NULL), so
    # each deleted account's fills stay a book of their own when matching is rebuilt.
    account_ref = models.PositiveBigIntegerField(null=True, blank=True)
    account_name = models.CharField(max_length=120)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    broker_trade_id = models.CharField(max_length=64)
    broker_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    product = models.CharField(max_length=8)  # CNC / MIS / NRML
    traded_at = models.DateTimeField()
    trade_date = models.DateField()  # India date of traded_at
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.CAPTURED)
    # The broker gave no time for the fill: traded_at is when it was read (or 09:15 of
    # its day, for an import without times).
    time_estimated = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["traded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "broker_trade_id"], name="trade_unique_per_account"
            )
        ]
        indexes = [
            models.Index(fields=["user", "trade_date"], name="trade_user_date"),
            models.Index(fields=["account", "trade_date"], name="trade_account_date"),
        ]

    def __str__(self):
        return f"{self.broker_trade_id} {self.side} {self.quantity} {self.symbol}@{self.price}"


class CapturedDay(models.Model):
    """The account's trade book was read (or imported) for this India trading day."""

    class Via(models.TextChoices):
        TRADE_BOOK = "trade_book", "Trade book"
        IMPORT = "import", "Import"
        NO_TRADES = "no_trades", "Marked: no trades that day"

    account = models.ForeignKey("brokers.BrokerAccount", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    via = models.CharField(max_length=12, choices=Via.choices, default=Via.TRADE_BOOK)
    captured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="captured_day_unique")
        ]

    def __str__(self):
        return f"account {self.account_id} captured {self.day}"


class OpeningLot(models.Model):
    """Shares held before tracking began, at the broker's average price."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Kept (account NULL, account_ref its id) when the account is deleted: the sells
    # of its history still close against these shares when the matching is rebuilt.
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    account_ref = models.PositiveBigIntegerField(null=True, blank=True)
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    average_price = models.DecimalField(**MONEY)
    # Held at the start of this India day (tracking began); bought on or before it.
    as_of = models.DateField()
    # When the user knows it: the purchase date (the holding period counts from it).
    acquired_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "exchange", "symbol"], name="opening_lot_unique"
            )
        ]

    def __str__(self):
        return f"opening lot {self.symbol} x{self.quantity} @ {self.average_price}"


class Adjustment(models.Model):
    """A split or bonus: from `ex_date`, every `old` shares held become `new`.

    Split 1:5 (old 1, new 5): quantity x5, price /5, dates kept. Bonus 1:1
    (one bonus share per share held: old 1, new 2): the bonus shares are a new lot
    at cost 0 acquired on the ex-date, as the Income-tax Act counts them."""

    class Kind(models.TextChoices):
        SPLIT = "split", "Split"
        BONUS = "bonus", "Bonus"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    symbol = models.CharField(max_length=64)
    exchange = models.CharField(max_length=10, blank=True)  # blank: every exchange
    kind = models.CharField(max_length=6, choices=Kind.choices)
    ex_date = models.DateField()
    old = models.PositiveIntegerField()
    new = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ex_date", "pk"]
        constraints = [
            # The same action entered twice would be applied twice (a 1:2 split as 1:4).
            models.UniqueConstraint(
                fields=["user", "symbol", "exchange", "kind", "ex_date", "old", "new"],
                name="adjustment_unique",
            )
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} {self.symbol} {self.old}:{self.new} "
            f"on {self.ex_date:%d %b %Y}"
        )


class RoundTrip(models.Model):
    """A position opened and closed, matched first-in first-out (derived)."""

    class Classification(models.TextChoices):
        INTRADAY = "INTRADAY", "Intraday (speculative)"
        STCG = "STCG", "Short-term capital gain"
        LTCG = "LTCG", "Long-term capital gain"
        FNO = "FNO", "F&O (non-speculative business)"

    class Direction(models.TextChoices):
        LONG = "LONG", "Long"
        SHORT = "SHORT", "Short"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    account_name = models.CharField(max_length=120)
    # The book's account id, kept when the account is deleted (its P&L filter).
    account_ref = models.PositiveBigIntegerField(null=True, blank=True)
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    product_class = models.CharField(max_length=8)  # CNC / MIS / FNO
    direction = models.CharField(max_length=5, choices=Direction.choices)
    quantity = models.PositiveIntegerField()
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField()
    open_date = models.DateField()
    close_date = models.DateField()
    open_average = models.DecimalField(**MONEY)
    close_average = models.DecimalField(**MONEY)
    gross = models.DecimalField(**MONEY)
    charges_estimate = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    classification = models.CharField(max_length=8, choices=Classification.choices)
    financial_year = models.PositiveSmallIntegerField()  # 2025 = FY 2025-26 (by close date)
    from_opening_lot = models.BooleanField(default=False)
    grandfathered = models.BooleanField(default=False)  # bought on/before 31 Jan 2018
    note = models.CharField(max_length=200, blank=True)
    strategy = models.CharField(max_length=100)  # the opening order's strategy / source
    seq = models.PositiveIntegerField(default=0)  # the matching's order, for stable sorts

    class Meta:
        ordering = ["closed_at", "seq"]
        indexes = [
            models.Index(fields=["user", "financial_year"], name="roundtrip_user_fy"),
            models.Index(fields=["account", "financial_year"], name="roundtrip_account_fy"),
        ]

    def __str__(self):
        return f"{self.symbol} {self.direction} {self.quantity} net {self.net}"


class PendingImport(models.Model):
    """An uploaded trade export between its preview and its confirmation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("brokers.BrokerAccount", on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Kept (without its text) once confirmed, so Back to its preview says so.
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"pending import {self.filename} for account {self.account_id}"


class UnmatchedSale(models.Model):
    """Delivery shares sold beyond what the known history holds (derived, like
    RoundTrip): bought before the fills the app knows of. Never a short round trip
    (a delivery short cannot exist at a broker); shown as a warning until older
    trades are imported."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    account_name = models.CharField(max_length=120)
    account_ref = models.PositiveBigIntegerField(null=True, blank=True)
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    sold_at = models.DateTimeField()
    sale_date = models.DateField()
    financial_year = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["sold_at", "pk"]

    def __str__(self):
        return f"unmatched sale {self.symbol} x{self.quantity} on {self.sale_date}"

    @property
    def message(self) -> str:
        return (
            f"Sold {self.quantity} {self.symbol} on {self.sale_date:%d %b %Y} more than the known "
            "history holds: import the older trades that bought them (Trades → Import); no "
            "profit or loss is counted for them until then."
        )
