"""From a record some app wrote to the notification it means (or none).

Truth, not intent: an order message comes from an `OrderEvent` whose status
transition the broker's answer (or sync) caused, never from a placement; a
placement's own transition (SENDING, SENT) notifies nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import timezone

from orders.models import Order, OrderEvent, WebhookAlert
from sigmatrader.formatting import inr, inr_number
from sigmatrader.models import SystemEvent

from .kinds import PROTECTION_KINDS, Kind

Status = Order.Status
PROBLEMS = {Status.REJECTED, Status.FAILED, Status.UNKNOWN}
# A delivery failure is recorded as an event: it must never notify itself.
DELIVERY_MARK = "notification_delivery"


@dataclass(frozen=True)
class Cause:
    kind: str
    user_id: int
    title: str
    body: str
    key: str  # unique per cause; the outbox adds the channel


def mask_id(value: str) -> str:
    """ "DM1234" -> "DM••34": enough to tell accounts apart, not to name one."""
    value = str(value or "")
    if len(value) <= 4:
        return "•" * len(value)
    return f"{value[:2]}{'•' * (len(value) - 4)}{value[-2:]}"


def ist(moment) -> str:
    return f"{timezone.localtime(moment):%d %b %H:%M:%S} IST"


def _account_words(order: Order) -> tuple[str, bool]:
    """(how the message names the account, whether it is a paper account)."""
    account = order.account
    if account is None:
        return order.account_name, False
    try:
        paper = bool(account.adapter_class.capabilities.resettable)
    except Exception:  # an unregistered broker still gets its message
        paper = False
    name = account.display_name
    if account.broker_user_id:
        name += f" ({mask_id(account.broker_user_id)})"
    return name, paper


def _order_line(order: Order) -> str:
    symbol = (
        order.instrument.trading_symbol
        if order.instrument_id and order.instrument
        else order.symbol
    )
    line = f"#{order.pk} {order.side} {inr_number(order.quantity)} {symbol}"
    if order.protects_id:  # a stop-loss or target leg: say whose
        line += f" (protective exit of #{order.protects_id})"
    return line


# Transitions that may notify; anything else is settled without a query.
NOTIFYING = {Status.EXECUTED, Status.PARTIALLY_FILLED, *PROBLEMS, Status.TRIGGERED}


def may_notify(event: OrderEvent) -> bool:
    """Cheap first look (no query): could this order event notify at all?"""
    if event.kind == OrderEvent.Kind.RISK:
        return not (event.details or {}).get("allowed", True)
    to = event.to_status
    if not to or to == event.from_status:
        return False
    return to in NOTIFYING or (
        event.from_status == Status.ARMED and to not in (Status.CANCELLED, Status.EXPIRED)
    )


def from_order_event(event: OrderEvent) -> Cause | None:
    if not may_notify(event):
        return None
    order = event.order
    to = event.to_status
    if to == Status.FAILED and event.kind != OrderEvent.Kind.RISK and _blocked_by_risk(event):
        return None  # the risk block said it, with the same reason
    account, paper = _account_words(order)
    label = "[PAPER] " if paper else ""
    what = f"{_order_line(order)} · {account}"
    when = ist(event.at)
    if event.kind == OrderEvent.Kind.RISK:
        return Cause(
            Kind.RISK_BLOCK,
            order.user_id,
            f"{label}Risk block",
            f"{what}: {event.message} ({when})",
            f"oe{event.pk}",
        )
    price = f" @ {inr(order.average_price)}" if order.average_price else ""
    if to == Status.EXECUTED:
        title, kind = f"{label}Order executed", Kind.ORDER_EXECUTED
        body = (
            f"{_order_line(order)}: {inr_number(order.filled_quantity or order.quantity)}{price} "
            f"· {account} ({when})"
        )
    elif to == Status.PARTIALLY_FILLED:
        title, kind = f"{label}Order partly filled", Kind.ORDER_PARTIAL
        body = (
            f"{what}: {inr_number(order.filled_quantity)} of {inr_number(order.quantity)} "
            f"filled{price} ({when})"
        )
    elif to in PROBLEMS:
        reason = order.status_message or event.message or "no reason given by the broker"
        if to == Status.UNKNOWN:
            title = f"{label}Order outcome unknown"
            reason += " The broker may have it: reconciling, never resent."
        else:
            title = f"{label}Order {'rejected' if to == Status.REJECTED else 'failed'}"
        body, kind = f"{what}: {reason} ({when})", Kind.ORDER_PROBLEM
    else:  # a GTT's trigger (managed: TRIGGERED; native: ARMED → sent at the broker)
        what_fired = "Protective exit" if order.protects_id else "GTT"
        title, kind = f"{label}{what_fired} triggered", Kind.GTT_TRIGGERED
        body = f"{what}: {event.message} ({when})"
    return Cause(kind, order.user_id, title, body, f"oe{event.pk}")


def _blocked_by_risk(event: OrderEvent) -> bool:
    return OrderEvent.objects.filter(
        order_id=event.order_id,
        kind=OrderEvent.Kind.RISK,
        message=event.message,
        details__allowed=False,
    ).exists()


_SESSION = re.compile(r"session expired|daily login", re.IGNORECASE)
_PROTECTION_WORDS = (
    ("kill switch", Kind.HALT),
    ("halt", Kind.HALT),
    ("protective exit", Kind.GTT_TRIGGERED),
)


def system_kind(event: SystemEvent) -> str | None:
    """The kind a SystemEvent notifies as (None: it does not notify)."""
    details = event.details or {}
    if details.get(DELIVERY_MARK):
        return None
    named = str(details.get("notify") or details.get("kind") or "")
    if named in PROTECTION_KINDS:
        return PROTECTION_KINDS[named]
    if named in Kind.values and named != Kind.TEST:
        return named
    # Capital protection (issue 18) as it records itself: a halt's start, its kill
    # switch, its actions and its release carry the halt's id; an entry whose
    # protective exits could not be armed carries its exit plan's.
    if details.get("halt_id"):
        return Kind.HALT
    if details.get("exit_plan"):
        return Kind.ORDER_PROBLEM
    text = event.message.lower()
    if event.category == "protection":
        for words, kind in _PROTECTION_WORDS:
            if words in text:
                return kind
        return None
    if event.category == SystemEvent.Category.ALERT:
        return Kind.ALERT_FIRED
    if event.category == SystemEvent.Category.BROKER and _SESSION.search(event.message):
        return Kind.SESSION
    if (
        event.category == SystemEvent.Category.MARKETDATA
        and event.level in (SystemEvent.Level.ERROR, SystemEvent.Level.CRITICAL)
        and "refresh failed" in text
    ):
        return Kind.INSTRUMENTS_FAILED
    return None


SYSTEM_TITLES = {
    Kind.ALERT_FIRED: "Alert fired",
    Kind.SESSION: "Broker session",
    Kind.INSTRUMENTS_FAILED: "Instrument refresh failed",
    Kind.HALT: "Trading halt",
    Kind.GTT_TRIGGERED: "Protective exit triggered",
    Kind.RISK_BLOCK: "Risk block",
    Kind.ORDER_PROBLEM: "Order not protected",
    Kind.WEBHOOK_REFUSED: "Webhook delivery refused",
}


def recipients_of_system_event(event: SystemEvent) -> list[int]:
    """The event's user; for a deployment-wide event (an instrument master), every
    user with an account of that broker."""
    if event.user_id:
        return [event.user_id]
    broker = (event.details or {}).get("broker")
    if not broker:
        return []
    from brokers.models import BrokerAccount

    return sorted(
        set(BrokerAccount.objects.filter(broker=broker).values_list("user_id", flat=True))
    )


def from_system_event(event: SystemEvent) -> list[Cause]:
    kind = system_kind(event)
    if kind is None:
        return []
    title = SYSTEM_TITLES.get(kind, Kind(kind).label)
    body = f"{event.message} ({ist(event.created_at)})"
    return [
        Cause(kind, user_id, title, body, f"se{event.pk}")
        for user_id in recipients_of_system_event(event)
    ]


def from_webhook_alert(alert: WebhookAlert) -> Cause | None:
    if alert.outcome != WebhookAlert.Outcome.REJECTED or not alert.user_id:
        return None
    reason = alert.reason or f"HTTP {alert.http_status}"
    return Cause(
        Kind.WEBHOOK_REFUSED,
        alert.user_id,
        "Webhook delivery refused",
        f"A TradingView alert was refused: {reason} ({ist(alert.received_at)})",
        f"wa{alert.pk}",
    )
