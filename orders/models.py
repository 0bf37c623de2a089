import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from sigmatrader.formatting import human_seconds

from .exit_plans import parse_plan

TAG_PREFIX = "ST"


def new_client_tag() -> str:
    """Unique per order, sent to the broker so sync can find a lost order.

    Short and plain enough for every registered broker's order tag (at most 20
    alphanumeric characters).
    """
    return TAG_PREFIX + secrets.token_hex(8).upper()  # 18 characters


# An order keeps its history when its account is deleted (account set to NULL).
ACCOUNT_GONE = "The order's account no longer exists."


class Order(models.Model):
    class Status(models.TextChoices):
        WAITING = "WAITING", "Waiting"
        SENDING = "SENDING", "Sending"
        SENT = "SENT", "Sent"
        OPEN = "OPEN", "Open"
        PARTIALLY_FILLED = "PARTIALLY_FILLED", "Partially filled"
        EXECUTED = "EXECUTED", "Executed"
        CANCELLED = "CANCELLED", "Cancelled"
        REJECTED = "REJECTED", "Rejected"
        FAILED = "FAILED", "Failed"
        UNKNOWN = "UNKNOWN", "Unknown — reconciling"
        ARMED = "ARMED", "Armed"
        TRIGGERED = "TRIGGERED", "Triggered"
        EXPIRED = "EXPIRED", "Expired"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        TRADINGVIEW = "tradingview", "TradingView"
        HOLDINGS = "holdings", "Holdings"
        CONDITIONAL = "conditional", "Conditional"
        ALERT = "alert", "Alert rule"
        BASKET = "basket", "Basket"
        PROTECTION = "protection", "Protective exit"

    class Side(models.TextChoices):
        BUY = "BUY", "Buy"
        SELL = "SELL", "Sell"

    class OrderType(models.TextChoices):
        MARKET = "MARKET", "Market"
        LIMIT = "LIMIT", "Limit"
        SL = "SL", "Stop-loss limit"
        SL_M = "SL-M", "Stop-loss market"

    class Product(models.TextChoices):
        CNC = "CNC", "CNC (delivery)"
        MIS = "MIS", "MIS (intraday)"
        NRML = "NRML", "NRML (carry forward)"

    class Validity(models.TextChoices):
        DAY = "DAY", "Day"
        IOC = "IOC", "IOC"

    class Variety(models.TextChoices):
        REGULAR = "REGULAR", "Regular"
        AMO = "AMO", "After-market (AMO)"

    class Condition(models.TextChoices):
        LTP_AT_OR_ABOVE = "ltp_gte", "LTP at or above"
        LTP_AT_OR_BELOW = "ltp_lte", "LTP at or below"

    # Waiting for a decision; the execution service may claim these.
    EXECUTABLE = (Status.WAITING, Status.FAILED)
    # At the broker (or maybe): the sync follows these.
    LIVE = (Status.SENDING, Status.SENT, Status.OPEN, Status.PARTIALLY_FILLED, Status.UNKNOWN)
    FINAL = (Status.EXECUTED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    # History outlives an account: keep the order, remember what it was called.
    account = models.ForeignKey(
        "brokers.BrokerAccount", null=True, on_delete=models.SET_NULL, related_name="orders"
    )
    account_name = models.CharField(max_length=120)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    strategy = models.ForeignKey(
        "orders.Strategy", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    instrument = models.ForeignKey(
        "marketdata.Instrument", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    symbol = models.CharField(max_length=64, help_text="As entered or received.")
    exchange = models.CharField(max_length=10, blank=True)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.PositiveIntegerField()
    order_type = models.CharField(max_length=6, choices=OrderType.choices, default=OrderType.MARKET)
    product = models.CharField(max_length=4, choices=Product.choices, default=Product.CNC)
    price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    trigger_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    validity = models.CharField(max_length=3, choices=Validity.choices, default=Validity.DAY)
    # Shown to the market (0: all of it), where the account's broker takes one.
    disclosed_quantity = models.PositiveIntegerField(default=0)
    variety = models.CharField(max_length=8, choices=Variety.choices, default=Variety.REGULAR)
    is_gtt = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    broker_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    client_tag = models.CharField(max_length=20, unique=True, default=new_client_tag)
    filled_quantity = models.PositiveIntegerField(default=0)
    average_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    status_message = models.TextField(blank=True)
    risk_note = models.TextField(blank=True)
    # Conditional (GTT) orders: native at the broker (gtt_id) or managed here.
    condition = models.CharField(max_length=8, choices=Condition.choices, blank=True)
    trigger_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    oco_sibling = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    gtt_id = models.CharField(max_length=64, blank=True)
    # A protective exit (stop-loss / target leg) of this entry (its ExitPlan).
    protects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="exit_legs"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "status", "-created_at"], name="order_user_status"),
            models.Index(fields=["account", "status"], name="order_account_status"),
            # The Orders page (newest first, paged) and its filters, and one account's queue:
            # without these a user's every order is read and sorted for each page.
            models.Index(fields=["user", "-created_at", "-id"], name="order_user_recent"),
            models.Index(fields=["user", "source", "-created_at"], name="order_user_source"),
            models.Index(fields=["account", "-created_at"], name="order_account_recent"),
            models.Index(
                fields=["user", "account", "status", "created_at"], name="order_account_queue"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.side} {self.quantity} {self.symbol} [{self.status}]"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EXECUTABLE

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def exit_role(self) -> str:
        """A protective exit leg's role: "Stop" or "Target" ("" for any other order). A
        SELL leg protects a long, whose stop fires at or below its level; a BUY leg a short."""
        if not self.protects_id or not self.condition:
            return ""
        below = self.condition == self.Condition.LTP_AT_OR_BELOW
        return "Stop" if below == (self.side == self.Side.SELL) else "Target"


class ExitPlan(models.Model):
    """What protects an entry once it fills: stop-loss, target, trailing stop.

    The four parts are stored as typed (orders/exit_plans.py parses them: a price,
    "2%" or "15pts"); the levels are fixed from the average fill price when the
    legs are armed. `protection/` owns the life cycle and writes the state below;
    the legs are ordinary GTT orders with `protects` = the entry.
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the fill"
        ACTIVE = "active", "Protecting"
        DONE = "done", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    class Mode(models.TextChoices):
        NATIVE = "native", "Held at the broker"
        MANAGED = "managed", "Managed by SigmaTrader (needs the app running)"

    OPEN_STATES = (State.WAITING, State.ACTIVE)

    entry = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="exit_plan")
    stop_loss = models.CharField(max_length=24, blank=True)
    target = models.CharField(max_length=24, blank=True)
    trailing_stop = models.CharField(max_length=24, blank=True)
    trail_activation = models.CharField(max_length=24, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.WAITING, db_index=True
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, blank=True)
    # The quantity claimed for exit legs so far (armed, or being armed): the claim.
    protected_quantity = models.PositiveIntegerField(default=0)
    # When that quantity last grew: portfolio data read before it is not trusted.
    armed_at = models.DateTimeField(null=True, blank=True)
    fill_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    stop_level = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    target_level = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # The best price since the fill (highest for a long, lowest for a short): the trail.
    best_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    note = models.TextField(blank=True)
    retries = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Exit plan of #{self.entry_id} [{self.state}]"

    @property
    def plan(self):
        return parse_plan(
            stop_loss=self.stop_loss,
            target=self.target,
            trailing_stop=self.trailing_stop,
            trail_activation=self.trail_activation,
        )

    @property
    def summary(self) -> str:
        plan = self.plan
        return plan.summary if plan else ""


class OrderEvent(models.Model):
    """One line of an order's history: status changes, risk decisions, broker answers."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        STATUS = "status", "Status"
        RISK = "risk", "Risk"
        BROKER = "broker", "Broker"
        SYNC = "sync", "Sync"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.CharField(max_length=60, help_text="A username, or system / sync / webhook.")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.kind} {self.message[:60]}"


