"""Protective exits: an entry's exit plan armed on its fill, grown, trailed, reconciled.

The plan travels with the entry (`orders.ExitPlan`, parsed by
`orders/exit_plans.py`); this module owns what happens once the entry fills.

- **Arming** (`arm_entry`): when order sync sees the entry EXECUTED or
  PARTIALLY_FILLED (`orders.signals.order_filled`, and the beat's sweep as a
  safety net), the filled quantity in whole lots is claimed with one
  conditional UPDATE of `ExitPlan.protected_quantity` (old → new): only the
  caller that moved it creates legs for the difference, so an entry is
  protected exactly once however many workers see the fill. The legs are
  ordinary GTT orders (`Order.protects` = the entry, source "Protective exit"),
  armed through `orders.execution.execute` like any GTT: one native GTT (OCO for
  a stop and a target) where the account's broker has that kind and the product
  is not intraday (Kite's GTT is for CNC/NRML); managed conditional orders
  otherwise (MARKET exits sent by SigmaTrader when the last price crosses).
  An arming without a clear answer is UNKNOWN and reconciled by the order sync
  from the broker's GTT list (never resent).
- **Levels** from the average fill price, on the tick towards the fill; a native
  stop leg is a LIMIT order `PROTECTION_STOP_LIMIT_BUFFER_PERCENT` (1%) beyond
  its trigger so a fast fall still fills (Kite's GTT legs are LIMIT orders).
- **Growing**: a later partial fill claims the difference. Managed legs still
  armed grow in place (one atomic UPDATE of both legs); otherwise a new pair
  protects the difference. A cancelled remainder leaves the filled part protected.
- **Trailing** (`trail_stops`, beat): the stop follows the best price since the
  fill at the trail distance and only tightens. Managed: the armed leg's trigger
  moves (one conditional UPDATE). Native: `modify_gtt` where the broker declares
  `gtt_modify`; otherwise the GTT is cancelled and a new one armed with the
  tighter stop — for the milliseconds between the two the position has no GTT
  at the broker (the gap; if the new one fails, the repair below re-arms it).
- **OCO**: one leg fires → the other is cancelled (orders' GTT machinery, native
  or managed); when an exit fills, the plan closes.
- **Reconciliation** (`reconcile_account`, after each portfolio sync): what is
  still open of the instrument in the entry's direction (positions of the
  product, plus holdings for CNC) caps the legs: a manual exit, square-off, the
  broker's auto square-off or a sold holding reduces them or cancels them.
  Only portfolio data read after the legs were armed is trusted. The app's own
  square-off of a whole position withdraws the armed exits before it sends
  (`portfolio.trading.withdraw_protective_exits`); a partial manual exit is
  reconciled at the next portfolio sync (until then a stop could still fire for
  the whole protected quantity).
- **MIS** legs expire at the intraday square-off (`PROTECTION_MIS_END`, 15:20 IST).
- **Rejected exits** are visible at once (the leg's REJECTED event, a warning
  event, the plan's note on the Orders page). Retry policy (`repair`): a plan
  whose open quantity has no armed leg (a rejected or failed arming, a fired
  leg whose exit order the broker rejected, a lost replacement) is re-armed at
  most PROTECTION_MAX_RETRIES (3) times, at least PROTECTION_RETRY_SECONDS (60)
  apart; a rejection or failure is a definite "not placed", so this is never a
  blind resend, and nothing is retried while any leg is in flight or UNKNOWN.
  After the last retry the plan says "NOT protected" and a warning event says so.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from brokers.base import BrokerError, GttKind, InstrumentRef
from brokers.connections import calling
from marketdata import clock
from marketdata.quotes import ltp
from orders import exit_plans
from orders.broker_request import broker_request
from orders.conditional import cancel_armed, default_expiry, link_oco
from orders.execution import NotExecutable, execute
from orders.history import log
from orders.models import ExitPlan, Order
from orders.sync import NOT_RECEIVED
from sigmatrader.events import record_event
from sigmatrader.formatting import inr
from sigmatrader.models import SystemEvent

logger = logging.getLogger(__name__)
Status = Order.Status
State = ExitPlan.State
Condition = Order.Condition
ACTOR = "protection"
FILLED = (Status.EXECUTED, Status.PARTIALLY_FILLED)
# A leg on its way (or maybe): nothing is re-armed while one is.
IN_FLIGHT = (Status.WAITING, Status.SENDING, Status.UNKNOWN, Status.TRIGGERED)
SENT_EXIT = (Status.SENT, Status.OPEN, Status.PARTIALLY_FILLED)
COVERING = (Status.ARMED, *IN_FLIGHT)


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_retries() -> int:
    return int(_setting("PROTECTION_MAX_RETRIES", 3))


def retry_seconds() -> int:
    return int(_setting("PROTECTION_RETRY_SECONDS", 60))


def stop_buffer() -> Decimal:
    return Decimal(str(_setting("PROTECTION_STOP_LIMIT_BUFFER_PERCENT", "1")))


def mis_end() -> time:
    hours, minutes = str(_setting("PROTECTION_MIS_END", "15:20")).split(":")
    return time(int(hours), int(minutes))


# --- Which legs, where ------------------------------------------------------------------------


def is_long(entry: Order) -> bool:
    return entry.side == Order.Side.BUY


def stop_condition(entry: Order) -> str:
    return exit_plans.stop_condition(entry.side)


def target_condition(entry: Order) -> str:
    return exit_plans.target_condition(entry.side)


def native_kind(entry: Order, *, legs: int) -> GttKind | None:
    """The native GTT kind that would hold `legs` legs of this entry, or None (managed)."""
    account = entry.account
    if account is None or entry.product == Order.Product.MIS:
        return None  # an intraday GTT: Kite's GTT is for CNC/NRML only
    kind = GttKind.OCO if legs == 2 else GttKind.SINGLE
    return kind if kind in account.adapter_class.capabilities.gtt_kinds else None


def mis_expiry(now: datetime | None = None) -> datetime:
    """The next intraday square-off time (today's, or the next day's once past)."""
    local = (now or timezone.now()).astimezone(clock.IST)
    end = datetime.combine(local.date(), mis_end(), tzinfo=clock.IST)
    if local >= end:
        end += timedelta(days=1)
    return end


def _tick(entry: Order) -> Decimal:
    instrument = entry.instrument
    return instrument.tick_size if instrument is not None else Decimal("0.05")


def _lot(entry: Order) -> int:
    instrument = entry.instrument
    return instrument.lot_size if instrument is not None else 1


def _stop_limit_price(entry: Order, trigger: Decimal) -> Decimal:
    """A native stop leg's LIMIT price: the buffer beyond the trigger, on the tick,
    away from the market (lower for a SELL exit, higher for a BUY)."""
    buffer = trigger * stop_buffer() / 100
    tick = _tick(entry)
    if is_long(entry):
        return exit_plans.round_tick(max(trigger - buffer, tick), tick, up=False)
    return exit_plans.round_tick(trigger + buffer, tick, up=True)


def _make_leg(
    entry: Order, *, which: str, level: Decimal, quantity: int, native: bool, note: str
) -> Order:
    stop = which == "stop"
    if native:
        order_type = Order.OrderType.LIMIT
        price = _stop_limit_price(entry, level) if stop else level
    else:
        order_type, price = Order.OrderType.MARKET, None
    expires = mis_expiry() if entry.product == Order.Product.MIS else default_expiry(365)
    leg = Order.objects.create(
        user_id=entry.user_id,
        account=entry.account,
        account_name=entry.account_name,
        source=Order.Source.PROTECTION,
        strategy_id=entry.strategy_id,
        instrument=entry.instrument,
        symbol=entry.symbol,
        exchange=entry.exchange,
        side=exit_plans.exit_side(entry.side),
        quantity=quantity,
        order_type=order_type,
        product=entry.product,
        price=price,
        is_gtt=True,
        condition=stop_condition(entry) if stop else target_condition(entry),
        trigger_value=level,
        expires_at=expires,
        protects=entry,
    )
    what = "Stop-loss" if stop else "Target"
    log(leg, "created", f"{what} exit of order #{entry.pk} at {level} ({note})", actor=ACTOR)
    return leg


def _create_pair(entry: Order, stored: ExitPlan, quantity: int, *, note: str) -> list[Order]:
    """Unsent legs for `quantity` at the plan's current levels (linked OCO when two)."""
    levels: list[tuple[str, Decimal]] = [
        (which, level)
        for which, level in (("stop", stored.stop_level), ("target", stored.target_level))
        if level is not None
    ]
    native = native_kind(entry, legs=len(levels)) is not None
    legs = [
        _make_leg(entry, which=which, level=level, quantity=quantity, native=native, note=note)
        for which, level in levels
    ]
    if len(legs) == 2:
        link_oco(legs[0], legs[1])
    mode = ExitPlan.Mode.NATIVE if native else ExitPlan.Mode.MANAGED
    if stored.mode != mode:
        ExitPlan.objects.filter(pk=stored.pk).update(mode=mode)
        stored.mode = mode
    return legs


