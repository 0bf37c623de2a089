"""Alert rules, their per-symbol state, the events they fire, screener runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 16, "decimal_places": 4}


def plain_number(value: Decimal | None) -> str:
    """A stored number as the trader typed it: 1, 2.5, 10000 (never "1.0000")."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def values_text(values: dict) -> str:
    """ "close = 640 · rsi(close, 14) = 28.1": what made a rule fire, in words."""
    return " · ".join(
        f"{name} = {value:g}" if isinstance(value, float) else f"{name} = {value}"
        for name, value in values.items()
    )


class AlertRule(models.Model):
    class Target(models.TextChoices):
        SYMBOL = "symbol", "One symbol"
        HOLDINGS = "holdings", "Holdings"
        WATCHLIST = "watchlist", "A watchlist"

    class Cadence(models.TextChoices):
        TICK = "tick", "Every price update"
        M1 = "1m", "Each 1-minute bar close"
        M5 = "5m", "Each 5-minute bar close"
        M15 = "15m", "Each 15-minute bar close"
        H1 = "1h", "Each hourly bar close"
        D1 = "1d", "Each daily bar close"

    class Trigger(models.TextChoices):
        ONCE = "once", "Once, then stop"
        ONCE_PER_BAR = "bar", "Once per bar"
        EVERY_TIME = "every", "Every time (with a cooldown)"

    class Action(models.TextChoices):
        NOTIFY = "notify", "Notify only"
        QUEUE = "queue", "Queue an order for review"
        AUTO = "auto", "Send the order (AUTO)"

    class Sizing(models.TextChoices):
        QUANTITY = "qty", "Quantity"
        AMOUNT = "amount", "₹ amount"
        HOLDING_PCT = "pct", "% of the holding"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(max_length=80)
    enabled = models.BooleanField(default=True)
    # Target
    target = models.CharField(max_length=10, choices=Target.choices, default=Target.SYMBOL)
    symbol = models.CharField(max_length=64, blank=True, help_text="EXCHANGE:SYMBOL, e.g. NSE:SBIN")
    holdings_account = models.ForeignKey(
        "brokers.BrokerAccount",
        null=True,
        blank=True,
        # Never CASCADE: removing an account must not delete a trader's rules silently;
        # alerts/signals.py disables them first and says why.
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Holdings target: this account's holdings; empty for all accounts'.",
    )
    watchlist_id = models.PositiveIntegerField(null=True, blank=True)
    # Condition: the builder's clauses (when built with the form) and the expression
    # they compile to; the expression is what runs.
    builder = models.JSONField(default=dict, blank=True)
    expression = models.TextField()
    cadence = models.CharField(max_length=4, choices=Cadence.choices, default=Cadence.TICK)
    trigger = models.CharField(max_length=6, choices=Trigger.choices, default=Trigger.ONCE)
    cooldown_seconds = models.PositiveIntegerField(default=300)
    market_hours_only = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Action
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.NOTIFY)
    action_account = models.ForeignKey(
        "brokers.BrokerAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The account an order action trades on.",
    )
    side = models.CharField(max_length=4, blank=True)  # BUY / SELL
    sizing = models.CharField(max_length=6, choices=Sizing.choices, default=Sizing.QUANTITY)
    size = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    product = models.CharField(max_length=4, default="CNC")
    # Status
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    fired_count = models.PositiveIntegerField(default=0)
    status_ok = models.BooleanField(default=True)
    status_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["enabled", "cadence"], name="alertrule_enabled_cadence")]

    def __str__(self):
        return f"{self.name} ({self.user})"

    @property
    def has_order(self) -> bool:
        return self.action in (self.Action.QUEUE, self.Action.AUTO)

    def expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def when_text(self) -> str:
        """Short, for the list: "Each tick · once per bar · market hours"."""
        cadence = "Each tick" if self.cadence == self.Cadence.TICK else f"{self.cadence} close"
        if self.trigger == self.Trigger.ONCE:
            trigger = "once" if self.target == self.Target.SYMBOL else "once per symbol"
        elif self.trigger == self.Trigger.ONCE_PER_BAR:
            trigger = "once per bar"
        else:
            minutes = self.cooldown_seconds // 60
            trigger = f"every time, {minutes} min cooldown" if minutes else "every time"
        hours = " · market hours" if self.market_hours_only else ""
        return f"{cadence} · {trigger}{hours}"

    @property
    def size_text(self) -> str:
        """The order size as entered: "5", "₹10,000", "50 %"."""
        from sigmatrader.formatting import inr_number

        if self.size is None:
            return ""
        plain = plain_number(self.size)
        if self.sizing == self.Sizing.AMOUNT:
            return f"₹{inr_number(self.size, 2 if '.' in plain else 0)}"
        if self.sizing == self.Sizing.HOLDING_PCT:
            return f"{plain} %"
        return plain

    @property
    def target_text(self) -> str:
        if self.target == self.Target.SYMBOL:
            return self.symbol
        if self.target == self.Target.HOLDINGS:
            account = self.holdings_account
            if account is None and self.has_order and self.action_account is not None:
                account = self.action_account  # an order acts on the account holding the shares
            if account is not None:
                return f"Holdings of {account.display_name}"
            return "Holdings of all accounts"
        name = getattr(self, "watchlist_name", None)
        if name is None and self.watchlist_id and not hasattr(self, "watchlist_name"):
            from watchlists.models import Watchlist

            name = (
                Watchlist.objects.filter(pk=self.watchlist_id, user_id=self.user_id)
                .values_list("name", flat=True)
                .first()
            )
        return f"Watchlist {name}" if name else "A watchlist that no longer exists"