class RiskPolicy(models.Model):
    """A user's limits. Empty fields mean no limit."""

    class Mode(models.TextChoices):
        REJECT = "reject", "Reject the order"
        CLAMP = "clamp", "Reduce the quantity to fit"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="risk_policies"
    )
    # Set: this policy overrides the user's own for the strategy's orders.
    strategy = models.OneToOneField(
        "orders.Strategy",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="risk_override",
    )
    max_order_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    max_quantity = models.PositiveIntegerField(null=True, blank=True)
    max_orders_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_open_positions = models.PositiveIntegerField(null=True, blank=True)
    allow_short_selling = models.BooleanField(default=False)
    allowed_symbols = models.TextField(blank=True, help_text="One per line; empty: all.")
    denied_symbols = models.TextField(blank=True, help_text="One per line.")
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.REJECT)

    class Meta:
        verbose_name_plural = "risk policies"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(strategy__isnull=True),
                name="one_user_risk_policy",
            )
        ]

    def __str__(self):
        if self.strategy_id:
            return f"Risk override for strategy {self.strategy}"
        return f"Risk policy of {self.user}"

    @staticmethod
    def symbols(text: str) -> set[str]:
        return {
            line.strip().upper() for line in text.replace(",", "\n").splitlines() if line.strip()
        }


