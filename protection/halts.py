"""Trading halts: start one (a limit tripped, or the kill switch), do what it
escalates to, each action once, retry what failed, release it.

A halt is an `orders.TradingHalt` (execution refuses new entries while it is in
force, orders/halts.py). What it does besides is one `HaltAction` row per
target, unique per (halt, kind, target): planning twice (the kill switch
pressed twice, or two presses at once) finds the rows already there, and a row
runs only after an atomic claim (pending/failed → running). Each result is
recorded on the row and as an event; a failure is retried by the watch task
(protection.watch_limits) up to MAX_ATTEMPTS, then shown as given up.

Escalation (LossLimit.Escalation): 1 block new entries; 2 + cancel open and
queued entries (WAITING, ARMED, and at the broker; an order still SENDING or
UNKNOWN is cancelled once its state is known); 3 + square off intraday (MIS)
positions through portfolio's square-off (pending exits are subtracted, so a
retry never sells twice); 4 + pause AUTO strategies (set to MANUAL; they stay
MANUAL after the halt until the trader switches them back).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from brokers.events import account_event
from brokers.models import BrokerAccount
from marketdata import clock
from orders import halts as order_halts
from orders.models import Order, Strategy, TradingHalt
from portfolio.models import Position
from portfolio.trading import exitable_quantity
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from .halt_runners import CANCELLABLE, RUNNERS, position_of
from .models import HaltAction, LossLimit

logger = logging.getLogger(__name__)
Kind, State = HaltAction.Kind, HaltAction.State
Escalation = LossLimit.Escalation
MAX_ATTEMPTS = 5
RUNNING_TIMEOUT = timedelta(minutes=2)


def _event(halt: TradingHalt, message: str, *, level=SystemEvent.Level.WARNING, **details):
    """One event for the halt's owner (the account's, when it has one); shown as a toast."""
    details = {"halt_id": halt.pk, "toast": True, **details}
    if halt.account is not None:
        return account_event(
            halt.account, message, category=SystemEvent.Category.ORDER, level=level, **details
        )
    return record_event(
        category=SystemEvent.Category.ORDER,
        level=level,
        message=message,
        user=halt.user,
        details=details,
    )


def accounts_in(halt: TradingHalt):
    if halt.account_id:
        return BrokerAccount.objects.filter(pk=halt.account_id)
    return BrokerAccount.objects.filter(user_id=halt.user_id)


# --- Starting ----------------------------------------------------------------------------------

# Kept in the halt's figures: how far it escalates (the watch plans again with it, so
# a position an entry opened just before the trip is squared off too).
ESCALATION = "escalation"


def escalation_of(halt: TradingHalt) -> int:
    value = halt.figures.get(ESCALATION) if isinstance(halt.figures, dict) else None
    return value if isinstance(value, int) else Escalation.BLOCK


def start_halt(
    *,
    user,
    account: BrokerAccount | None,
    reason: str,
    message: str,
    figures: dict,
    escalation: int,
    webhook_policy: str = TradingHalt.WebhookPolicy.QUEUE,
    actor: str,
) -> tuple[TradingHalt, bool]:
    """The halt in force over the scope today (started now if none), with the actions
    `escalation` asks planned and run. Returns (halt, started now)."""
    if account is not None and account.user_id != user.pk:
        raise PermissionError("a halt can only name one of its user's accounts")
    day = clock.trading_day()
    started = False
    try:
        with transaction.atomic():
            halt = TradingHalt.objects.create(
                user=user,
                account=account,
                account_name=account.display_name if account else "",
                trading_day=day,
                reason=reason,
                message=message,
                figures={**figures, ESCALATION: escalation},
                webhook_policy=webhook_policy,
                created_by=actor[:60],
            )
            started = True
    except IntegrityError:  # one is already in force (a race, or a second press)
        halt = TradingHalt.objects.get(
            user=user, account=account, trading_day=day, released_at__isnull=True
        )
    if started:
        _event(
            halt,
            f"Trading halted for {halt.scope_name}: {message} New entries are blocked.",
            # A halt is the app doing its job (the trader's switch, or the limit they
            # set): a warning to read, not an error of the app's.
            level=SystemEvent.Level.WARNING,
            reason=reason,
            figures=figures,
        )
    if not started and escalation > escalation_of(halt):  # the kill switch after a limit
        halt.figures = {**halt.figures, ESCALATION: escalation}
        TradingHalt.objects.filter(pk=halt.pk).update(figures=halt.figures)
    plan_actions(halt, escalation=escalation_of(halt))
    run_halt(halt)
    return halt, started


def _targets(halt: TradingHalt, escalation: int) -> list[tuple[str, str, str, Order | None]]:
    """(kind, target, label, order) for everything `escalation` does in the halt's scope."""
    targets: list[tuple[str, str, str, Order | None]] = [
        (Kind.BLOCK, "entries", f"New entries refused for {halt.scope_name}", None)
    ]
    accounts = list(accounts_in(halt))
    if escalation >= Escalation.CANCEL:
        # Never a halt's own square-offs (their position may read smaller than the exit
        # once part of it filled), whatever the exit check says.
        own = HaltAction.objects.filter(halt__user_id=halt.user_id, order__isnull=False)
        open_orders = (
            Order.objects.filter(user_id=halt.user_id, account__in=accounts, status__in=CANCELLABLE)
            .exclude(pk__in=own.values("order_id"))
            # Queued after the trip (by hand, or an AUTO alert queued as MANUAL): the
            # trader was told it waits in the queue, and the claim refuses it while the
            # halt lasts; cancelling it a second later would break that word.
            .exclude(status=Order.Status.WAITING, created_at__gt=halt.created_at)
            .select_related("instrument", "account")
        )
        for order in open_orders:
            if order_halts.is_exit(order):
                continue  # exits (protective legs, square-offs, sales) keep going
            label = (
                f"#{order.pk} {order.side} {order.quantity} {order.symbol} · {order.account_name}"
            )
            targets.append((Kind.CANCEL, f"order:{order.pk}", label, order))
    if escalation >= Escalation.SQUARE_OFF:
        names = {a.pk: a.display_name for a in accounts}
        for position in Position.objects.filter(account__in=accounts, product="MIS").exclude(
            quantity=0
        ):
            target = f"position:{position.account_id}:{position.exchange}:{position.symbol}:MIS"
            label = f"{position.symbol} MIS {position.quantity:+d} · {names[position.account_id]}"
            targets.append((Kind.SQUARE_OFF, target, label, None))
    if escalation >= Escalation.PAUSE:
        strategies = Strategy.objects.filter(user_id=halt.user_id, mode=Strategy.Mode.AUTO)
        if halt.account_id:
            default = halt.account is not None and halt.account.is_default
            scope = Q(account_id=halt.account_id)
            if default:
                scope |= Q(account__isnull=True)
            strategies = strategies.filter(scope)
        for strategy in strategies:
            targets.append((Kind.PAUSE, f"strategy:{strategy.pk}", strategy.name, None))
    return targets