class AlertState(models.Model):
    """Per rule and symbol (and holding account): the crossings' last operands, the
    bar last evaluated and the last firing (the atomic claim is on this row)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    key = models.CharField(max_length=100)  # NSE:SBIN, or NSE:SBIN@<account id>
    previous = models.JSONField(default=dict, blank=True)
    last_bar_at = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_fired_bar = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="alertstate_rule_key")]

    def __str__(self):
        return f"{self.rule_id} {self.key}"


class AlertEvent(models.Model):
    """One firing: what it saw and what it did."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_events"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    symbol = models.CharField(max_length=64)
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    values = models.JSONField(default=dict, blank=True)
    message = models.TextField()
    outcome = models.TextField(blank=True)  # what the action did (order #, or why none)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seen = models.BooleanField(default=False)
    # An AUTO order handed to a worker: the sweeper (alerts/recovery.py) hands it again
    # if the worker was lost before sending it.
    auto_send = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["user", "-at"], name="alertevent_user_recent"),
            models.Index(fields=["rule", "-at"], name="alertevent_rule_recent"),
        ]

    def __str__(self):
        return f"{self.rule_id} {self.symbol} {self.at:%Y-%m-%d %H:%M}"

    @property
    def values_text(self) -> str:
        return values_text(self.values) if isinstance(self.values, dict) else ""


class ScreenerRun(models.Model):
    class Universe(models.TextChoices):
        HOLDINGS = "holdings", "Holdings"
        SEGMENT = "segment", "An exchange segment"
        WATCHLIST = "watchlist", "Watchlists"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screener_runs"
    )
    universe = models.CharField(max_length=10, choices=Universe.choices)
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    segment = models.CharField(max_length=10, blank=True)  # NSE, BSE...
    watchlist_ids = models.JSONField(default=list, blank=True)
    expression = models.TextField()
    interval = models.CharField(max_length=4, default="1d")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Symbols skipped because no daily candles are stored; a fetch of them on request.
    no_candles = models.PositiveIntegerField(default=0)
    fetch_status = models.CharField(max_length=8, blank=True)  # "", queued, running, done
    fetch_total = models.PositiveIntegerField(default=0)
    fetch_done = models.PositiveIntegerField(default=0)
    fetch_message = models.CharField(max_length=500, blank=True)
    fetch_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Screener {self.pk} {self.status}"

    STALLED_AFTER = timedelta(minutes=15)

    @property
    def stalled(self) -> bool:
        """Queued or running for longer than any run takes: its worker was lost."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING) and (
            timezone.now() - self.created_at > self.STALLED_AFTER
        )

    @property
    def progress_pct(self) -> int:
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def evaluated(self) -> int:
        """Symbols the condition was evaluated on (the rest were skipped)."""
        return max(0, self.done - self.skipped)

    @property
    def fetching(self) -> bool:
        """A candle fetch under way (one whose worker was lost stops counting after
        an hour: the page stops polling and offers the fetch again)."""
        started = self.fetch_started_at or self.created_at
        return self.fetch_status in ("queued", "running") and (
            timezone.now() - started <= self.STALLED_AFTER * 4
        )
