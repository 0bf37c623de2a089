"""The only path that sends an order to a broker (queue, webhook, holdings
actions and conditional triggers all call `execute`).

An order is placed at most once: `execute` first claims it with one atomic
UPDATE (WAITING/FAILED → SENDING); a second caller finds nothing to claim.
What happens next is decided by what could have reached the broker:
accepted → SENT; refused → REJECTED; failed before sending → FAILED (edit and
retry); anything that may have been sent without a clear answer → UNKNOWN,
which only the sync resolves, by the order's client tag. Nothing is resent.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from brokers.base import (
    AuthExpired,
    BrokerError,
    OrderRejected,
    OrderRequest,
    OutcomeUnknown,
    RateLimited,
)
from brokers.connections import calling
from marketdata.resolution import resolve

from . import closed_market, conditional, halts, plans, risk
from .broker_request import broker_request
from .history import log
from .models import ACCOUNT_GONE, Order
from .sync import NOT_RECEIVED, CannotReconcile, reconcile_before_resending
from .validation import InvalidOrder, validate

logger = logging.getLogger(__name__)
Status = Order.Status


class NotExecutable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def create_order(
    *,
    user,
    account,
    symbol: str,
    side: str,
    quantity: int,
    actor: str,
    exchange: str = "",
    order_type: str = Order.OrderType.MARKET,
    product: str = Order.Product.CNC,
    price=None,
    trigger_price=None,
    validity: str = Order.Validity.DAY,
    variety: str = Order.Variety.REGULAR,
    source: str = Order.Source.MANUAL,
    is_gtt: bool = False,
    strategy=None,
    instrument=None,
    disclosed_quantity: int = 0,
    check: bool = True,
    exit_plan=None,
) -> Order:
    """A WAITING order for `account`, resolved to that account's broker instrument
    and stored under its canonical name (`NSE:SBIN`, whatever the spelling typed).

    Raises SymbolNotFound (from market data) when the symbol does not resolve, and
    InvalidOrder (naming the field) when the order breaks a rule it would be refused
    for at execution (tick, lot, index, what the broker offers), so nothing invalid
    waits in the queue. `check=False` keeps an order that arrived from outside (a
    TradingView alert is never dropped): the same rules then fail it at execution.
    `instrument` skips the resolution when the caller has just resolved it.
    `exit_plan` (an orders.exit_plans.Plan) is stored with the order: `protection`
    arms its exit legs when the order fills.
    """
    if account.user_id != user.pk:
        raise PermissionError("an order can only name one of its user's accounts")
    if strategy is not None and strategy.user_id != user.pk:
        raise PermissionError("an order can only name one of its user's strategies")
    if instrument is None or instrument.broker != account.broker:
        instrument = resolve(broker=account.broker, symbol=symbol, exchange=exchange or None)
    order = Order(
        strategy=strategy,
        user=user,
        account=account,
        account_name=account.display_name,
        source=source,
        instrument=instrument,
        symbol=canonical_name(instrument),
        exchange=instrument.exchange,
        side=side,
        quantity=quantity,
        order_type=order_type,
        product=product,
        price=price,
        trigger_price=trigger_price,
        validity=validity,
        variety=variety,
        is_gtt=is_gtt,
        disclosed_quantity=disclosed_quantity or 0,
    )
    if check:
        validate(order)
    order.save(force_insert=True)
    log(
        order,
        "created",
        f"{order.get_source_display()} order for {account.display_name}",
        actor=actor,
        details={"instrument": str(instrument)},
    )
    if exit_plan is not None:
        plans.attach(entry=order, plan=exit_plan, actor=actor)
    return order


def canonical_name(instrument) -> str:
    """How an order names its instrument: `EXCHANGE:CANONICAL` (`NSE:SBIN`)."""
    return f"{instrument.exchange}:{instrument.canonical_symbol}"


def _finish(order: Order, status: str, message: str, *, actor: str, **fields) -> Order:
    """Leave SENDING for `status`, unless the sync already moved the order on.

    An acceptance that comes back after the sync gave up on the order (FAILED,
    "not received") is adopted all the same: the broker has the order.
    """
    fields.update(status=status, status_message=message[:2000], updated_at=timezone.now())
    current = Q(status=Status.SENDING)
    if status == Status.SENT:
        current |= Q(status=Status.FAILED, status_message=NOT_RECEIVED)
    with transaction.atomic():
        before = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
        moved = Order.objects.filter(current, pk=order.pk).update(**fields)
        _reload_state(order)
        if moved:
            log(
                order,
                "status",
                message or order.get_status_display(),
                actor=actor,
                before=before or Status.SENDING,
            )
    return order


def _reload_state(order: Order) -> None:
    """Re-read the order's own columns, keeping its loaded account and instrument
    (a plain refresh_from_db() would drop them and cost three more queries)."""
    own = [f.attname for f in Order._meta.concrete_fields if not f.is_relation]
    order.refresh_from_db(fields=own)


def _check_market_hours(order: Order) -> None:
    if order.variety == Order.Variety.AMO:
        if order.account is None:
            raise InvalidOrder(ACCOUNT_GONE)
        if not order.account.adapter_class.capabilities.amo:
            raise InvalidOrder(f"{order.account.broker_label} does not take after-market orders.")
        return
    closed = closed_market.closed_for(order)
    if closed is None:
        return
    hint = " Send it as AMO, or keep it waiting for the open." if closed.amo else ""
    raise InvalidOrder(f"{closed.message}{hint}")


def _place(adapter, request: OrderRequest) -> str:
    """Place once; a broker's rate-limit refusal (a definite "not processed") is
    waited out and sent again while the rate-limit budget lasts. Nothing else
    is ever resent."""
    budget = time.monotonic() + settings.BROKER_RATE_LIMIT_MAX_WAIT
    while True:
        try:
            return adapter.place_order(request)
        except RateLimited as exc:
            wait = exc.retry_after or 1.0
            if time.monotonic() + wait > budget:
                raise
            time.sleep(wait)


def execute(*, order: Order, actor: str, claim_from: tuple[str, ...] | None = None) -> Order:
    """Send one order, exactly once. Returns the order in its new state.

    `claim_from` narrows the states the order may be claimed from (the AUTO
    task claims only WAITING/TRIGGERED: a FAILED order waits for its trader).
    """
    if order.status == Status.FAILED and order.status_message == NOT_RECEIVED:
        # Its tag may still surface at the broker: look before sending it again.
        try:
            order = reconcile_before_resending(order)
        except CannotReconcile as exc:
            raise NotExecutable(exc.message) from exc
    previous = order.status
    # One commit: the claim and its history line (the claim is durable before any send).
    with transaction.atomic():
        # TRIGGERED: a conditional order the poller claimed, on its way out once.
        claimable = claim_from or (*Order.EXECUTABLE, Status.TRIGGERED)
        claimed = Order.objects.filter(pk=order.pk, status__in=claimable).update(
            status=Status.SENDING, status_message="", updated_at=timezone.now()
        )
        _reload_state(order)
        # A trading halt, read after the claim took the write: a halt recorded before
        # this claim stops the order here; one recorded after it finds the order
        # SENDING and cancels it at the broker (protection's actions).
        halt = halts.blocking_halt(order) if claimed else None
        if halt is not None:
            refused = halts.refusal(halt)
            Order.objects.filter(pk=order.pk).update(
                status=Status.FAILED, status_message=refused, updated_at=timezone.now()
            )
            _reload_state(order)
            log(order, "status", refused, actor=actor, before=previous, details={"halt": halt.pk})
        elif claimed:
            log(order, "status", "Sending", actor=actor, before=previous)
    if halt is not None:
        return order
    if not claimed:
        state = order.get_status_display().lower()
        raise NotExecutable(f"Order #{order.pk} is {state}: an order is sent only once.")
    sending = arming = False
    try:
        validate(order)
        account = order.account
        if account is None:  # validate() refuses it; said here for the type checker too
            raise InvalidOrder(ACCOUNT_GONE)
        if not account.is_connected:
            raise InvalidOrder(f"{account.display_name} is not connected: connect it in Settings.")
        arming = order.is_gtt and previous != Status.TRIGGERED
        if arming and (not order.condition or order.trigger_value is None):
            raise InvalidOrder("A GTT needs a condition and a trigger value.")
        if not arming:
            _check_market_hours(order)
        decision = risk.evaluate(order)
        with transaction.atomic():
            log(
                order,
                "risk",
                decision.summary,
                actor=actor,
                details={
                    "allowed": decision.allowed,
                    "quantity": decision.quantity,
                    **decision.numbers,
                },
            )
            order.quantity = decision.quantity if decision.allowed else order.quantity
            Order.objects.filter(pk=order.pk).update(
                risk_note=decision.summary, quantity=order.quantity
            )
        if not decision.allowed:
            raise InvalidOrder(decision.summary)
        if arming:
            sending = conditional.is_native(order)  # a GTT may be armed at the broker
            status, message, extra = conditional.arm(order, actor=actor)
            return _finish(order, status, message, actor=actor, **extra)
        request = broker_request(order)
        with calling(account) as adapter:
            sending = True
            broker_order_id = _place(adapter, request)
    except InvalidOrder as exc:
        return _finish(order, Status.FAILED, str(exc), actor=actor)
    except OrderRejected as exc:
        return _finish(order, Status.REJECTED, exc.message, actor=actor)
    except OutcomeUnknown as exc:
        how = conditional.GTT_RECONCILING if arming else "Reconciling by tag; not resent."
        return _finish(
            order,
            Status.UNKNOWN,
            f"{exc.message} {how}",
            actor=actor,
            sent_at=timezone.now(),
        )
    except AuthExpired as exc:
        return _finish(
            order,
            Status.FAILED,
            f"Session expired: reconnect {order.account_name}. ({exc.message})",
            actor=actor,
        )
    except BrokerError as exc:
        return _finish(order, Status.FAILED, exc.message, actor=actor)
    except Exception:
        logger.exception("unexpected error executing order %s", order.pk)
        if sending:  # it may have left: only the sync may decide
            return _finish(
                order,
                Status.UNKNOWN,
                "Unexpected error while sending; reconciling.",
                actor=actor,
                sent_at=timezone.now(),
            )
        return _finish(
            order, Status.FAILED, "Unexpected error before sending; nothing was sent.", actor=actor
        )
    # One write transaction for the outcome and its broker line (SQLite: one
    # turn at the write lock instead of two, under a burst every turn counts).
    with transaction.atomic():
        order = _finish(
            order,
            Status.SENT,
            f"Accepted by {order.account_name} as {broker_order_id}",
            actor=actor,
            broker_order_id=broker_order_id,
            sent_at=timezone.now(),
        )
        log(
            order,
            "broker",
            f"Broker order id {broker_order_id}",
            actor=actor,
            details={"tag": order.client_tag},
        )
    return order