def default_dedup_window() -> int:
    return settings.WEBHOOK_DEDUP_WINDOW_SECONDS


def default_unkeyed_dedup_window() -> int:
    return settings.WEBHOOK_DEDUP_UNKEYED_WINDOW_SECONDS


class Strategy(models.Model):
    """Where a TradingView alert goes: bound to an account, or to the user's default."""

    class Mode(models.TextChoices):
        AUTO = "AUTO", "AUTO — send at once"
        MANUAL = "MANUAL", "MANUAL — wait in the queue"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strategies"
    )
    name = models.CharField(max_length=80)
    account = models.ForeignKey(
        "brokers.BrokerAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="strategies",
        help_text="Empty: my default account at the time of the alert.",
    )
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.MANUAL)
    enabled = models.BooleanField(default=True)
    default_product = models.CharField(
        max_length=4, choices=Order.Product.choices, default=Order.Product.CNC
    )
    default_order_type = models.CharField(
        max_length=6, choices=Order.OrderType.choices, default=Order.OrderType.MARKET
    )
    default_quantity = models.PositiveIntegerField(default=1)
    # Exit plan for every entry of this strategy unless the alert names its own
    # (orders/exit_plans.py: a price, "2%" or "15pts").
    default_stop_loss = models.CharField("Stop-loss", max_length=24, blank=True)
    default_target = models.CharField("Target", max_length=24, blank=True)
    default_trailing_stop = models.CharField("Trailing stop", max_length=24, blank=True)
    default_trail_activation = models.CharField("Trail from", max_length=24, blank=True)
    # Duplicate alerts (webhook redelivery). The key is shown with every duplicate.
    dedup_window_seconds = models.PositiveIntegerField(
        "Duplicate window with an id (s)",
        default=default_dedup_window,
        help_text=(
            "Same alert_id (or bar_time) and same order within this many seconds: "
            "a duplicate, no order. 0: never."
        ),
    )
    dedup_unkeyed_window_seconds = models.PositiveIntegerField(
        "Duplicate window without ids (s)",
        default=default_unkeyed_dedup_window,
        help_text=(
            "No alert_id or bar_time: the same order within this many seconds is a "
            "duplicate. Keep it short. 0: never."
        ),
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="strategy_name_unique_per_user")
        ]

    def __str__(self):
        return self.name

    @property
    def dedup_summary(self) -> str:
        def one(seconds, which):
            return f"{human_seconds(seconds)} {which}" if seconds else f"never {which}"

        return (
            f"{one(self.dedup_window_seconds, 'with alert_id/bar_time')} · "
            f"{one(self.dedup_unkeyed_window_seconds, 'without')}"
        )