def _send(entry: Order, stored: ExitPlan, legs: list[Order]) -> str:
    """Arm the legs through the execution service (one claim each). Returns the outcome."""
    if not legs:
        return ""
    first = legs[0]
    try:
        first = execute(order=first, actor=ACTOR)
    except NotExecutable as exc:  # another worker claimed it: its outcome stands
        return exc.message
    for leg in legs[1:]:
        leg.refresh_from_db()
    if first.status == Status.ARMED:
        where = (
            f"held at {entry.account_name} as GTT {first.gtt_id}"
            if first.gtt_id
            else "managed by SigmaTrader (needs the app running)"
        )
        _note(stored, f"Armed for {first.quantity}: {_levels_text(stored)}; {where}.")
        return Status.ARMED
    if first.status == Status.UNKNOWN:
        _note(stored, f"Arming had no clear answer: {first.status_message}")
        return Status.UNKNOWN
    # FAILED or REJECTED: visible at once; the repair retries by its policy.
    reason = first.status_message or first.get_status_display()
    for leg in legs[1:]:  # an OCO sibling left waiting is withdrawn with it
        if Order.objects.filter(pk=leg.pk, status=Status.WAITING).update(
            status=Status.CANCELLED, status_message="Its pair was not armed.", updated_at=_now()
        ):
            log(leg, "status", "Not armed: its pair was not armed", actor=ACTOR, before="WAITING")
    _not_protected(entry, stored, f"exit not armed: {reason}")
    return first.status


def _levels_text(stored: ExitPlan) -> str:
    parts = []
    if stored.stop_level is not None:
        parts.append(f"stop {stored.stop_level.normalize():f}")
    if stored.target_level is not None:
        parts.append(f"target {stored.target_level.normalize():f}")
    return ", ".join(parts)


