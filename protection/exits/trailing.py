"""Trailing (beat): the stop follows the best price since the fill and only tightens."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from brokers.base import BrokerError
from marketdata.quotes import ltp
from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order

from .moving import replace_native
from .plan_state import lock_plan, set_note, unlock_plan, warn
from .policy import (
    ACTOR,
    State,
    Status,
    is_long,
    max_retries,
    money,
    retry_seconds,
    stop_condition,
    tick_of,
)

logger = logging.getLogger(__name__)


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
        tick=tick_of(entry),
    )
    if not exit_plans.tighter(entry.side, new, current):
        return False
    if not entry.exit_legs.filter(status=Status.ARMED, condition=stop_condition(entry)).exists():
        return False  # nothing armed to move yet (arming in flight): the next price does it
    unanswered, last = _unanswered(entry)
    if unanswered > max_retries():
        return False  # trailing ended (said when it did); a changed trail starts it again
    if unanswered and last and timezone.now() - last < timedelta(seconds=retry_seconds()):
        return False  # the retry policy's spacing
    if not lock_plan(stored.pk):
        return False
    try:
        return _tighten(entry, stored, old=current, new=new)
    finally:
        unlock_plan(stored.pk)


def _tighten(entry: Order, stored: ExitPlan, *, old: Decimal, new: Decimal) -> bool:
    # The plan's stop moves only forward: one conditional UPDATE from the level read.
    if not ExitPlan.objects.filter(pk=stored.pk, stop_level=old, state=State.ACTIVE).update(
        stop_level=new, updated_at=timezone.now()
    ):
        return False
    stored.stop_level = new
    moved = f"{money(old, entry)} → {money(new, entry)}"
    condition = stop_condition(entry)
    legs = list(entry.exit_legs.filter(status=Status.ARMED, condition=condition))
    managed = [leg for leg in legs if not leg.gtt_id]
    tighter = Q(trigger_value__lt=new) if is_long(entry) else Q(trigger_value__gt=new)
    for leg in managed:
        if Order.objects.filter(tighter, pk=leg.pk, status=Status.ARMED).update(
            trigger_value=new, updated_at=timezone.now()
        ):
            log(leg, "edited", f"Trailing stop moved {moved}", actor=ACTOR)
    if len(managed) < len(legs):
        change = replace_native(
            entry, stored, stop=new, target=None, why=f"Trailing stop {moved}", actor=ACTOR
        )
        if change.problem:
            unchanged = entry.exit_legs.filter(
                status=Status.ARMED, condition=condition, trigger_value=old
            ).exclude(gtt_id="")
            if unchanged.exists():
                # The broker still holds the old stop: the plan says so, and the next
                # price tries again (a modify sets absolute values: safe to repeat).
                ExitPlan.objects.filter(pk=stored.pk, stop_level=new).update(stop_level=old)
                stored.stop_level = old
            if change.unanswered:
                _no_answer(entry, stored, old=old, new=new, problem=change.problem)
            else:
                set_note(
                    stored,
                    f"Trailing stop {money(new, entry)} not at the broker yet: {change.problem}",
                )
            return False
        if _unanswered(entry)[0]:
            log(
                entry,
                "broker",
                f"{AT_THE_BROKER} {money(new, entry)} (after no answer).",
                actor=ACTOR,
            )
    set_note(
        stored,
        f"Trailing: stop {money(new, entry)} (best {money(stored.best_price, entry)}).",
    )
    return True


# The entry's history counts the changes of its GTT that got no answer (what the retry
# policy needs survives a restart); a change that lands, or the trader's edit, resets it.
NO_ANSWER = "Trailing: no answer from the broker"
AT_THE_BROKER = "Trailing: the broker holds the stop"
RESETS = (AT_THE_BROKER, "Exit plan changed by")


def _unanswered(entry: Order) -> tuple[int, datetime | None]:
    """How many trailing changes in a row got no answer, and when the last one was."""
    count, last = 0, None
    for message, at in (
        entry.events.filter(kind="broker").order_by("-at", "-pk").values_list("message", "at")
    ):
        if message.startswith(RESETS):
            break
        if message.startswith(NO_ANSWER):
            count += 1
            last = last or at
    edited = entry.events.filter(kind="edited", message__startswith="Exit plan changed by")
    if last is not None and edited.filter(at__gte=last).exists():
        return 0, None  # the trader changed the plan since: a fresh start
    return count, last


def _no_answer(entry: Order, stored: ExitPlan, *, old: Decimal, new: Decimal, problem: str):
    """A trailing change the broker did not answer and that did not land: retried by the
    policy (PROTECTION_MAX_RETRIES, PROTECTION_RETRY_SECONDS apart); after the last,
    trailing ends, said in the plan and as a warning event. The GTT keeps protecting at
    the stop it holds (the plan stays active: only the trailing ends)."""
    attempt = _unanswered(entry)[0] + 1
    log(entry, "broker", f"{NO_ANSWER} (attempt {attempt}): {problem}", actor=ACTOR)
    left = max_retries() + 1 - attempt
    if left > 0:
        set_note(
            stored,
            f"Trailing stop {money(new, entry)} not at the broker: {problem}; retried in "
            f"{retry_seconds()} s ({left} retr{'y' if left == 1 else 'ies'} left).",
        )
        return
    text = (
        f"Trailing stopped — the broker did not answer {attempt} changes of the stop "
        f"({problem}); the stop stays at {money(old, entry)} at the broker. "
        "Change the plan's trail (Orders page) to trail again."
    )
    warn(entry, stored, text)
