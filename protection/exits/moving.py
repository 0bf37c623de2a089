"""Moving an active plan's levels: managed legs in place, native GTTs modified at the
broker (`modify_gtt`) or cancelled and re-armed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from brokers.base import BrokerError, GttKind, InstrumentRef, OutcomeUnknown
from brokers.connections import calling
from marketdata.quotes import ltp
from orders import exit_plans
from orders.broker_request import broker_request
from orders.history import log
from orders.models import ExitPlan, Order

from .legs import cancel_legs, create_pair, send_legs
from .plan_state import levels_text, lock_plan, set_note, unlock_plan
from .policy import (
    ACTOR,
    Condition,
    State,
    Status,
    money,
    stop_condition,
    stop_limit_price,
    target_condition,
    tick_of,
)


@dataclass(frozen=True)
class Change:
    """What became of a native GTT change: `problem` ("" when done); `unanswered` when the
    broker gave no answer and reading the GTT back did not show the new values (the
    change did not land, or the list could not be read): the caller's retry policy."""

    problem: str = ""
    unanswered: bool = False


def change_levels(*, entry: Order, stop: Decimal | None, target: Decimal | None, actor: str) -> str:
    """Move an active plan's stop and/or target (absolute prices, on the tick). Managed legs
    move in place; native ones are cancelled and re-armed (the same gap as trailing)."""
    stored = ExitPlan.objects.filter(entry=entry, state=State.ACTIVE).first()
    if stored is None:
        return "Only an active plan's levels can be changed."
    tick = tick_of(entry)
    for name, value in (("stop", stop), ("target", target)):
        if value is not None and (
            value <= 0 or value != exit_plans.round_tick(value, tick, up=True)
        ):
            return (
                f"The {name} {money(value, entry)} is not a positive multiple of the tick "
                f"{tick.normalize()}."
            )
    if (
        stop is not None
        and stored.stop_level is None
        or target is not None
        and stored.target_level is None
    ):
        return "A leg the plan does not have cannot be moved."
    if not lock_plan(stored.pk):
        return "The plan is being changed; try again in a moment."
    try:
        return _move(entry, stored, stop=stop, target=target, actor=actor)
    finally:
        unlock_plan(stored.pk)


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
                trigger_value=value, updated_at=timezone.now()
            ):
                log(
                    leg, "edited", f"Trigger moved to {money(value, entry)} by {actor}", actor=actor
                )
        ExitPlan.objects.filter(pk=stored.pk).update(
            stop_level=stop if stop is not None else stored.stop_level,
            target_level=target if target is not None else stored.target_level,
        )
        stored.refresh_from_db()
        set_note(stored, f"Moved by {actor}: {levels_text(stored)}.")
        return ""
    return replace_native(
        entry, stored, stop=stop, target=target, why=f"Moved by {actor}", actor=actor
    ).problem


def replace_native(entry: Order, stored: ExitPlan, *, stop, target, why: str, actor: str) -> Change:
    """Native legs get new levels: `modify_gtt` where the broker has it, else cancel and re-arm."""
    legs = list(entry.exit_legs.filter(status=Status.ARMED).exclude(gtt_id=""))
    new_stop = stop if stop is not None else stored.stop_level
    new_target = target if target is not None else stored.target_level
    account = entry.account
    if account is None:
        return Change("The entry's account no longer exists.")
    caps = account.adapter_class.capabilities
    by_gtt: dict[str, list[Order]] = {}
    for leg in legs:
        by_gtt.setdefault(leg.gtt_id, []).append(leg)
    if caps.gtt_modify:
        for gtt_id, group in by_gtt.items():
            change = _modify_native(entry, gtt_id, group, new_stop, new_target)
            if change.problem:
                return change
        ExitPlan.objects.filter(pk=stored.pk).update(stop_level=new_stop, target_level=new_target)
        stored.refresh_from_db()
        set_note(stored, f"{why}: {levels_text(stored)} (GTT modified at the broker).")
        return Change()
    quantity = sum(group[0].quantity for group in by_gtt.values())
    problems = cancel_legs(entry, why=f"{why}: replaced by a new GTT.")
    if problems:
        return Change("Could not replace the GTT: " + "; ".join(problems))
    ExitPlan.objects.filter(pk=stored.pk).update(stop_level=new_stop, target_level=new_target)
    stored.refresh_from_db()
    fresh = create_pair(entry, stored, quantity, note=why.lower())
    outcome = send_legs(entry, stored, fresh)
    return Change("" if outcome in (Status.ARMED, Status.UNKNOWN) else stored.note)


def _modify_native(entry: Order, gtt_id: str, group: list[Order], stop, target) -> Change:
    ordered = sorted(group, key=lambda o: o.condition != Condition.LTP_AT_OR_BELOW)
    moves = {stop_condition(entry): stop, target_condition(entry): target}
    for leg in ordered:
        leg.trigger_value = moves[leg.condition]
        if leg.condition == stop_condition(entry):
            leg.price = stop_limit_price(entry, leg.trigger_value)
        else:
            leg.price = leg.trigger_value
    instrument = entry.instrument
    account = entry.account
    if instrument is None or account is None:
        return Change("The entry has no instrument or account.")
    triggers = [moves[leg.condition] for leg in ordered]
    answered = True
    try:
        last = ltp(account=account, instruments=[instrument])[instrument.pk]
        if last is None:
            return Change("No last price to anchor the GTT change.")
        with calling(account) as adapter:
            adapter.modify_gtt(
                gtt_id,
                kind=GttKind.OCO if len(ordered) == 2 else GttKind.SINGLE,
                instrument=InstrumentRef(
                    instrument.exchange, instrument.trading_symbol, instrument.token
                ),
                trigger_values=triggers,
                last_price=last,
                legs=[broker_request(leg) for leg in ordered],
            )
    except OutcomeUnknown:
        answered = False  # may or may not have landed: the GTT read back tells
    except BrokerError as exc:
        return Change(f"GTT {gtt_id} not changed: {exc.message}")
    if not answered:
        landed = _landed(account, gtt_id, triggers)
        if not landed:
            seen = (
                "the GTT list still shows the old values"
                if landed is False
                else "the GTT list could not be read"
            )
            return Change(f"GTT {gtt_id}: no answer to the change ({seen})", unanswered=True)
    how = "" if answered else " (no answer; the GTT list shows the change)"
    for leg in ordered:
        if Order.objects.filter(pk=leg.pk, status=Status.ARMED).update(
            trigger_value=leg.trigger_value, price=leg.price, updated_at=timezone.now()
        ):
            log(
                leg,
                "broker",
                f"GTT {gtt_id} modified: trigger {money(leg.trigger_value, entry)}{how}",
                actor=ACTOR,
            )
    return Change()


def _landed(account, gtt_id: str, triggers: list[Decimal]) -> bool | None:
    """After a change with no answer: does the broker's GTT show the new trigger values?
    None when the list cannot be read (not known: never taken as landed)."""
    try:
        with calling(account) as adapter:
            listed = adapter.list_gtts()
    except BrokerError:
        return None
    for gtt in listed:
        if gtt.gtt_id == str(gtt_id):
            return gtt.status == "active" and [Decimal(v) for v in gtt.trigger_values] == [
                Decimal(v) for v in triggers
            ]
    return False