def _now():
    return timezone.now()


def _note(stored: ExitPlan, text: str) -> None:
    ExitPlan.objects.filter(pk=stored.pk).update(note=text[:2000], updated_at=_now())
    stored.note = text[:2000]


def _not_protected(entry: Order, stored: ExitPlan, why: str) -> None:
    retries_left = max(max_retries() - stored.retries, 0)
    then = (
        f"retried in {retry_seconds()} s ({retries_left} retr{'y' if retries_left == 1 else 'ies'} "
        "left)"
        if retries_left
        else "no retries left: protect it by hand"
    )
    text = f"NOT protected — {why}; {then}."
    _note(stored, text)
    record_event(
        category=SystemEvent.Category.ORDER,
        level=SystemEvent.Level.WARNING,
        message=f"Order #{entry.pk} {entry.side} {entry.symbol} on {entry.account_name}: {text}",
        user=entry.user,
        details={"order_id": entry.pk, "exit_plan": stored.pk},
    )


# --- Arming on fill ---------------------------------------------------------------------------


def on_order_filled(sender, account_id, order_ids=(), **kwargs) -> None:
    """orders.signals.order_filled: arm or grow entries' exits; close plans whose exit filled."""
    for order_id in order_ids or ():
        try:
            handle_fill(order_id=order_id)
        except Exception:  # a fill is recorded whatever happens here; the beat sweeps again
            logger.exception("protection: could not handle the fill of order %s", order_id)


def handle_fill(*, order_id: int) -> str:
    order = Order.objects.select_related("account", "instrument").filter(pk=order_id).first()
    if order is None:
        return ""
    if order.protects_id:
        return exit_filled(order)
    if not ExitPlan.objects.filter(entry=order, state__in=ExitPlan.OPEN_STATES).exists():
        return ""
    return arm_entry(entry=order)


def _locked(plan_pk: int):
    """One protection step per plan at a time across processes (the DB claims stay the
    guarantee; this keeps two steps from interleaving their broker calls)."""
    return cache.add(f"protection:plan:{plan_pk}", 1, timeout=60)


def _unlock(plan_pk: int) -> None:
    cache.delete(f"protection:plan:{plan_pk}")


def arm_entry(*, entry: Order) -> str:
    """Protect what of `entry` has filled and is not yet protected. Exactly once per
    quantity: the claim is the conditional UPDATE of `protected_quantity`."""
    stored = ExitPlan.objects.filter(entry=entry, state__in=ExitPlan.OPEN_STATES).first()
    if stored is None:
        return ""
    plan = stored.plan
    if plan is None:
        return ""
    entry.refresh_from_db()
    if entry.account is None or not entry.filled_quantity or not entry.average_price:
        return ""
    wanted = exit_plans.protectable(entry.filled_quantity, _lot(entry))
    have = stored.protected_quantity
    if wanted <= have:
        return ""
    if not _locked(stored.pk):
        return "busy"
    try:
        return _arm(entry, stored, plan, have=have, wanted=wanted)
    finally:
        _unlock(stored.pk)


def _arm(entry: Order, stored: ExitPlan, plan, *, have: int, wanted: int) -> str:
    now = _now()
    fields: dict = {
        "protected_quantity": wanted,
        "state": State.ACTIVE,
        "armed_at": now,
        "updated_at": now,
    }
    first = have == 0
    if first:  # the levels, fixed from the average fill price at the first arming
        fill, tick = entry.average_price, _tick(entry)
        assert fill is not None  # checked by arm_entry
        stop = exit_plans.initial_stop(plan, fill=fill, side=entry.side, tick=tick)
        target = (
            exit_plans.target_level(plan.target, fill=fill, side=entry.side, tick=tick)
            if plan.target
            else None
        )
        wrong = wrong_side(side=entry.side, fill=fill, stop=stop, target=target)
        if wrong:  # never arm a reversed plan: it would exit at once, or never
            _refuse_levels(entry, stored, wrong)
            return "wrong side"
        fields.update(fill_price=fill, best_price=fill, stop_level=stop, target_level=target)
    claimed = ExitPlan.objects.filter(
        pk=stored.pk, protected_quantity=have, state__in=ExitPlan.OPEN_STATES
    ).update(**fields)
    if not claimed:
        return "claimed elsewhere"
    stored.refresh_from_db()
    delta = wanted - have
    if first:
        log(
            entry,
            "status",
            f"Protection: {delta} filled at {entry.average_price}; arming {_levels_text(stored)}",
            actor=ACTOR,
        )
    elif _grow_managed(entry, stored, delta):
        _note(stored, f"Armed for {wanted}: {_levels_text(stored)}; managed by SigmaTrader.")
        return Status.ARMED
    note = "on the fill" if first else f"{delta} more filled"
    legs = _create_pair(entry, stored, delta, note=note)
    return _send(entry, stored, legs)


def wrong_side(*, side: str, fill: Decimal, stop: Decimal | None, target: Decimal | None) -> str:
    """What is wrong with levels on the wrong side of the fill ("" when none is).

    A price given for a MARKET entry is only checked here, against the fill: a BUY's
    stop at or above its fill would sell at once, a target at or below it too."""
    long = side == "BUY"
    problems = []
    if stop is not None and (stop >= fill if long else stop <= fill):
        problems.append(
            f"the stop-loss {inr(stop)} is {'at or above' if long else 'at or below'} the fill "
            f"{inr(fill)} (a {side} entry's stop must be {'below' if long else 'above'} it)"
        )
    if target is not None and (target <= fill if long else target >= fill):
        problems.append(
            f"the target {inr(target)} is {'at or below' if long else 'at or above'} the fill "
            f"{inr(fill)} (a {side} entry's target must be {'above' if long else 'below'} it)"
        )
    return " and ".join(problems)


