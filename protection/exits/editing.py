"""The trader's changes from the Orders page: edit an exit plan, cancel it."""

from __future__ import annotations

from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order
from sigmatrader.formatting import inr

from .legs import cancel_legs
from .moving import change_levels
from .plan_state import close_plan, set_note
from .policy import State, tick_of
from .trailing import trail_one


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
        set_note(stored, text)
        return text
    close_plan(stored, entry, f"Cancelled by {actor}.", state=State.CANCELLED)
    return ""


GENERAL = ""  # the key of a problem that is no one field's


def edit_plan(
    *,
    entry: Order,
    stop_loss: str,
    target: str,
    actor: str,
    trailing_stop: str | None = None,
    trail_activation: str | None = None,
) -> dict[str, str]:
    """Change an entry's stop-loss / target / trailing stop in the plan's syntax (a part
    given as None keeps its stored text). Before the fill: the plan as stored, checked
    against a priced entry. Once protecting: only a part whose text changed moves its
    armed leg, to the level computed from the fill (so a trailed stop is not undone by a
    resubmit); a changed trail is checked against the fill and applies from the best
    price so far, and the stop still only tightens.

    Returns what was refused, every bad part at once: {field: message} (FIELDS of
    orders/exit_plans.py; GENERAL for what is no one field's); {} when saved."""
    from orders import plans

    stored = ExitPlan.objects.filter(entry=entry).first()
    if stored is None or stored.state not in ExitPlan.OPEN_STATES:
        return {GENERAL: "This order has no open exit plan."}
    if trailing_stop is None:
        trailing_stop = stored.trailing_stop
    if trail_activation is None:
        trail_activation = stored.trail_activation
    try:
        plan = exit_plans.parse_plan(
            stop_loss=stop_loss,
            target=target,
            trailing_stop=trailing_stop,
            trail_activation=trail_activation,
        )
    except exit_plans.ExitPlanError as exc:
        return exc.errors
    if stored.state == State.WAITING and not stored.protected_quantity:
        priced = entry.order_type in (Order.OrderType.LIMIT, Order.OrderType.SL)
        try:
            if plan is not None:
                exit_plans.check_against(
                    plan, side=entry.side, reference=entry.price if priced else None
                )
            plans.replace(entry=entry, plan=plan, actor=actor)
        except exit_plans.ExitPlanError as exc:
            return exc.errors
        except plans.PlanLocked as exc:
            return {GENERAL: exc.message}
        return {}
    if plan is None:
        return {GENERAL: "To remove every exit, cancel the protection."}
    fill = stored.fill_price or entry.average_price
    if fill is None:
        return {GENERAL: "The entry's fill price is not known yet."}
    tick = tick_of(entry)
    new = plan.texts
    errors: dict[str, str] = {}
    stop = target_price = None
    if new["stop_loss"] != stored.stop_loss:
        if plan.stop_loss is None or stored.stop_level is None:
            errors["stop_loss"] = "A stop-loss can be changed, not added or removed, once armed."
        else:
            stop = exit_plans.stop_level(plan.stop_loss, fill=fill, side=entry.side, tick=tick)
    if new["target"] != stored.target:
        if plan.target is None or stored.target_level is None:
            errors["target"] = "A target can be changed, not added or removed, once armed."
        else:
            target_price = exit_plans.target_level(
                plan.target, fill=fill, side=entry.side, tick=tick
            )
    trail_changed = (new["trailing_stop"], new["trail_activation"]) != (
        stored.trailing_stop,
        stored.trail_activation,
    )
    if trail_changed:
        errors.update(_trail_problems(plan, stored, entry=entry, fill=fill))
    elif stop is not None:
        undone = _undone_by_trail(plan, stored, entry=entry, fill=fill, stop=stop)
        if undone:
            errors["stop_loss"] = undone
    if errors:
        return errors
    if stop is not None or target_price is not None:
        problem = change_levels(entry=entry, stop=stop, target=target_price, actor=actor)
        if problem:
            return {GENERAL: problem}
    if stop is None and target_price is None and not trail_changed:
        return {}
    ExitPlan.objects.filter(pk=stored.pk).update(
        stop_loss=new["stop_loss"],
        target=new["target"],
        trailing_stop=new["trailing_stop"],
        trail_activation=new["trail_activation"],
    )
    log(entry, "edited", f"Exit plan changed by {actor}: {plan.summary}", actor=actor)
    if trail_changed and plan.trailing_stop is not None:
        stored.refresh_from_db()
        if stored.best_price is not None:  # the new trail from the best price so far
            trail_one(stored, price=stored.best_price)
    return {}


def _undone_by_trail(plan: exit_plans.Plan, stored: ExitPlan, *, entry: Order, fill, stop) -> str:
    """A stop set looser than the unchanged trail holds it would be put back by the next
    trail pass (and the exit fire there) while the page said it moved: refused, saying
    how to loosen it."""
    if plan.trailing_stop is None or stored.best_price is None:
        return ""
    held = exit_plans.next_stop(
        plan=plan,
        side=entry.side,
        fill=fill,
        best=stored.best_price,
        current=stop,
        tick=tick_of(entry),
    )
    if not exit_plans.tighter(entry.side, held, stop):
        return ""
    return (
        f"The trailing stop ({plan.trailing_stop.text}) holds the stop at {inr(held)} and "
        f"only tightens: a stop of {inr(stop)} would be moved back at its next check. To "
        "loosen it, change or clear the trailing stop as well."
    )


def _trail_problems(
    plan: exit_plans.Plan, stored: ExitPlan, *, entry: Order, fill
) -> dict[str, str]:
    """What is wrong with a trail changed on an armed plan, by field."""
    if plan.trailing_stop is not None and stored.stop_level is None:
        return {"trailing_stop": "A trailing stop moves the stop-loss leg; this plan armed none."}
    if plan.trailing_stop is None and plan.stop_loss is None and stored.stop_level is not None:
        return {
            "trailing_stop": "The trailing stop is this plan's stop-loss: give a stop-loss to "
            "keep the stop without trailing, or cancel the protection."
        }
    try:
        exit_plans.check_against(
            plan, side=entry.side, reference=fill, fields=("trailing_stop", "trail_activation")
        )
    except exit_plans.ExitPlanError as exc:
        return {
            name: message.replace("the entry price", "the fill")
            for name, message in exc.errors.items()
        }
    return {}