def plan_actions(halt: TradingHalt, *, escalation: int) -> list[HaltAction]:
    """One row per target (an existing row is kept as it is: never done twice)."""
    rows = []
    for kind, target, label, order in _targets(halt, escalation):
        row, created = HaltAction.objects.get_or_create(
            halt=halt, kind=kind, target=target, defaults={"label": label[:200], "order": order}
        )
        if not created and kind == Kind.SQUARE_OFF and row.state == State.DONE:
            # Squared off, yet open again beyond every exit sent (an entry that raced the
            # trip filled since): due once more. Never oversells: square_off subtracts
            # the exits already sent.
            position = position_of(row)
            if position is not None and position.quantity and exitable_quantity(position) > 0:
                HaltAction.objects.filter(pk=row.pk, state=State.DONE).update(
                    state=State.PENDING, label=label[:200]
                )
                row.refresh_from_db()
        rows.append(row)
    return rows


# --- Running -----------------------------------------------------------------------------------


def run_action(action: HaltAction, *, actor: str = "protection") -> HaltAction:
    """Run one action if it is not done and nobody else is running it."""
    now = timezone.now()
    claimed = HaltAction.objects.filter(
        pk=action.pk, state__in=(State.PENDING, State.FAILED)
    ).update(state=State.RUNNING, attempts=F("attempts") + 1, updated_at=now)
    action.refresh_from_db()
    if not claimed:
        return action
    try:
        state, result, order = RUNNERS[action.kind](action, actor)
    except Exception as exc:  # recorded and retried; never silent
        logger.exception("halt action %s failed", action.pk)
        state, result, order = State.FAILED, f"Unexpected error: {exc.__class__.__name__}", None
    if state == State.FAILED and action.attempts >= MAX_ATTEMPTS:
        state = State.GAVE_UP
        result = f"{result} Gave up after {action.attempts} attempts: act on it yourself."
    fields = {"state": state, "result": result[:2000], "updated_at": timezone.now()}
    if state == State.PENDING:  # waiting on the broker is not a failed attempt
        fields["attempts"] = F("attempts") - 1
    if order is not None:
        fields["order"] = order
    HaltAction.objects.filter(pk=action.pk).update(**fields)
    action.refresh_from_db()
    if state in (State.DONE, State.FAILED, State.GAVE_UP) and action.kind != Kind.BLOCK:
        level = SystemEvent.Level.INFO if state == State.DONE else SystemEvent.Level.ERROR
        _event(
            action.halt,
            f"Halt of {action.halt.scope_name}: {action.get_kind_display().lower()} "
            f"{action.label} — {action.get_state_display().lower()}: {result}",
            level=level,
            action_id=action.pk,
            state=state,
        )
    return action