def _refuse_levels(entry: Order, stored: ExitPlan, wrong: str) -> None:
    """The plan stays unarmed (waiting for a change) and says so, once."""
    text = f"NOT protected — {wrong}: nothing was armed. Change the plan (Orders page) to arm it."
    if stored.note == text[:2000]:
        return  # already said (the sweep comes back every few seconds)
    _note(stored, text)
    log(entry, "status", f"Protection: {text}", actor=ACTOR)
    record_event(
        category=SystemEvent.Category.ORDER,
        level=SystemEvent.Level.WARNING,
        message=f"Order #{entry.pk} {entry.side} {entry.symbol} on {entry.account_name}: {text}",
        user=entry.user,
        details={"order_id": entry.pk, "exit_plan": stored.pk},
    )


def _grow_managed(entry: Order, stored: ExitPlan, delta: int) -> bool:
    """Managed legs still armed grow in place (both, or neither)."""
    legs = list(entry.exit_legs.filter(status=Status.ARMED, gtt_id=""))
    if not legs or len(legs) > 2:
        return False
    with transaction.atomic():
        moved = Order.objects.filter(pk__in=[leg.pk for leg in legs], status=Status.ARMED).update(
            quantity=F("quantity") + delta, updated_at=_now()
        )
        if moved != len(legs):
            transaction.set_rollback(True)
            return False
    for leg in legs:
        leg.refresh_from_db()
        log(
            leg,
            "edited",
            f"Grown to {leg.quantity}: {delta} more of #{entry.pk} filled",
            actor=ACTOR,
        )
    return True


def exit_filled(leg: Order) -> str:
    """An exit leg's order filled: the plan closes once what it protected is out."""
    entry = leg.protects
    if entry is None:
        return ""
    stored = ExitPlan.objects.filter(entry=entry).first()
    if stored is None or stored.state != State.ACTIVE:
        return ""
    exited = _exited(entry)
    which = "Stop-loss" if leg.condition == stop_condition(entry) else "Target"
    text = f"{which} exit #{leg.pk} filled {leg.filled_quantity} at {leg.average_price}."
    if exited >= stored.protected_quantity and entry.status not in Order.LIVE:
        _close(stored, entry, f"{text} Position closed.", state=State.DONE)
    else:
        _note(stored, text)
    return "exit"


def _exited(entry: Order) -> int:
    return sum(
        leg.filled_quantity
        for leg in entry.exit_legs.filter(status__in=(*FILLED, Status.CANCELLED))
    )


def _close(stored: ExitPlan, entry: Order, text: str, *, state: str) -> None:
    if ExitPlan.objects.filter(pk=stored.pk, state__in=ExitPlan.OPEN_STATES).update(
        state=state, note=text[:2000], updated_at=_now()
    ):
        stored.state, stored.note = state, text
        log(entry, "status", f"Protection: {text}", actor=ACTOR)


def cancel_legs(entry: Order, *, why: str) -> list[str]:
    """Disarm every armed leg of `entry` (native GTTs at the broker first). Returns problems."""
    problems = []
    seen: set[int] = set()
    for leg in entry.exit_legs.filter(status=Status.ARMED).select_related("account"):
        if leg.pk in seen:
            continue
        seen.update({leg.pk, leg.oco_sibling_id or 0})
        try:
            cancel_armed(leg, actor=ACTOR)
        except BrokerError as exc:
            problems.append(f"#{leg.pk}: {exc.message}")
            continue
        Order.objects.filter(pk__in=[leg.pk, leg.oco_sibling_id or 0]).filter(
            status=Status.CANCELLED, status_message="GTT cancelled."
        ).update(status_message=why[:2000])
    return problems


def cancel_plan(*, entry: Order, actor: str) -> str:
    """The trader cancels an entry's protection: armed legs disarmed, the plan closed."""
    stored = ExitPlan.objects.filter(entry=entry).first()
    if stored is None:
        return "No exit plan."
    if stored.state not in ExitPlan.OPEN_STATES:
        return f"The exit plan is already {stored.get_state_display().lower()}."
    problems = cancel_legs(entry, why=f"Protection cancelled by {actor}.")
    if problems:
        text = "Could not cancel every exit: " + "; ".join(problems)
        _note(stored, text)
        return text
    _close(stored, entry, f"Cancelled by {actor}.", state=State.CANCELLED)
    return ""


# --- Levels changed by the trader -------------------------------------------------------------


def change_levels(*, entry: Order, stop: Decimal | None, target: Decimal | None, actor: str) -> str:
    """Move an active plan's stop and/or target (absolute prices, on the tick). Managed legs
    move in place; native ones are cancelled and re-armed (the same gap as trailing)."""
    stored = ExitPlan.objects.filter(entry=entry, state=State.ACTIVE).first()
    if stored is None:
        return "Only an active plan's levels can be changed."
    tick = _tick(entry)
    for name, value in (("stop", stop), ("target", target)):
        if value is not None and (
            value <= 0 or value != exit_plans.round_tick(value, tick, up=True)
        ):
            return f"The {name} {value} is not a positive multiple of the tick {tick.normalize()}."
    if (
        stop is not None
        and stored.stop_level is None
        or target is not None
        and stored.target_level is None
    ):
        return "A leg the plan does not have cannot be moved."
    if not _locked(stored.pk):
        return "The plan is being changed; try again in a moment."
    try:
        return _move(entry, stored, stop=stop, target=target, actor=actor)
    finally:
        _unlock(stored.pk)


