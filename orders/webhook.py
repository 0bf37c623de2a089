"""TradingView webhook: validate, record, deduplicate, create, enqueue. Nothing slow.

Every delivery becomes a `WebhookAlert`. The same alert within the strategy's
duplicate window produces one order: an `AlertClaim` row with a unique
constraint decides, so concurrent re-deliveries cannot both win. "The same" is
the order's content (symbol, exchange, side, quantity, price, trigger, type,
product) plus `alert_id` if given, else `bar_time` if given; the window is the
strategy's `dedup_window_seconds` with an id, `dedup_unkeyed_window_seconds`
(short) without either; 0 turns it off. A dropped duplicate says which alert
it repeats, the key and the window. AUTO strategies execute in a Celery task
after the commit; MANUAL orders wait in the queue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from marketdata.resolution import SymbolNotFound, resolve
from sigmatrader import counters
from sigmatrader.events import record_event
from sigmatrader.formatting import human_seconds
from sigmatrader.models import SystemEvent
from sigmatrader.queueing import enqueue
from sigmatrader.redaction import mask_json_text, scrub

from . import exit_plans, halts, webhook_routes
from .execution import create_order
from .history import log
from .models import AlertClaim, Order, Strategy, TradingHalt, WebhookAlert, WebhookEndpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
Outcome = WebhookAlert.Outcome
MAX_QUANTITY = 10_000_000
MAX_PRICE = Decimal("1000000000")


class Rejection(Exception):
    """`fields`: each bad field of the body with its message (the 4xx body lists them)."""

    def __init__(self, status: int, reason: str, *, fields: dict[str, str] | None = None):
        super().__init__(reason)
        self.status, self.reason, self.fields = status, reason, fields or {}


# --- Tokens ------------------------------------------------------------------------------


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(user: User) -> str:
    """Create or rotate the user's webhook token; the plain token is returned once."""
    token = secrets.token_urlsafe(32)  # 43 characters
    endpoint = WebhookEndpoint.objects.filter(user=user).first()
    if endpoint is None:
        WebhookEndpoint.objects.create(user=user, token_hash=digest(token), token_hint=token[-4:])
    else:
        endpoint.token_hash, endpoint.token_hint = digest(token), token[-4:]
        endpoint.rotated_at = timezone.now()
        endpoint.save()
    record_event(
        category=SystemEvent.Category.SECURITY,
        user=user,
        message="TradingView webhook token " + ("rotated" if endpoint else "created"),
    )
    return token


def set_secret(user: User, secret: str) -> None:
    endpoint = WebhookEndpoint.objects.get(user=user)
    endpoint.secret_hash = digest(secret) if secret else ""
    endpoint.save(update_fields=["secret_hash"])


# --- Parsing -----------------------------------------------------------------------------------


@dataclass
class AlertData:
    strategy_name: str
    symbol: str
    action: str
    quantity: int | None
    exchange: str = ""
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    product: str = ""
    order_type: str = ""
    alert_id: str = ""
    bar_time: str = ""
    interval: str = ""
    comment: str = ""
    secret: str = ""
    # The exit plan as given (orders/exit_plans.py syntax, normalised); "" for none.
    stop_loss: str = ""
    target: str = ""
    trailing_stop: str = ""
    trail_activation: str = ""


def _text(data: dict, name: str, *, required=False, limit=64) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Rejection(400, f"Missing field: {name}.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Rejection(400, f"Field {name} must be text.")
    text = str(value).strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise Rejection(400, f"Field {name} contains control characters.")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):  # a lone surrogate: "\ud800" in JSON
        raise Rejection(400, f"Field {name} is not valid Unicode text.")
    if len(text) > limit:
        raise Rejection(400, f"Field {name} is longer than {limit} characters.")
    if required and not text:
        raise Rejection(400, f"Missing field: {name}.")
    return text


def _number(data: dict, name: str, *, limit: Decimal) -> Decimal | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Rejection(400, f"Field {name} must be a number.")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Rejection(400, f"Field {name} must be a number.") from None
    if not number.is_finite() or number < 0 or number > limit:
        raise Rejection(400, f"Field {name} is out of range.")
    return number


