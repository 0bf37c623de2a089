"""Sharing a basket's funds out among its members: a pure function, no database.

Rules, in order:

1. A locked leg keeps what the mode reads: its ₹ amount in amount mode (as whole
   lots of it, see `locked_quantity`), its quantity in every other mode; its cost
   comes off the funds first. When the locked legs alone cost more than the funds,
   nothing else is bought, the shortfall is said and `locked_over` is set (a buy is
   refused then: the funds were a limit).
2. Every other leg gets a target in ₹: the rest of the funds split equally, by
   weight, or its own ₹ amount (scaled down together when they add up to more than
   the funds); in quantity mode, its own quantity (scaled down together likewise).
3. Whole lots only: a target buys floor(target / lot cost) lots.
4. Minimum one: a leg whose single lot costs more than its target is infeasible, and
   says so ("one MRF share, ₹1,20,000, is more than its share, ₹50,000"); in equal
   and weight modes its share goes back to the others (their targets are worked out
   again without it).
5. Leftover (equal and weight modes): each leg, most under its target first, gets
   one more lot if it fits; then what still fits goes the same way, so the leftover
   ends below the cheapest lot bought. What a leg gets from the leftover is added to
   its share and said (`from_leftover`), so no leg's value is ever above its share:
   step 3 floors, and the leftover is shared out in the open. An amount or a quantity
   is taken as asked.

Never over the funds, whole lots, locked legs untouched.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from sigmatrader.formatting import inr

EQUAL, WEIGHT, AMOUNT, QUANTITY = "EQUAL", "WEIGHT", "AMOUNT", "QUANTITY"
MODES = (EQUAL, WEIGHT, AMOUNT, QUANTITY)


@dataclass(frozen=True)
class Leg:
    key: Hashable
    price: Decimal | None
    lot: int = 1
    weight: Decimal | None = None
    amount: Decimal | None = None
    quantity: int | None = None
    locked: bool = False
    label: str = ""


@dataclass
class Allocation:
    quantities: dict = field(default_factory=dict)  # key -> whole shares (lot multiples)
    targets: dict = field(default_factory=dict)  # key -> ₹ target, for the preview
    problems: dict = field(default_factory=dict)  # key -> why it gets nothing (or less)
    from_leftover: dict = field(default_factory=dict)  # key -> ₹ of its share from the leftover
    funds: Decimal = Decimal("0")
    spent: Decimal = Decimal("0")
    shortfall: Decimal = Decimal("0")  # what the asked-for legs cost beyond the funds
    locked_over: bool = False  # the locked legs alone cost more than the funds

    @property
    def leftover(self) -> Decimal:
        return max(Decimal("0"), self.funds - self.spent)


def _lots(money: Decimal, lot_cost: Decimal) -> int:
    if money <= 0:
        return 0
    return int((money / lot_cost).to_integral_value(rounding=ROUND_FLOOR))


def locked_quantity(leg: Leg, mode: str) -> int:
    """What a locked leg keeps: whole lots of its ₹ amount in amount mode (when it has
    one and a price), else its quantity."""
    if mode == AMOUNT and leg.amount and leg.price and leg.price > 0 and leg.lot >= 1:
        return _lots(leg.amount, leg.price * leg.lot) * leg.lot
    return leg.quantity or 0


def allocate(*, funds: Decimal, legs: list[Leg], mode: str) -> Allocation:
    if mode not in MODES:
        raise ValueError(f"unknown allocation mode {mode!r}")
    funds = max(Decimal("0"), Decimal(funds))
    result = Allocation(funds=funds)
    priced: list[Leg] = []
    for leg in legs:
        result.quantities[leg.key] = 0
        if leg.lot < 1:
            result.problems[leg.key] = "No lot size."
        elif leg.price is None or leg.price <= 0:
            result.problems[leg.key] = "No price: nothing bought."
        else:
            priced.append(leg)
    # 1. Locked legs first.
    locked = [leg for leg in priced if leg.locked]
    locked_cost = Decimal("0")
    for leg in locked:
        quantity = locked_quantity(leg, mode)
        result.quantities[leg.key] = quantity
        locked_cost += quantity * leg.price
    free = [leg for leg in priced if not leg.locked]
    if locked_cost > funds:
        result.shortfall = locked_cost - funds
        result.locked_over = True
        result.spent = locked_cost
        for leg in free:
            result.problems[leg.key] = (
                f"Locked members cost {inr(locked_cost)}, more than the funds: nothing left."
            )
        return result
    remaining = funds - locked_cost
    # 2-4. Targets, whole lots, infeasible legs out (their share back to the others).
    if mode == QUANTITY:
        _by_quantity(result, free, remaining)
    else:
        _by_money(result, free, remaining, mode)
    result.spent = sum(
        (result.quantities[leg.key] * leg.price for leg in priced), start=Decimal("0")
    )
    # 5. Leftover (shared modes only: an amount or a quantity is what was asked for).
    if mode in (EQUAL, WEIGHT):
        _spend_leftover(result, [leg for leg in free if result.quantities[leg.key] > 0], funds)
    return result


def _spend_leftover(result: Allocation, chosen: list[Leg], funds: Decimal) -> None:
    """One more lot each, most under its target first, while it fits; then what still
    fits, most under target first: the leftover ends below the cheapest lot bought."""

    def gap(leg: Leg):
        return (-(result.targets[leg.key] - result.quantities[leg.key] * leg.price), str(leg.key))

    def give(leg: Leg, lots: int) -> None:
        cost = lots * leg.lot * leg.price
        result.quantities[leg.key] += lots * leg.lot
        result.spent += cost
        # The share grows by what the value now needs beyond it (the leftover given).
        over = result.quantities[leg.key] * leg.price - result.targets[leg.key]
        if over > 0:
            result.from_leftover[leg.key] = result.from_leftover.get(leg.key, 0) + over
            result.targets[leg.key] += over

    for leg in sorted(chosen, key=gap):
        if result.spent + leg.price * leg.lot <= funds:
            give(leg, 1)
    for leg in sorted(chosen, key=gap):
        lots = _lots(funds - result.spent, leg.price * leg.lot)
        if lots:
            give(leg, lots)


def _by_money(result: Allocation, free: list[Leg], remaining: Decimal, mode: str) -> None:
    active = list(free)
    if mode == WEIGHT:
        for leg in free:
            if not leg.weight or leg.weight <= 0:
                result.problems[leg.key] = "No weight: nothing bought."
        active = [leg for leg in free if leg.weight and leg.weight > 0]
    if mode == AMOUNT:
        for leg in free:
            if not leg.amount or leg.amount <= 0:
                result.problems[leg.key] = "No ₹ amount: nothing bought."
        active = [leg for leg in free if leg.amount and leg.amount > 0]
    while True:
        targets = _targets(active, remaining, mode)
        infeasible = [leg for leg in active if leg.price * leg.lot > targets[leg.key]]
        for leg in infeasible:
            unit = "lot" if leg.lot > 1 else "share"
            result.problems[leg.key] = (
                f"One {leg.label or leg.key} {unit} ({inr(leg.price * leg.lot)}) is more than "
                f"its share ({inr(targets[leg.key])}): nothing bought."
            )
            result.targets[leg.key] = targets[leg.key]
        if not infeasible or mode == AMOUNT:
            break
        active = [leg for leg in active if leg not in infeasible]
        if not active:
            break
    for leg in active:
        result.targets[leg.key] = targets[leg.key]
        if leg.key not in result.problems:
            lots = _lots(targets[leg.key], leg.price * leg.lot)
            result.quantities[leg.key] = lots * leg.lot


def _targets(active: list[Leg], remaining: Decimal, mode: str) -> dict:
    if not active:
        return {}
    if mode == EQUAL:
        share = remaining / len(active)
        return {leg.key: share for leg in active}
    if mode == WEIGHT:
        total = sum((leg.weight for leg in active), start=Decimal("0"))
        return {leg.key: remaining * leg.weight / total for leg in active}
    total = sum((leg.amount for leg in active), start=Decimal("0"))
    scale = min(Decimal("1"), remaining / total) if total else Decimal("0")
    return {leg.key: leg.amount * scale for leg in active}


def _by_quantity(result: Allocation, free: list[Leg], remaining: Decimal) -> None:
    wanted = {}
    for leg in free:
        quantity = (leg.quantity or 0) // leg.lot * leg.lot
        if not leg.quantity:
            result.problems[leg.key] = "No quantity: nothing bought."
        elif quantity != leg.quantity:
            result.problems[leg.key] = f"Rounded down to whole lots of {leg.lot}."
        wanted[leg.key] = quantity
    cost = sum((wanted[leg.key] * leg.price for leg in free), start=Decimal("0"))
    if cost > remaining:
        result.shortfall = cost - remaining
        scale = remaining / cost
        for leg in free:
            lots = _lots(wanted[leg.key] * scale * leg.price, leg.price * leg.lot)
            if lots * leg.lot < wanted[leg.key]:
                result.problems[leg.key] = (
                    f"Cut from {wanted[leg.key]} to {lots * leg.lot}: the quantities cost "
                    f"{inr(cost)}, more than the funds."
                )
            wanted[leg.key] = lots * leg.lot
    for leg in free:
        result.quantities[leg.key] = wanted[leg.key]
        result.targets[leg.key] = wanted[leg.key] * leg.price