def _move(entry: Order, stored: ExitPlan, *, stop, target, actor: str) -> str:
    legs = list(entry.exit_legs.filter(status=Status.ARMED))
    if not legs:
        return "No armed exit to move."
    moves = {stop_condition(entry): stop, target_condition(entry): target}
    if all(not leg.gtt_id for leg in legs):
        for leg in legs:
            value = moves.get(leg.condition)
            if value is None or value == leg.trigger_value:
                continue
            if Order.objects.filter(pk=leg.pk, status=Status.ARMED).update(
                trigger_value=value, updated_at=_now()
            ):
                log(leg, "edited", f"Trigger moved to {value} by {actor}", actor=actor)
        ExitPlan.objects.filter(pk=stored.pk).update(
            stop_level=stop if stop is not None else stored.stop_level,
            target_level=target if target is not None else stored.target_level,
        )
        stored.refresh_from_db()
        _note(stored, f"Moved by {actor}: {_levels_text(stored)}.")
        return ""
    return _replace_native(
        entry, stored, stop=stop, target=target, why=f"Moved by {actor}", actor=actor
    )


def _replace_native(entry: Order, stored: ExitPlan, *, stop, target, why: str, actor: str) -> str:
    """Native legs get new levels: `modify_gtt` where the broker has it, else cancel and re-arm."""
    legs = list(entry.exit_legs.filter(status=Status.ARMED).exclude(gtt_id=""))
    new_stop = stop if stop is not None else stored.stop_level
    new_target = target if target is not None else stored.target_level
    account = entry.account
    if account is None:
        return "The entry's account no longer exists."
    caps = account.adapter_class.capabilities
    by_gtt: dict[str, list[Order]] = {}
    for leg in legs:
        by_gtt.setdefault(leg.gtt_id, []).append(leg)
    if caps.gtt_modify:
        for gtt_id, group in by_gtt.items():
            problem = _modify_native(entry, gtt_id, group, new_stop, new_target)
            if problem:
                return problem
        ExitPlan.objects.filter(pk=stored.pk).update(stop_level=new_stop, target_level=new_target)
        stored.refresh_from_db()
        _note(stored, f"{why}: {_levels_text(stored)} (GTT modified at the broker).")
        return ""
    quantity = sum(group[0].quantity for group in by_gtt.values())
    problems = cancel_legs(entry, why=f"{why}: replaced by a new GTT.")
    if problems:
        return "Could not replace the GTT: " + "; ".join(problems)
    ExitPlan.objects.filter(pk=stored.pk).update(stop_level=new_stop, target_level=new_target)
    stored.refresh_from_db()
    fresh = _create_pair(entry, stored, quantity, note=why.lower())
    outcome = _send(entry, stored, fresh)
    return "" if outcome in (Status.ARMED, Status.UNKNOWN) else stored.note


def _modify_native(entry: Order, gtt_id: str, group: list[Order], stop, target) -> str:
    ordered = sorted(group, key=lambda o: o.condition != Condition.LTP_AT_OR_BELOW)
    moves = {stop_condition(entry): stop, target_condition(entry): target}
    for leg in ordered:
        leg.trigger_value = moves[leg.condition]
        if leg.condition == stop_condition(entry):
            leg.price = _stop_limit_price(entry, leg.trigger_value)
        else:
            leg.price = leg.trigger_value
    instrument = entry.instrument
    account = entry.account
    if instrument is None or account is None:
        return "The entry has no instrument or account."
    try:
        last = ltp(account=account, instruments=[instrument])[instrument.pk]
        if last is None:
            return "No last price to anchor the GTT change."
        with calling(account) as adapter:
            adapter.modify_gtt(
                gtt_id,
                kind=GttKind.OCO if len(ordered) == 2 else GttKind.SINGLE,
                instrument=InstrumentRef(
                    instrument.exchange, instrument.trading_symbol, instrument.token
                ),
                trigger_values=[moves[leg.condition] for leg in ordered],
                last_price=last,
                legs=[broker_request(leg) for leg in ordered],
            )
    except BrokerError as exc:
        return f"GTT {gtt_id} not changed: {exc.message}"
    for leg in ordered:
        if Order.objects.filter(pk=leg.pk, status=Status.ARMED).update(
            trigger_value=leg.trigger_value, price=leg.price, updated_at=_now()
        ):
            log(leg, "broker", f"GTT {gtt_id} modified: trigger {leg.trigger_value}", actor=ACTOR)
    return ""


# --- Trailing ---------------------------------------------------------------------------------


def trail_stops(now: datetime | None = None) -> dict:
    """Beat: move trailing stops of active plans towards the best price (never back)."""
    plans = list(
        ExitPlan.objects.filter(state=State.ACTIVE)
        .exclude(trailing_stop="")
        .select_related("entry", "entry__account", "entry__instrument")
    )
    by_account: dict[int, list[ExitPlan]] = {}
    for stored in plans:
        entry = stored.entry
        if entry.account and entry.account.is_connected and entry.instrument:
            by_account.setdefault(entry.account.pk, []).append(stored)
    moved = 0
    for group in by_account.values():
        account = group[0].entry.account
        assert account is not None
        instruments = list({s.entry.instrument for s in group if s.entry.instrument})
        try:
            prices = ltp(account=account, instruments=instruments)
        except BrokerError as exc:
            logger.warning("trailing: no prices for account %s: %s", account.pk, exc.message)
            continue
        for stored in group:
            price = prices.get(stored.entry.instrument_id or 0)
            if price is not None and price > 0 and trail_one(stored, price=price):
                moved += 1
    return {"trailing": len(plans), "moved": moved}