def _choice(data: dict, name: str, choices: set[str]) -> str:
    text = _text(data, name, limit=10).upper()
    if text and text not in choices:
        raise Rejection(400, f"Field {name} must be one of {', '.join(sorted(choices))}.")
    return text


def parse(body: bytes) -> AlertData:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejection(400, "The body is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise Rejection(400, "The body is not JSON.") from None
    if not isinstance(data, dict):
        raise Rejection(400, "The body must be a JSON object.")
    details = data.get("trade_details")
    if not isinstance(details, dict):
        raise Rejection(400, "Missing field: trade_details (an object).")
    action = _text(details, "order_action", required=True, limit=10).upper()
    if action not in ("BUY", "SELL"):
        raise Rejection(400, "Field trade_details.order_action must be buy or sell.")
    plan_texts = _exit_plan(details)
    quantity = _number(details, "quantity", limit=Decimal(MAX_QUANTITY))
    if quantity is not None and (quantity != quantity.to_integral_value() or quantity < 1):
        raise Rejection(400, "Field trade_details.quantity must be a whole number of at least 1.")
    return AlertData(
        strategy_name=_text(data, "strategy_name", required=True, limit=80),
        symbol=_text(data, "symbol", required=True),
        action=action,
        quantity=int(quantity) if quantity is not None else None,
        exchange=_text(data, "exchange", limit=10).upper(),
        price=_number(details, "price", limit=MAX_PRICE),
        trigger_price=_number(details, "trigger_price", limit=MAX_PRICE),
        product=_choice(details, "product", set(Order.Product.values)),
        order_type=_choice(details, "order_type", set(Order.OrderType.values)),
        alert_id=_text(data, "alert_id"),
        bar_time=_text(data, "bar_time"),
        interval=_text(data, "interval", limit=20),
        comment=_text(details, "comment", limit=200),
        secret=_text(data, "secret", limit=200),
        **plan_texts,
    )


def _exit_plan(details: dict) -> dict[str, str]:
    """trade_details.stop_loss / target / trailing_stop / trail_activation: a number is
    a price (a trail's: points), "2%" a percent of the fill, "15pts" points from it.
    Each part is checked alone here (every bad one at once); the plan they make with
    the strategy's defaults is checked once the strategy is known (_plan_for)."""
    texts: dict[str, str] = {}
    bad: dict[str, str] = {}
    for name in exit_plans.FIELDS:
        value = details.get(name)
        if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
            bad[name] = (
                f"Field trade_details.{name} must be {exit_plans.SYNTAX}, as text or a number."
            )
            continue
        try:
            offset = exit_plans.parse_offset(
                value, field=name, distance_only=name == "trailing_stop"
            )
        except exit_plans.ExitPlanError as exc:
            bad[name] = f"Field trade_details.{name}: {exc.message}"
            continue
        texts[name] = offset.text if offset else ""
    if not bad:
        return texts
    fields = {f"trade_details.{name}": bad[name] for name in exit_plans.FIELDS if name in bad}
    raise Rejection(400, " ".join(fields.values()), fields=fields)


# --- Receiving ---------------------------------------------------------------------------------


def _over_limit(key: str, limit: int) -> bool:
    window = int(time.time() // 60)
    try:
        return counters.hit(f"webhook:rate:{key}:{window}", 120) > limit
    except OSError:  # the counter cannot be kept: count nothing rather than answer 500
        logger.warning("webhook rate limit not counted", exc_info=True)
        return False


def _record(**fields) -> WebhookAlert:
    # PostgreSQL text cannot hold NUL: keep the body readable, never fail on it.
    raw = fields.get("raw_body", "")[: settings.WEBHOOK_STORED_BODY_CHARS]
    # The optional shared `secret` (and any other secret member) is never stored.
    fields["raw_body"] = mask_json_text(raw.replace("\x00", "\ufffd"))
    return WebhookAlert.objects.create(**fields)


# Seconds a sender is asked to wait before redelivering when the database is busy.
RETRY_AFTER_SECONDS = 5


def busy() -> tuple[int, dict]:
    return 503, {
        "error": "Busy: the alert was not recorded; send it again shortly.",
        "retry_after": RETRY_AFTER_SECONDS,
    }


def receive(*, token: str, body: bytes, ip: str | None) -> tuple[int, dict]:
    """Handle one delivery; returns (HTTP status, JSON body). Never raises.

    Either the delivery is recorded (and answered 2xx/4xx), or nothing of it was
    written and it is answered 503 (the view adds Retry-After) so the sender
    sends it again: the acceptance is one transaction, and a redelivery is
    deduplicated like any other.
    """
    try:
        return _receive(token=token, body=body, ip=ip)
    except DatabaseError:
        logger.warning("webhook delivery not recorded: database busy or unavailable", exc_info=True)
        return busy()


def _receive(*, token: str, body: bytes, ip: str | None) -> tuple[int, dict]:
    raw = body[: settings.WEBHOOK_STORED_BODY_CHARS].decode("utf-8", "replace")
    route = webhook_routes.lookup(digest(token))
    if route is None:
        if not _over_limit(f"unknown:{ip}", settings.WEBHOOK_UNKNOWN_TOKEN_RATE_PER_MINUTE):
            _record(
                user=None,
                source_ip=ip,
                raw_body=raw,
                outcome=Outcome.REJECTED,
                http_status=404,
                reason="Unknown token.",
            )
            record_event(
                category=SystemEvent.Category.SECURITY,
                level=SystemEvent.Level.WARNING,
                message="Webhook delivery with an unknown token",
                details={"ip": ip},
            )
        return 404, {"error": "Not found."}
    endpoint, user = route.endpoint, route.user
    if _over_limit(endpoint.token_hash, settings.WEBHOOK_RATE_PER_MINUTE):
        return 429, {"error": "Too many alerts; slow down."}
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        _record(
            user=user,
            source_ip=ip,
            raw_body=raw,
            outcome=Outcome.REJECTED,
            http_status=413,
            reason="Body too large.",
        )
        return 413, {"error": f"The body is larger than {settings.WEBHOOK_MAX_BODY_BYTES} bytes."}
    try:
        alert = parse(body)
        if endpoint.secret_hash and not hmac.compare_digest(
            digest(alert.secret), endpoint.secret_hash
        ):
            raise Rejection(403, "Wrong or missing secret.")
        strategy, account, instrument = _route(route, alert)
        plan, plan_note = _plan_for(alert, strategy)
    except Rejection as exc:
        parsed = {} if exc.status in (400, 403) else scrub(_parsed(alert))
        record = _record(
            user=user,
            source_ip=ip,
            raw_body=raw,
            parsed=parsed,
            outcome=Outcome.REJECTED,
            http_status=exc.status,
            reason=exc.reason,
        )
        answer = {"error": exc.reason, "alert_id": record.pk}
        if exc.fields:
            answer["fields"] = exc.fields
        return exc.status, answer
    return _accept(user, alert, strategy, account, instrument, ip, raw, plan, plan_note)


def _parsed(alert: AlertData) -> dict:
    data = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in alert.__dict__.items()}
    data.pop("secret", None)
    return data


def _route(route: webhook_routes.Route, alert: AlertData):
    strategy = route.strategy(alert.strategy_name)
    if strategy is None:
        raise Rejection(422, f"No strategy named {alert.strategy_name!r}.")
    if not strategy.enabled:
        raise Rejection(422, f"Strategy {strategy.name!r} is disabled.")
    account = strategy.account or route.default_account
    if account is None:
        raise Rejection(422, "The strategy has no account and you have no default account.")
    try:
        instrument = resolve(
            broker=account.broker, symbol=alert.symbol, exchange=alert.exchange or None
        )
    except SymbolNotFound as exc:
        raise Rejection(422, exc.message) from exc
    return strategy, account, instrument


def _halt_over(user, alert: AlertData, strategy: Strategy, account, instrument):
    """The trading halt an AUTO alert's order would meet (None: none, or an exit)."""
    if strategy.mode != Strategy.Mode.AUTO:
        return None
    halt = halts.in_force(user_id=user.pk, account_id=account.pk).order_by("pk").first()
    if halt is None:
        return None
    candidate = Order(
        user=user,
        account=account,
        instrument=instrument,
        symbol=f"{instrument.exchange}:{instrument.canonical_symbol}",
        exchange=instrument.exchange,
        side=alert.action,
        quantity=alert.quantity or strategy.default_quantity,
        product=alert.product or strategy.default_product,
    )
    return None if halts.is_exit(candidate) else halt


@dataclass(frozen=True)
class DedupKey:
    digest: str
    description: str  # what the user sees: which fields made two alerts "the same"
    window_seconds: int  # 0: never deduplicated


def dedup_key(alert: AlertData, strategy: Strategy) -> DedupKey:
    content = [
        f"{alert.exchange + ':' if alert.exchange else ''}{alert.symbol}",
        alert.action,
        f"qty {alert.quantity if alert.quantity is not None else 'default'}",
        alert.order_type or "default type",
    ]
    if alert.price is not None:
        content.append(f"price {alert.price}")
    if alert.trigger_price is not None:
        content.append(f"trigger {alert.trigger_price}")
    if alert.product:
        content.append(alert.product)
    if alert.alert_id:
        ident, window = f"alert_id {alert.alert_id}", strategy.dedup_window_seconds
    elif alert.bar_time:
        ident, window = f"bar_time {alert.bar_time}", strategy.dedup_window_seconds
    else:
        ident, window = "", strategy.dedup_unkeyed_window_seconds
    source = "|".join(
        [
            alert.alert_id,
            "" if alert.alert_id else alert.bar_time,
            alert.exchange,
            alert.symbol,
            alert.action,
            str(alert.quantity),
            str(alert.price),
            str(alert.trigger_price),
            alert.order_type,
            alert.product,
        ]
    )
    description = " · ".join(part for part in [ident, " ".join(content)] if part)
    # Shown and stored as text: a lone surrogate (JSON allows "\ud800") must not break a write.
    description = description.encode("utf-8", "backslashreplace").decode("utf-8")
    return DedupKey(digest=digest(source), description=description, window_seconds=window)


def _plan_for(alert: AlertData, strategy: Strategy) -> tuple[exit_plans.Plan | None, str]:
    """The exit plan: each part the alert gives, else the strategy's default for that
    part (as the strategy form says: blank is the default). Returns (plan, note): an
    alert that sells delivery (CNC) closes a holding and carries no plan, which the
    note says. Raises Rejection (400, naming the parts) for a plan that cannot be."""
    given = {
        name: getattr(alert, name) or getattr(strategy, f"default_{name}")
        for name in exit_plans.FIELDS
    }
    try:
        plan = exit_plans.parse_plan(**given)
        if plan is not None:
            exit_plans.check_against(plan, side=alert.action, reference=None)
    except exit_plans.ExitPlanError as exc:
        fields = {
            f"trade_details.{name}": f"Field trade_details.{name}: {message}"
            + ("" if getattr(alert, name) else " (the strategy's default)")
            for name, message in exc.errors.items()
        }
        raise Rejection(400, " ".join(fields.values()), fields=fields) from None
    product = alert.product or strategy.default_product
    try:
        exit_plans.check_entry(plan, side=alert.action, product=product)
    except exit_plans.ExitPlanError:
        # An alert is never dropped for its plan: the sale goes, and the answer says so.
        return None, (
            "The exit plan was not used: a delivery (CNC) sale closes a holding, so there "
            "is no entry to protect."
        )
    return plan, ""


def _accept(
    user,
    alert: AlertData,
    strategy: Strategy,
    account,
    instrument,
    ip,
    raw,
    plan: exit_plans.Plan | None = None,
    plan_note: str = "",
) -> tuple[int, dict]:
    halt = _halt_over(user, alert, strategy, account, instrument)
    if halt is not None and halts.webhook_policy(halt) == TradingHalt.WebhookPolicy.REFUSE:
        reason = f"{halts.refusal(halt)} AUTO alerts are refused while it lasts."
        record = _record(
            user=user,
            source_ip=ip,
            raw_body=raw,
            parsed=scrub(_parsed(alert)),
            strategy=strategy,
            outcome=Outcome.REJECTED,
            http_status=423,
            reason=reason,
        )
        return 423, {"error": reason, "alert_id": record.pk}
    dedup = dedup_key(alert, strategy)
    key = dedup.digest
    now = timezone.now()
    window = timedelta(seconds=dedup.window_seconds)
    with transaction.atomic():
        record = _record(
            user=user,
            source_ip=ip,
            raw_body=raw,
            parsed=scrub(_parsed(alert)),
            strategy=strategy,
            outcome=Outcome.ACCEPTED,
            http_status=202,
        )
        try:
            if dedup.window_seconds:  # 0: this strategy never deduplicates
                with transaction.atomic():
                    AlertClaim.objects.create(user=user, strategy=strategy, key=key, alert=record)
        except IntegrityError:
            taken = AlertClaim.objects.filter(
                user=user, strategy=strategy, key=key, claimed_at__lt=now - window
            ).update(alert=record, claimed_at=now)
            if not taken:
                original = (
                    AlertClaim.objects.select_related("alert")
                    .get(user=user, strategy=strategy, key=key)
                    .alert
                )
                record.outcome, record.http_status = Outcome.DUPLICATE, 200
                record.duplicate_of, record.order_id = original, original.order_id
                record.reason = (
                    f"Duplicate of alert #{original.pk}, key {dedup.description}, "
                    f"window {human_seconds(dedup.window_seconds)}."
                )[:1000]
                record.save()
                return 200, {
                    "status": "duplicate",
                    "alert_id": original.pk,
                    "order_id": original.order_id,
                    "key": dedup.description,
                    "window_seconds": dedup.window_seconds,
                }
        order = create_order(
            exit_plan=plan,
            user=user,
            account=account,
            symbol=alert.symbol,
            exchange=alert.exchange,
            side=alert.action,
            quantity=alert.quantity or strategy.default_quantity,
            order_type=alert.order_type or strategy.default_order_type,
            product=alert.product or strategy.default_product,
            price=alert.price,
            trigger_price=alert.trigger_price,
            source=Order.Source.TRADINGVIEW,
            actor=f"webhook:{strategy.name}"[:60],
            strategy=strategy,
            instrument=instrument,
            check=False,  # an alert is never dropped: an invalid order fails at execution
        )
        record.order = order
        record.save(update_fields=["order"])
        if plan_note:  # said where the trader looks: the order's history and the answer
            log(order, "edited", plan_note, actor=f"webhook:{strategy.name}"[:60])
        mode = strategy.mode
        if halt is not None:
            # Halted: the AUTO order waits in the queue as a MANUAL one would, saying why.
            mode = Strategy.Mode.MANUAL
            queued = f"{halts.refusal(halt)} {halts.QUEUED_AS_MANUAL}: review it in the queue."
            Order.objects.filter(pk=order.pk).update(status_message=queued)
            log(order, "status", queued, actor=f"webhook:{strategy.name}"[:60])
            record.reason = queued[:1000]
            record.save(update_fields=["reason"])
        elif strategy.mode == Strategy.Mode.AUTO:
            order_id = order.pk
            # robust: a queue that refuses the message must not turn a recorded
            # alert into an error; the sweeper sends the WAITING order instead.
            transaction.on_commit(lambda: enqueue("orders.execute_order", order_id), robust=True)
    return 202, {
        "status": "accepted",
        "alert_id": record.pk,
        "order_id": order.pk,
        "mode": mode,
        **({"halted": record.reason} if halt is not None else {}),
        **({"note": plan_note} if plan_note else {}),
        "key": dedup.description,
        "window_seconds": dedup.window_seconds,
    }
