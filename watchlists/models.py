"""Watchlists and baskets: lists of symbols that belong to a user, not to a broker.

A member is an exchange and the exchange-level (canonical) symbol a trader uses
(`NSE`, `BAJAJ-AUTO`); which broker instrument it means is decided at use time,
for the account that will trade it (`selectors.list_instruments`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

MAX_MEMBERS = 2000


class Watchlist(models.Model):
    class Kind(models.TextChoices):
        WATCHLIST = "WATCHLIST", "Watchlist"
        BASKET = "BASKET", "Basket"

    class Mode(models.TextChoices):
        EQUAL = "EQUAL", "Equal ₹ per member"
        WEIGHT = "WEIGHT", "By weight %"
        AMOUNT = "AMOUNT", "₹ amount per member"
        QUANTITY = "QUANTITY", "Fixed quantity"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists"
    )
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WATCHLIST)
    description = models.CharField(max_length=300, blank=True)
    # Baskets: how much to put in and how it is shared.
    funds = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.EQUAL)
    frozen_at = models.DateTimeField(
        null=True, blank=True, help_text="When the members' reference prices were frozen."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="watchlist_name_unique_per_user")
        ]
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_basket(self) -> bool:
        return self.kind == self.Kind.BASKET


class Member(models.Model):
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="members")
    exchange = models.CharField(max_length=10)
    symbol = models.CharField(max_length=64, help_text="The exchange-level symbol (SBIN).")
    section = models.CharField(max_length=80, blank=True)
    position = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    # Baskets only.
    weight = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    locked = models.BooleanField(
        default=False, help_text="A locked member keeps its quantity when funds are shared out."
    )
    reference_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "exchange", "symbol"], name="member_unique_symbol"
            )
        ]
        ordering = ["position", "pk"]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.exchange}:{self.symbol}"


class BasketRun(models.Model):
    """One buy or sell of a basket into one account: its orders form one batch."""

    class Side(models.TextChoices):
        BUY = "BUY", "Buy"
        SELL = "SELL", "Sell"

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="runs")
    account = models.ForeignKey(
        "brokers.BrokerAccount", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    account_name = models.CharField(max_length=120)
    side = models.CharField(max_length=4, choices=Side.choices)
    executed_now = models.BooleanField(default=False)
    funds = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    orders = models.ManyToManyField("orders.Order", related_name="+", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The form's one-time key: the same form sent twice (a double click, a resent POST)
    # creates one batch, never two.
    request_key = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "request_key"],
                condition=~models.Q(request_key=""),
                name="basket_run_once_per_request",
            )
        ]

    def __str__(self):
        return f"{self.get_side_display()} {self.watchlist.name} into {self.account_name}"