def trail_one(stored: ExitPlan, *, price: Decimal) -> bool:
    """One price for one plan: the best price moves on; the stop follows if it tightens."""
    entry = stored.entry
    plan = stored.plan
    if plan is None or plan.trailing_stop is None or stored.fill_price is None:
        return False
    best = exit_plans.better(entry.side, price, stored.best_price)
    if best != stored.best_price:
        ExitPlan.objects.filter(pk=stored.pk).update(best_price=best)
        stored.best_price = best
    current = stored.stop_level
    if current is None:
        return False
    new = exit_plans.next_stop(
        plan=plan,
        side=entry.side,
        fill=stored.fill_price,
        best=best,
        current=current,
        tick=_tick(entry),
    )
    if not exit_plans.tighter(entry.side, new, current):
        return False
    if not entry.exit_legs.filter(status=Status.ARMED, condition=stop_condition(entry)).exists():
        return False  # nothing armed to move yet (arming in flight): the next price does it
    if not _locked(stored.pk):
        return False
    try:
        return _tighten(entry, stored, old=current, new=new)
    finally:
        _unlock(stored.pk)


def _tighten(entry: Order, stored: ExitPlan, *, old: Decimal, new: Decimal) -> bool:
    # The plan's stop moves only forward: one conditional UPDATE from the level read.
    if not ExitPlan.objects.filter(pk=stored.pk, stop_level=old, state=State.ACTIVE).update(
        stop_level=new, updated_at=_now()
    ):
        return False
    stored.stop_level = new
    condition = stop_condition(entry)
    legs = list(entry.exit_legs.filter(status=Status.ARMED, condition=condition))
    managed = [leg for leg in legs if not leg.gtt_id]
    tighter = Q(trigger_value__lt=new) if is_long(entry) else Q(trigger_value__gt=new)
    for leg in managed:
        if Order.objects.filter(tighter, pk=leg.pk, status=Status.ARMED).update(
            trigger_value=new, updated_at=_now()
        ):
            log(leg, "edited", f"Trailing stop moved {old} → {new}", actor=ACTOR)
    if len(managed) < len(legs):
        problem = _replace_native(
            entry, stored, stop=new, target=None, why=f"Trailing stop {old} → {new}", actor=ACTOR
        )
        if problem:
            unchanged = entry.exit_legs.filter(
                status=Status.ARMED, condition=condition, trigger_value=old
            ).exclude(gtt_id="")
            if unchanged.exists():
                # The broker still holds the old stop: the plan says so, and the next
                # price tries again (a modify sets absolute values: safe to repeat).
                ExitPlan.objects.filter(pk=stored.pk, stop_level=new).update(stop_level=old)
                stored.stop_level = old
            _note(stored, f"Trailing stop {new} not at the broker yet: {problem}")
            return False
    _note(stored, f"Trailing: stop {new} (best {stored.best_price}).")
    return True


# --- Reconciliation with the portfolio --------------------------------------------------------


def open_quantity(entry: Order, positions, holdings) -> int:
    """What is still open of the entry's instrument in its direction, for its product."""
    names = {entry.symbol.split(":", 1)[-1]}
    if entry.instrument is not None:
        names |= {entry.instrument.canonical_symbol, entry.instrument.trading_symbol}
    net = sum(
        p.quantity
        for p in positions
        if p.symbol in names and p.exchange == entry.exchange and p.product == entry.product
    )
    if entry.product == Order.Product.CNC and is_long(entry):
        net += sum(
            h.quantity for h in holdings if h.symbol in names and h.exchange == entry.exchange
        )
    return max(net if is_long(entry) else -net, 0)


def reconcile_account(account_id: int) -> list[str]:
    """After a portfolio sync: cap each active plan's armed legs by what is still open.

    Plans are served oldest first from the open quantity; a plan with none left has its
    legs cancelled and closes ("closed outside the plan"); with less, its legs shrink
    (managed in place, native cancelled and re-armed). Positions read before the legs
    were armed are not trusted (the fill may not be in them yet)."""
    from portfolio.models import Holding, PortfolioSync, Position

    synced = (
        PortfolioSync.objects.filter(account_id=account_id)
        .values_list("synced_at", flat=True)
        .first()
    )
    if synced is None:
        return []
    plans = list(
        ExitPlan.objects.filter(entry__account_id=account_id, state=State.ACTIVE)
        .select_related("entry", "entry__account", "entry__instrument")
        .order_by("created_at", "pk")
    )
    if not plans:
        return []
    positions = list(Position.objects.filter(account_id=account_id))
    holdings = list(Holding.objects.filter(account_id=account_id))
    left: dict[tuple, int] = {}
    changes = []
    for stored in plans:
        entry = stored.entry
        legs = list(entry.exit_legs.filter(status__in=COVERING))
        if any(leg.status != Status.ARMED for leg in legs):
            continue  # something in flight: the next sync decides
        if entry.exit_legs.filter(status__in=SENT_EXIT).exists():
            continue  # an exit is on its way out: its fill will close the plan
        # Only positions read after the protected quantity last grew (and after these
        # legs were made: a replacement follows a read of its own) are trusted.
        armed_at = max([leg.created_at for leg in legs] + [stored.armed_at or stored.created_at])
        if synced <= armed_at:
            continue
        key = (entry.exchange, entry.symbol, entry.product, entry.side)
        if key not in left:
            left[key] = open_quantity(entry, positions, holdings)
        if not legs:
            if left[key] <= 0 and entry.status not in Order.LIVE:
                # No armed exit and nothing open (squared off, its exits withdrawn first).
                _close(stored, entry, "Position closed outside the plan.", state=State.DONE)
                changes.append(f"#{entry.pk}: closed")
            continue
        covered = _covered(entry, legs)
        allowed = exit_plans.protectable(min(covered, left[key]), _lot(entry))
        left[key] -= allowed
        if allowed >= covered:
            continue
        changes.append(_shrink(entry, stored, legs, covered=covered, allowed=allowed))
    return changes