class WebhookEndpoint(models.Model):
    """A user's TradingView webhook: the token is stored hashed and shown once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=8, help_text="The token's last characters.")
    secret_hash = models.CharField(
        max_length=64, blank=True, help_text="Optional body `secret`, stored hashed."
    )
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Webhook of {self.user} (…{self.token_hint})"


class WebhookAlert(models.Model):
    """Every delivery to a webhook URL, whatever became of it."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_alerts",
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    raw_body = models.TextField(blank=True)
    parsed = models.JSONField(default=dict, blank=True)
    strategy = models.ForeignKey(Strategy, null=True, blank=True, on_delete=models.SET_NULL)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["user", "-received_at"], name="alert_user_recent")]

    def __str__(self):
        return f"Alert {self.pk} {self.outcome} {self.http_status}"

    SHOWN_FIELDS = ("strategy_name", "symbol", "action", "quantity")

    @property
    def shown(self) -> dict:
        """What the Alerts page shows of `parsed`, whatever shape was stored: a
        rejected body stores {}, and a JSON column can hold a list or a string."""
        data = self.parsed if isinstance(self.parsed, dict) else {}
        if not data and self.raw_body:
            # A refused body (400/422) stores nothing parsed: show what the body named.
            import json

            try:
                body = json.loads(self.raw_body)
            except ValueError:
                body = None
            data = body if isinstance(body, dict) else {}
        shown = {}
        for name in self.SHOWN_FIELDS:
            value = data.get(name)
            scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
            if isinstance(value, str):
                try:  # a body may carry a lone surrogate ("\ud800"): not shown
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    scalar = False
                value = value[:80]
            shown[name] = value if scalar else ""
        return shown


class AlertClaim(models.Model):
    """One row per (user, strategy, alert key): the unique constraint is the dedup.

    A claim older than the dedup window may be taken over by a new alert with
    the same key (a conditional UPDATE, so concurrent deliveries still get one).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    alert = models.ForeignKey(WebhookAlert, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "strategy", "key"], name="alert_claim_unique")
        ]

    def __str__(self):
        return f"Claim {self.key[:12]} by alert {self.alert_id}"


class TradingHalt(models.Model):
    """Trading stopped for one account, or for all of a user's accounts, for one
    trading day (India date): a daily loss limit or profit target was reached, the
    day's P&L could not be known, or the trader pressed the kill switch.

    While a halt is in force, new entries are refused inside the execution claim
    (orders/halts.py says what an entry is); exits still go. It ends by itself on
    the next trading day (`trading_day` is no longer today), or when the trader
    releases it with a typed confirmation (`released_at`, `released_by`). What
    the halt did (cancels, square-offs, paused strategies) is recorded, one row
    per action, by `protection` (protection.models.HaltAction).
    """

    class Reason(models.TextChoices):
        LOSS_LIMIT = "loss_limit", "Daily loss limit reached"
        PROFIT_TARGET = "profit_target", "Daily profit target reached"
        UNKNOWN_PNL = "unknown_pnl", "Day P&L unknown"
        KILL_SWITCH = "kill_switch", "Kill switch"

    class WebhookPolicy(models.TextChoices):
        QUEUE = "queue", "Queue AUTO alerts as MANUAL (with the reason)"
        REFUSE = "refuse", "Refuse AUTO alerts"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trading_halts"
    )
    # Empty: every account of the user.
    account = models.ForeignKey(
        "brokers.BrokerAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="trading_halts",
    )
    account_name = models.CharField(max_length=120, blank=True)
    trading_day = models.DateField(db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    message = models.TextField(blank=True)
    # The figures behind the decision (P&L, limit, start-of-day capital…), as text.
    figures = models.JSONField(default=dict, blank=True)
    # What an AUTO alert meets while the halt is in force.
    webhook_policy = models.CharField(
        max_length=6, choices=WebhookPolicy.choices, default=WebhookPolicy.QUEUE
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=60, help_text="A username, or system.")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one halt in force per scope and day: a trip (or two presses of the
            # kill switch) racing another finds the first one instead of a second.
            models.UniqueConstraint(
                fields=["user", "account", "trading_day"],
                condition=models.Q(released_at__isnull=True, account__isnull=False),
                name="one_account_halt_per_day",
            ),
            models.UniqueConstraint(
                fields=["user", "trading_day"],
                condition=models.Q(released_at__isnull=True, account__isnull=True),
                name="one_all_accounts_halt_per_day",
            ),
        ]

    def __str__(self):
        return f"Halt {self.scope_name} {self.trading_day} ({self.reason})"

    @property
    def scope_name(self) -> str:
        return self.account_name if self.account_id else "All accounts"

    @property
    def is_released(self) -> bool:
        return self.released_at is not None
