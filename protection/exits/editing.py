"""The trader's changes from the Orders page: edit an exit plan, cancel it."""

from __future__ import annotations

from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order

from .legs import cancel_legs
from .moving import change_levels
from .plan_state import close_plan, set_note
from .policy import State, tick_of


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
    tick = tick_of(entry)
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