def _covered(entry: Order, legs: list[Order]) -> int:
    stops = [leg for leg in legs if leg.condition == stop_condition(entry)]
    return sum(leg.quantity for leg in (stops or legs))


def _shrink(
    entry: Order, stored: ExitPlan, legs: list[Order], *, covered: int, allowed: int
) -> str:
    if not _locked(stored.pk):
        return f"#{entry.pk}: busy"
    try:
        if allowed <= 0:
            why = (
                "Position closed outside the plan (manual exit, square-off or sold): "
                "exits cancelled."
            )
            problems = cancel_legs(entry, why=why)
            if problems:
                _note(stored, "Could not cancel every exit: " + "; ".join(problems))
                return f"#{entry.pk}: " + "; ".join(problems)
            _close(stored, entry, why, state=State.DONE)
            return f"#{entry.pk}: closed"
        text = f"Only {allowed} of {covered} still open: exits reduced to {allowed}."
        if all(not leg.gtt_id for leg in legs) and len(legs) <= 2:
            with transaction.atomic():
                moved = Order.objects.filter(
                    pk__in=[leg.pk for leg in legs], status=Status.ARMED
                ).update(quantity=allowed, updated_at=_now())
                if moved != len(legs):
                    transaction.set_rollback(True)
                    return f"#{entry.pk}: legs moved meanwhile"
            for leg in legs:
                log(leg, "edited", text, actor=ACTOR)
            _note(stored, text)
            log(entry, "status", f"Protection: {text}", actor=ACTOR)
            return f"#{entry.pk}: reduced to {allowed}"
        problems = cancel_legs(entry, why=text)
        if problems:
            return f"#{entry.pk}: " + "; ".join(problems)
        fresh = _create_pair(entry, stored, allowed, note="reduced to what is open")
        _send(entry, stored, fresh)
        log(entry, "status", f"Protection: {text}", actor=ACTOR)
        return f"#{entry.pk}: re-armed for {allowed}"
    finally:
        _unlock(stored.pk)


def on_portfolio_synced(sender, account_id, **kwargs) -> None:
    try:
        reconcile_account(account_id)
    except Exception:
        logger.exception("protection: reconciliation failed for account %s", account_id)


# --- The beat's sweep: missed fills, finished plans, the retry policy ------------------------


def sweep(now: datetime | None = None) -> dict:
    """Beat: arm fills the signal missed, close finished plans, re-arm by the retry policy."""
    now = now or _now()
    armed = closed = retried = 0
    plans = ExitPlan.objects.filter(state__in=ExitPlan.OPEN_STATES).select_related(
        "entry", "entry__account", "entry__instrument"
    )
    for stored in plans:
        entry = stored.entry
        try:
            if (
                entry.filled_quantity
                and exit_plans.protectable(entry.filled_quantity, _lot(entry))
                > stored.protected_quantity
            ):
                if arm_entry(entry=entry) == Status.ARMED:
                    armed += 1
                continue
            if stored.state == State.WAITING:
                if entry.status in (Status.CANCELLED, Status.REJECTED, Status.EXPIRED):
                    _close(
                        stored,
                        entry,
                        f"The entry was {entry.status.lower()} unfilled.",
                        state=State.CANCELLED,
                    )
                    closed += 1
                continue
            outcome = _settle(entry, stored, now=now)
            closed += outcome == "closed"
            retried += outcome == "retried"
        except Exception:
            logger.exception("protection sweep: plan %s", stored.pk)
    return {"armed": armed, "closed": closed, "retried": retried}


def _withdraw_failed(legs: list[Order]) -> bool:
    """Before a retry: the FAILED legs (executable from the queue) are withdrawn in one
    UPDATE, so a trader's Execute and the retry can never both protect the same shares.
    False when one was claimed meanwhile (then it is the protection)."""
    failed = [leg for leg in legs if leg.status == Status.FAILED and not _may_surface(leg)]
    if not failed:
        return True
    why = "Superseded by a retry of the protection."
    with transaction.atomic():
        withdrawn = Order.objects.filter(
            pk__in=[leg.pk for leg in failed], status=Status.FAILED
        ).update(status=Status.CANCELLED, status_message=why, updated_at=_now())
        if withdrawn != len(failed):
            transaction.set_rollback(True)
            return False
    for leg in failed:
        leg.status = Status.CANCELLED
        log(leg, "status", why, actor=ACTOR, before=Status.FAILED)
    return True


