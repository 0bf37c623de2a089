"""Capital protection's records: daily loss limits, each account's day P&L
readings, and what a trading halt did (one row per action and target)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LossLimit(models.Model):
    """A daily loss limit (and optional profit target) over one account, or over the
    sum of all the user's accounts (account empty). Re-armed every trading day."""

    class LossKind(models.TextChoices):
        RUPEES = "rupees", "₹ (amount)"
        PERCENT = "percent", "% of start-of-day capital"

    class Escalation(models.IntegerChoices):
        BLOCK = 1, "Block new entries"
        CANCEL = 2, "Block new entries + cancel open and queued entries"
        SQUARE_OFF = 3, "… + square off intraday positions"
        PAUSE = 4, "… + pause AUTO strategies"

    class UnknownPnl(models.TextChoices):
        HALT = "halt", "Halt (as if the limit were reached)"
        WARN = "warn", "Warn only (keep trading)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loss_limits"
    )
    account = models.ForeignKey(
        "brokers.BrokerAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="loss_limits",
    )
    enabled = models.BooleanField(default=True)
    loss_kind = models.CharField(max_length=8, choices=LossKind.choices, default=LossKind.RUPEES)
    max_loss = models.DecimalField(
        null=True,
        blank=True,
        help_text="₹, or % of start-of-day capital.",
        max_digits=18,
        decimal_places=2,
    )
    profit_target = models.DecimalField(
        null=True, blank=True, help_text="₹.", max_digits=18, decimal_places=2
    )
    include_holdings = models.BooleanField(
        default=False, help_text="Count holdings' day change in the day P&L."
    )
    escalation = models.PositiveSmallIntegerField(
        choices=Escalation.choices, default=Escalation.CANCEL
    )
    unknown_pnl = models.CharField(
        max_length=4, choices=UnknownPnl.choices, default=UnknownPnl.HALT
    )
    webhook_policy = models.CharField(
        max_length=6,
        choices=[("queue", "Queue them as MANUAL"), ("refuse", "Refuse them")],
        default="queue",
        help_text="AUTO alerts during a halt.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"],
                condition=models.Q(account__isnull=False),
                name="one_loss_limit_per_account",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(account__isnull=True),
                name="one_all_accounts_loss_limit",
            ),
        ]

    def __str__(self):
        return f"Loss limit of {self.user} ({self.account or 'all accounts'})"

    @property
    def is_active(self) -> bool:
        return self.enabled and (self.max_loss is not None or self.profit_target is not None)


class DayReading(models.Model):
    """One account's day P&L, as last read (realised + unrealised of its positions,
    optionally holdings' day change), and its start-of-day capital."""

    account = models.ForeignKey(
        "brokers.BrokerAccount", on_delete=models.CASCADE, related_name="day_readings"
    )
    trading_day = models.DateField()
    start_capital = models.DecimalField(null=True, blank=True, max_digits=18, decimal_places=2)
    realised = models.DecimalField(null=True, blank=True, max_digits=18, decimal_places=2)
    unrealised = models.DecimalField(null=True, blank=True, max_digits=18, decimal_places=2)
    holdings_day = models.DecimalField(null=True, blank=True, max_digits=18, decimal_places=2)
    # Empty: unknown (the reason is in `error`). Never zero for unknown.
    pnl = models.DecimalField(null=True, blank=True, max_digits=18, decimal_places=2)
    read_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "trading_day"], name="one_reading_per_day")
        ]

    def __str__(self):
        return f"Day P&L {self.account_id} {self.trading_day}: {self.pnl}"


class HaltAction(models.Model):
    """One thing a halt does to one target (an order to cancel, a position to square
    off, a strategy to pause), done at most once: the unique row is the claim."""

    class Kind(models.TextChoices):
        BLOCK = "block", "Block new entries"
        CANCEL = "cancel", "Cancel an entry"
        SQUARE_OFF = "square_off", "Square off a position"
        PAUSE = "pause", "Pause an AUTO strategy"
        # The kill switch pressed while a halt was already in force: recorded (who, when,
        # what it did now), never run.
        PRESS = "press", "Kill switch pressed"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed — will retry"
        GAVE_UP = "gave_up", "Failed — gave up"

    halt = models.ForeignKey("orders.TradingHalt", on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    target = models.CharField(max_length=120, help_text="order:12, position:<account>:NSE:SBIN:MIS")
    label = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    result = models.TextField(blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["halt", "kind", "target"], name="halt_action_once")
        ]

    def __str__(self):
        return f"{self.kind} {self.target}: {self.state}"