def run_halt(halt: TradingHalt, *, actor: str = "protection") -> list[HaltAction]:
    return [
        run_action(a, actor=actor)
        for a in halt.actions.filter(state__in=(State.PENDING, State.FAILED)).select_related(
            "halt", "halt__account", "halt__user"
        )
    ]


def retry_now(halt: TradingHalt, *, actor: str) -> list[HaltAction]:
    """The trader's "Retry failed actions now": what failed runs again, and so does what
    the watch gave up on (the trader asked for it; every runner re-reads before acting,
    and one more failure gives up again). Nothing runs for a released halt."""
    if halt.released_at is not None:
        return []
    HaltAction.objects.filter(halt=halt, state=State.GAVE_UP).update(state=State.FAILED)
    return run_halt(halt, actor=actor)


def retry_actions(*, now=None) -> int:
    """The watch's pass over today's halts: what is pending or failed runs again; a run
    interrupted (worker lost) counts as failed (every runner re-reads before acting)."""
    now = now or timezone.now()
    today = clock.trading_day(now)
    HaltAction.objects.filter(
        state=State.RUNNING, updated_at__lt=now - RUNNING_TIMEOUT, halt__trading_day=today
    ).update(state=State.FAILED, result="Interrupted; checked again before acting.")
    for halt in TradingHalt.objects.filter(trading_day=today, released_at__isnull=True):
        plan_actions(halt, escalation=escalation_of(halt))  # what appeared since the trip
    due = HaltAction.objects.filter(
        halt__trading_day=today,
        halt__released_at__isnull=True,
        state__in=(State.PENDING, State.FAILED),
    ).select_related("halt", "halt__account", "halt__user")
    count = 0
    for action in due:
        run_action(action)
        count += 1
    return count


def current_webhook_policy(halt: TradingHalt) -> str | None:
    """The trader's setting now for AUTO alerts during `halt`: its scope's loss limit's
    (registered with orders.halts, read when each alert arrives). None: no limit there."""
    limit = LossLimit.objects.filter(user_id=halt.user_id, account_id=halt.account_id).first()
    return limit.webhook_policy if limit is not None else None


# --- The kill switch and releasing --------------------------------------------------------------


