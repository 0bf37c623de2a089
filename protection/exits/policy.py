"""The rules an exit plan's legs follow: the settings behind the retry policy, which
side and condition a leg has, native or managed, MIS expiry, tick/lot and the stop
leg's LIMIT buffer, and levels refused for being on the wrong side of the fill."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings

from brokers.base import GttKind
from orders import conditional, exit_plans
from orders.models import ExitPlan, Order
from sigmatrader.formatting import inr, inr_tick

Status = Order.Status
State = ExitPlan.State
Condition = Order.Condition
ACTOR = "protection"
FILLED = (Status.EXECUTED, Status.PARTIALLY_FILLED)
# A leg on its way (or maybe): nothing is re-armed while one is.
IN_FLIGHT = (Status.WAITING, Status.SENDING, Status.UNKNOWN, Status.TRIGGERED)
SENT_EXIT = (Status.SENT, Status.OPEN, Status.PARTIALLY_FILLED)
COVERING = (Status.ARMED, *IN_FLIGHT)


def max_retries() -> int:
    return int(settings.PROTECTION_MAX_RETRIES)


def retry_seconds() -> int:
    return int(settings.PROTECTION_RETRY_SECONDS)


def sweep_seconds() -> int:
    """How often the beat's sweep runs (its row, editable in the admin; 15 s by default):
    a filled entry whose plan was refused is armed by the sweep once the plan is changed."""
    from django_celery_beat.models import PeriodicTask

    row = (
        PeriodicTask.objects.filter(task="protection.sweep", enabled=True)
        .select_related("interval")
        .first()
    )
    if row is None or row.interval is None:
        return 15
    return int(row.interval.every) * {"minutes": 60, "hours": 3600}.get(row.interval.period, 1)


def stop_buffer() -> Decimal:
    return Decimal(str(settings.PROTECTION_STOP_LIMIT_BUFFER_PERCENT))


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
    """The next intraday square-off (PROTECTION_MIS_END): today's, or the next trading
    day's once past. The same end as an MIS GTT's (orders.conditional.intraday_end)."""
    return conditional.intraday_end(now)


def tick_of(entry: Order) -> Decimal:
    instrument = entry.instrument
    return instrument.tick_size if instrument is not None else Decimal("0.05")


def money(value, entry: Order) -> str:
    """A price in a protection note, event or history line: money on the entry's tick."""
    return inr_tick(value, tick_of(entry))


def lot_of(entry: Order) -> int:
    instrument = entry.instrument
    return instrument.lot_size if instrument is not None else 1


def stop_limit_price(entry: Order, trigger: Decimal) -> Decimal:
    """A native stop leg's LIMIT price: the buffer beyond the trigger, on the tick,
    away from the market (lower for a SELL exit, higher for a BUY)."""
    buffer = trigger * stop_buffer() / 100
    tick = tick_of(entry)
    if is_long(entry):
        return exit_plans.round_tick(max(trigger - buffer, tick), tick, up=False)
    return exit_plans.round_tick(trigger + buffer, tick, up=True)


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
