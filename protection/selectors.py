"""Reads for the protection pages (scoped to the user; nothing calls a broker)."""

from __future__ import annotations

from dataclasses import dataclass, field

from marketdata import clock
from orders import halts as order_halts
from orders.models import TradingHalt

from .limits import Figures, figures_for, readings_for, release_notes, released_checks
from .models import DayReading, HaltAction, LossLimit


def halts_in_force(*, user) -> list[TradingHalt]:
    return list(order_halts.in_force(user_id=user.pk).select_related("account").order_by("pk"))


# What each escalation step does, and what its list says when it found nothing.
STEPS = (
    (1, "block", "Block new entries", ""),
    (2, "cancel", "Cancel open and queued entries", "none were open at the trip"),
    (3, "square_off", "Square off intraday positions", "none were open at the trip"),
    (4, "pause", "Pause AUTO strategies", "none were in AUTO"),
)


def halts_today(*, user) -> list[TradingHalt]:
    """Today's halts, each with `steps`: (what, how many targets, what an empty one
    means) for every step its escalation took, so a step that found nothing says so;
    and count_failures' `failed_actions` and `given_up_actions` (the retry button's)."""
    from .halts import escalation_of

    halts = list(
        TradingHalt.objects.filter(user=user, trading_day=clock.trading_day())
        .select_related("account")
        .prefetch_related("actions")
        .order_by("-pk")
    )
    for halt in halts:
        counts: dict[str, int] = {}
        for action in halt.actions.all():
            counts[action.kind] = counts.get(action.kind, 0) + 1
        # What AUTO alerts meet now (the current setting, not the one at the trip).
        halt.policy_now = TradingHalt.WebhookPolicy(  # type: ignore[attr-defined]
            order_halts.webhook_policy(halt)
        ).label
        level = escalation_of(halt)
        halt.steps = [  # type: ignore[attr-defined]
            (label, counts.get(kind, 0), empty)
            for step, kind, label, empty in STEPS
            if step <= level and kind != "block"
        ]
    count_failures(halts)
    return halts


def halt_of(*, user, halt_id: int) -> TradingHalt | None:
    return TradingHalt.objects.filter(user=user, pk=halt_id).select_related("account").first()


def count_failures(halts: list[TradingHalt]) -> None:
    """Each halt's own `failed_actions` (failed, to be retried) and `given_up_actions`
    (retries exhausted: the trader acts), for its banner."""
    counts: dict[tuple[int, str], int] = {}
    rows = HaltAction.objects.filter(
        halt__in=halts, state__in=(HaltAction.State.FAILED, HaltAction.State.GAVE_UP)
    ).values_list("halt_id", "state")
    for halt_id, state in rows:
        counts[(halt_id, state)] = counts.get((halt_id, state), 0) + 1
    for halt in halts:
        failed = counts.get((halt.pk, HaltAction.State.FAILED), 0)
        given_up = counts.get((halt.pk, HaltAction.State.GAVE_UP), 0)
        halt.failed_actions, halt.given_up_actions = failed, given_up  # type: ignore[attr-defined]


@dataclass
class LimitRow:
    limit: LossLimit
    figures: Figures
    halted: bool
    # What a release silenced today, said ("Loss limit released at 11:02 IST by …").
    released: list[str] = field(default_factory=list)
    # Every check the limit has is silenced by a release: it watches nothing today.
    all_released: bool = False


def limits_of(*, user) -> list[LossLimit]:
    return list(LossLimit.objects.filter(user=user).select_related("account", "user"))


def limits_overview(*, user, limits: list[LossLimit] | None = None) -> list[LimitRow]:
    """Each limit with today's stored readings (as the watch last read them)."""
    limits = limits_of(user=user) if limits is None else limits
    if not limits:
        return []
    readings = {
        r.account_id: r
        for r in DayReading.objects.filter(account__user=user, trading_day=clock.trading_day())
    }
    halted = {h.account_id for h in order_halts.in_force(user_id=user.pk)}
    rows = []
    day = clock.trading_day()
    for limit in limits:
        silenced = released_checks(limit, day)
        checks = {"loss"} if limit.max_loss is not None else set()
        checks |= {"target"} if limit.profit_target is not None else set()
        rows.append(
            LimitRow(
                limit=limit,
                figures=figures_for(limit, readings_for(limit, readings)),
                halted=None in halted or limit.account_id in halted,
                released=release_notes(silenced),
                all_released=bool(checks) and checks <= set(silenced),
            )
        )
    return rows