def _may_surface(leg: Order) -> bool:
    """A leg whose placement had no clear answer and that the sync marked "not received":
    the broker may still show it (orders/sync.py watches it), so it is never re-sent."""
    return leg.status == Status.FAILED and leg.status_message == NOT_RECEIVED


def _settle(entry: Order, stored: ExitPlan, *, now: datetime) -> str:
    legs = list(entry.exit_legs.all())
    armed = [leg for leg in legs if leg.status == Status.ARMED]
    if armed and stored.note.startswith("NOT protected"):  # armed again (e.g. from the queue)
        _note(stored, f"Armed for {armed[0].quantity}: {_levels_text(stored)}.")
    if any(leg.status in (*COVERING, *SENT_EXIT) or _may_surface(leg) for leg in legs):
        return ""
    exited = _exited(entry)
    if exited >= stored.protected_quantity and entry.status not in Order.LIVE:
        _close(stored, entry, "Exited in full.", state=State.DONE)
        return "closed"
    if (
        legs
        and all(leg.status == Status.EXPIRED for leg in legs if leg.filled_quantity == 0)
        and (entry.product == Order.Product.MIS)
    ):
        _close(
            stored,
            entry,
            "MIS: intraday protection ended at the square-off time.",
            state=State.DONE,
        )
        return "closed"
    # Open quantity without an armed leg. Retried only when the last leg was refused
    # (REJECTED / FAILED: a definite "not placed"); legs cancelled or expired otherwise
    # (the trader, the broker) end the plan, said so.
    last = max(legs, key=lambda leg: leg.pk, default=None)
    attempt = [leg for leg in legs if last and leg.pk in (last.pk, last.oco_sibling_id)]
    if last is not None and not any(
        leg.status in (Status.REJECTED, Status.FAILED) for leg in attempt
    ):
        _close(
            stored,
            entry,
            f"Exits {last.get_status_display().lower()} outside the plan: no longer protecting.",
            state=State.CANCELLED,
        )
        return "closed"
    if stored.retries >= max_retries():
        if "no retries left" not in stored.note:
            _not_protected(entry, stored, "every retry was refused")
        return ""
    if now - stored.updated_at < timedelta(seconds=retry_seconds()):
        return ""
    if not ExitPlan.objects.filter(pk=stored.pk, retries=stored.retries, state=State.ACTIVE).update(
        retries=F("retries") + 1, updated_at=now
    ):
        return ""
    stored.refresh_from_db()
    remaining = stored.protected_quantity - exited
    quantity = exit_plans.protectable(remaining, _lot(entry))
    if quantity <= 0:
        return ""
    if not _locked(stored.pk):
        return ""
    try:
        if not _withdraw_failed(legs):
            return ""  # the trader sent a failed leg again meanwhile: that one protects
        log(
            entry,
            "status",
            f"Protection: re-arming {quantity} (retry {stored.retries} of {max_retries()})",
            actor=ACTOR,
        )
        fresh = _create_pair(entry, stored, quantity, note=f"retry {stored.retries}")
        _send(entry, stored, fresh)
    finally:
        _unlock(stored.pk)
    return "retried"


# --- The trader edits the plan (Orders page) ----------------------------------------------------


def edit_plan(*, entry: Order, stop_loss: str, target: str, actor: str) -> str:
    """Change an entry's stop-loss / target in the plan's syntax. Before the fill: the plan
    as stored. Once protecting: only a part whose text changed moves its armed leg, to
    the level computed from the fill (so a trailed stop is not undone by a resubmit).
    Returns "" or what was refused."""
    from orders import plans

    stored = ExitPlan.objects.filter(entry=entry).first()
    if stored is None or stored.state not in ExitPlan.OPEN_STATES:
        return "This order has no open exit plan."
    try:
        plan = exit_plans.parse_plan(
            stop_loss=stop_loss,
            target=target,
            trailing_stop=stored.trailing_stop,
            trail_activation=stored.trail_activation,
        )
    except exit_plans.ExitPlanError as exc:
        return exc.message
    if stored.state == State.WAITING and not stored.protected_quantity:
        try:
            plans.replace(entry=entry, plan=plan, actor=actor)
        except plans.PlanLocked as exc:
            return exc.message
        return ""
    if plan is None:
        return "To remove every exit, cancel the protection."
    fill = stored.fill_price or entry.average_price
    if fill is None:
        return "The entry's fill price is not known yet."
    tick = _tick(entry)
    new = plan.texts
    stop = target_price = None
    if new["stop_loss"] != stored.stop_loss:
        if plan.stop_loss is None or stored.stop_level is None:
            return "A stop-loss can be changed, not added or removed, once armed."
        stop = exit_plans.stop_level(plan.stop_loss, fill=fill, side=entry.side, tick=tick)
    if new["target"] != stored.target:
        if plan.target is None or stored.target_level is None:
            return "A target can be changed, not added or removed, once armed."
        target_price = exit_plans.target_level(plan.target, fill=fill, side=entry.side, tick=tick)
    if stop is None and target_price is None:
        return ""
    problem = change_levels(entry=entry, stop=stop, target=target_price, actor=actor)
    if problem:
        return problem
    ExitPlan.objects.filter(pk=stored.pk).update(stop_loss=new["stop_loss"], target=new["target"])
    log(entry, "edited", f"Exit plan changed by {actor}: {plan.summary}", actor=actor)
    return ""