class ConfirmationMismatch(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def confirmation_word(account: BrokerAccount | None) -> str:
    """What the trader types to confirm: the account's label (its full name with the
    broker is accepted too), or ALL."""
    return account.label if account is not None else "ALL"


def _check_typed(account: BrokerAccount | None, typed: str) -> None:
    accepted = {confirmation_word(account)}
    if account is not None:
        accepted.add(account.display_name)
    if (typed or "").strip() not in accepted:
        raise ConfirmationMismatch(f"Type {confirmation_word(account)} exactly to confirm.")


def kill_switch(*, user, account: BrokerAccount | None, typed: str, actor: str) -> TradingHalt:
    """Halt the scope now with every action (block, cancel entries, square off intraday,
    pause AUTO), after the typed confirmation. Pressed while a halt is in force (its own
    earlier press, or a limit's): what is already done is not done again; what is new
    (or failed) is done now, and the press is recorded on that halt (who, when, what it
    did now)."""
    _check_typed(account, typed)
    limit = LossLimit.objects.filter(user=user, account=account).first()
    policy = limit.webhook_policy if limit else TradingHalt.WebhookPolicy.QUEUE
    current = TradingHalt.objects.filter(
        user=user, account=account, trading_day=clock.trading_day(), released_at__isnull=True
    ).first()
    before = escalation_of(current) if current is not None else None
    known = set(current.actions.values_list("pk", flat=True)) if current is not None else set()
    halt, started = start_halt(
        user=user,
        account=account,
        reason=TradingHalt.Reason.KILL_SWITCH,
        message=f"Kill switch pressed by {actor}.",
        figures={},
        escalation=Escalation.PAUSE,
        webhook_policy=policy,
        actor=actor,
    )
    if not started:
        _record_press(halt, actor=actor, before=before, known=known)
    return halt


def _record_press(halt: TradingHalt, *, actor: str, before: int | None, known: set[int]) -> None:
    """The press on a halt already in force, as one of its actions, and its event."""
    now = timezone.now()
    new = list(halt.actions.exclude(pk__in=known).exclude(kind=Kind.PRESS))
    did = []
    if before is not None and before < Escalation.PAUSE:
        did.append(f"raised the halt from “{Escalation(before).label}” to every action")
    if new:
        listed = "; ".join(
            f"{a.get_kind_display().lower()} {a.label} ({a.get_state_display().lower()})"
            for a in new
        )
        did.append(f"{len(new)} new action(s): {listed}")
    else:
        did.append("nothing new to do (every action was already taken)")
    result = "Pressed: " + "; ".join(did) + "."
    when = timezone.localtime(now, clock.IST).strftime("%H:%M:%S")
    HaltAction.objects.create(
        halt=halt,
        kind=Kind.PRESS,
        target=f"press:{uuid.uuid4().hex}",  # each press its own row
        label=f"by {actor} at {when} IST"[:200],
        state=State.DONE,
        attempts=1,
        result=result[:2000],
        created_at=now,
        updated_at=now,
    )
    if halt.reason == TradingHalt.Reason.KILL_SWITCH:
        message = f"Kill switch pressed again for {halt.scope_name} by {actor}: {result}"
    else:
        message = (
            f"Kill switch pressed for {halt.scope_name} by {actor} during the halt already "
            f"in force ({order_halts.reason_text(halt)}): {result}"
        )
    _event(halt, message)


def release(*, user, halt: TradingHalt, typed: str, actor: str) -> TradingHalt:
    """End a halt before the next trading day (typed confirmation: RELEASE). The
    limit that tripped it does not trip again the same day."""
    if halt.user_id != user.pk:
        raise PermissionError("not this user's halt")
    if (typed or "").strip() != "RELEASE":
        raise ConfirmationMismatch("Type RELEASE exactly to confirm.")
    moved = TradingHalt.objects.filter(pk=halt.pk, released_at__isnull=True).update(
        released_at=timezone.now(), released_by=actor[:60]
    )
    halt.refresh_from_db()
    if moved:
        _event(
            halt,
            f"Trading halt of {halt.scope_name} released by {actor}: new entries allowed again.",
            level=SystemEvent.Level.WARNING,
        )
    return halt
