import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TAG_PREFIX = "ST"


def new_client_tag() -> str:
    """Unique per order, sent to the broker so sync can find a lost order.

    Short and plain enough for every registered broker's order tag (at most 20
    alphanumeric characters).
    """
    return TAG_PREFIX + secrets.token_hex(8).upper()  # 18 characters


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
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "status", "-created_at"], name="order_user_status"),
            models.Index(fields=["account", "status"], name="order_account_status"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.side} {self.quantity} {self.symbol} [{self.status}]"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EXECUTABLE

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


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

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="risk_policy"
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

    def __str__(self):
        return f"Risk policy of {self.user}"

    @staticmethod
    def symbols(text: str) -> set[str]:
        return {
            line.strip().upper() for line in text.replace(",", "\n").splitlines() if line.strip()
        }
