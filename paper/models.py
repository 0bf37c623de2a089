"""The simulated broker's books: one per paper account.

These rows are the paper "exchange"; the app reads them only through the paper
adapter (paper/adapter.py), like any broker's server.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from brokers.models import BrokerAccount

MONEY = {"max_digits": 18, "decimal_places": 4}


class PaperBook(models.Model):
    account = models.OneToOneField(BrokerAccount, on_delete=models.CASCADE, related_name="+")
    starting_cash = models.DecimalField(**MONEY)
    cash = models.DecimalField(**MONEY)  # after every fill and charge
    blocked = models.DecimalField(default=0, **MONEY)  # held for open orders
    # SHA-256 of the session token the adapter holds; the token itself is never stored.
    session_token_hash = models.CharField(max_length=64, blank=True)
    next_order_number = models.PositiveBigIntegerField(default=1)
    reset_at = models.DateTimeField(default=timezone.now)
    # The delivery positions of the days before this India date are in the
    # holdings (engine.settle); None: nothing folded yet.
    settled_on = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"paper book of account {self.account_id}"

    @property
    def available(self) -> Decimal:
        return self.cash - self.blocked


class PaperOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN"
        TRIGGER_PENDING = "TRIGGER_PENDING"
        COMPLETE = "COMPLETE"
        CANCELLED = "CANCELLED"
        REJECTED = "REJECTED"

    ACTIVE = (Status.OPEN, Status.TRIGGER_PENDING)

    book = models.ForeignKey(PaperBook, on_delete=models.CASCADE, related_name="orders")
    order_id = models.CharField(max_length=32, unique=True)
    tag = models.CharField(max_length=40, blank=True)
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    token = models.CharField(max_length=32, blank=True)
    side = models.CharField(max_length=4)
    quantity = models.PositiveIntegerField()
    filled_quantity = models.PositiveIntegerField(default=0)
    order_type = models.CharField(max_length=8)
    product = models.CharField(max_length=8)
    price = models.DecimalField(null=True, blank=True, **MONEY)
    trigger_price = models.DecimalField(null=True, blank=True, **MONEY)
    triggered = models.BooleanField(default=False)
    average_price = models.DecimalField(null=True, blank=True, **MONEY)
    blocked_amount = models.DecimalField(default=0, **MONEY)
    status = models.CharField(max_length=16, choices=Status.choices)
    status_message = models.CharField(max_length=300, blank=True)
    validity = models.CharField(max_length=8, default="DAY")
    variety = models.CharField(max_length=12, default="REGULAR")
    placed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["placed_at", "pk"]
        indexes = [models.Index(fields=["book", "status"], name="paper_order_book_status")]

    def __str__(self):
        return f"{self.order_id} {self.side} {self.quantity} {self.symbol} {self.status}"

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled_quantity


class PaperTrade(models.Model):
    order = models.ForeignKey(PaperOrder, on_delete=models.CASCADE, related_name="trades")
    trade_id = models.CharField(max_length=40, unique=True)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    charges = models.DecimalField(**MONEY)
    charges_breakdown = models.JSONField(default=dict)
    traded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["traded_at", "pk"]

    def __str__(self):
        return f"{self.trade_id} {self.quantity}@{self.price}"


class PaperHolding(models.Model):
    book = models.ForeignKey(PaperBook, on_delete=models.CASCADE, related_name="holdings")
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    token = models.CharField(max_length=32, blank=True)
    quantity = models.IntegerField(default=0)
    average_price = models.DecimalField(default=0, **MONEY)
    t1_quantity = models.IntegerField(default=0)  # net bought on t1_date, not yet delivered
    t1_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["book", "exchange", "symbol"], name="paper_holding_unique"
            )
        ]

    def __str__(self):
        return f"{self.symbol} x{self.quantity}"


class PaperPosition(models.Model):
    """One trading day's net position per instrument and product."""

    book = models.ForeignKey(PaperBook, on_delete=models.CASCADE, related_name="positions")
    day = models.DateField()
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64)
    token = models.CharField(max_length=32, blank=True)
    product = models.CharField(max_length=8)
    buy_quantity = models.IntegerField(default=0)
    sell_quantity = models.IntegerField(default=0)
    buy_value = models.DecimalField(default=0, **MONEY)
    sell_value = models.DecimalField(default=0, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["book", "day", "exchange", "symbol", "product"],
                name="paper_position_unique",
            )
        ]

    def __str__(self):
        return f"{self.symbol} {self.product} {self.quantity:+d}"

    @property
    def quantity(self) -> int:
        return self.buy_quantity - self.sell_quantity
