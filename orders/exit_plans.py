"""Exit plans: what a trader asks to protect an entry with, parsed and computed.

Pure: no Django models, no I/O. The forms, the webhook and a strategy's defaults
parse with `parse_plan`; `protection/` computes the legs' levels with
`stop_level` / `target_level` / `next_stop` when the entry fills.

The syntax (the same everywhere: queue form, trade-from-holding form, strategy
defaults, webhook `trade_details`):

- ``stop_loss`` and ``target``: a **price** (``812.5``), a **percent** of the
  average fill price (``2%``), or **points** from it (``15pts``, ``15 points``,
  ``15pt``). A percent or points value is a distance: the stop goes below the
  fill for a BUY entry (above it for a SELL, a short), the target the other way.
- ``trailing_stop``: the distance the stop keeps from the best price since the
  fill, as ``1.5%`` or ``10pts`` (a plain number means points: a trail has no
  price). The stop only ever tightens. Without a ``stop_loss`` the first stop is
  this distance from the fill.
- ``trail_activation``: trail only once the price has reached this level (a
  price, a percent or points in profit from the fill). Empty: trail at once.

Levels are rounded to the instrument's tick towards the fill (a stop no further
away than asked, a target no further than asked), so a broker never sees an
off-tick price; quantities are whole lots (`protectable`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from sigmatrader.formatting import inr

PRICE, PERCENT, POINTS = "price", "percent", "points"
MAX_VALUE = Decimal("1000000000")
FIELDS = ("stop_loss", "target", "trailing_stop", "trail_activation")
LABELS = {
    "stop_loss": "Stop-loss",
    "target": "Target",
    "trailing_stop": "Trailing stop",
    "trail_activation": "Trail from",
}
SYNTAX = 'a price (812.5), a percent of the fill ("2%") or points from it ("15pts")'
# A trailing stop is a distance, never a price.
DISTANCE_SYNTAX = 'a distance to trail by: a percent ("1%") or points ("10pts")'

# A number may carry a sign (a minus is then refused as "must be above 0", not as an
# unreadable value) and Indian or Western digit grouping ("1,000", "1,00,000.5").
_PATTERN = re.compile(
    r"^\s*(?P<sign>[-+])?\s*(?P<number>[0-9]+(?:,[0-9]+)*(?:\.[0-9]+)?|\.[0-9]+)\s*"
    r"(?P<unit>%|pts?|points?)?\s*$",
    re.IGNORECASE,
)


class ExitPlanError(ValueError):
    """A plan that cannot be used. `errors`: every offending part (as in FIELDS) with its
    message, in field order, so a form shows each at its field at once; `field` and
    `message` name the first part and say them all."""

    def __init__(self, field: str, message: str, *, errors: dict[str, str] | None = None):
        self.errors = dict(errors) if errors else {field: message}
        self.field = next(iter(self.errors))
        self.message = " ".join(self.errors.values())
        super().__init__(self.message)

    @classmethod
    def of(cls, errors: dict[str, str]) -> ExitPlanError:
        ordered = {name: errors[name] for name in FIELDS if name in errors}
        first = next(iter(ordered))
        return cls(first, ordered[first], errors=ordered)


@dataclass(frozen=True)
class Offset:
    kind: str  # PRICE / PERCENT / POINTS
    value: Decimal

    @property
    def text(self) -> str:
        number = format(self.value.normalize(), "f")
        return {PRICE: number, PERCENT: f"{number}%", POINTS: f"{number}pts"}[self.kind]


def parse_offset(text, *, field: str, distance_only: bool = False) -> Offset | None:
    """'' / None → None; '812.5' → price; '2%' → percent; '15pts' → points.

    `distance_only` (the trailing stop): a plain number is points."""
    syntax = DISTANCE_SYNTAX if distance_only else SYNTAX
    if text is None:
        return None
    if isinstance(text, bool) or not isinstance(text, str | int | float | Decimal):
        raise ExitPlanError(field, f"{LABELS[field]} must be {syntax}.")
    raw = str(text).strip()
    if not raw:
        return None
    match = _PATTERN.match(raw)
    if match is None:
        raise ExitPlanError(field, f"{LABELS[field]} {raw[:20]!r} is not {syntax}.")
    try:
        value = Decimal(match["number"].replace(",", ""))
        if match["sign"] == "-":
            value = -value
    except InvalidOperation:  # the pattern admits only digits; said, not assumed
        raise ExitPlanError(field, f"{LABELS[field]} must be {syntax}.") from None
    unit = (match["unit"] or "").lower()
    kind = PERCENT if unit == "%" else POINTS if unit.startswith("p") else PRICE
    if distance_only and kind == PRICE:
        kind = POINTS
    if value <= 0:
        raise ExitPlanError(field, f"{LABELS[field]} must be above 0.")
    if value > MAX_VALUE:
        raise ExitPlanError(field, f"{LABELS[field]} {raw[:20]} is too large to be a price.")
    if kind == PERCENT and value >= 100 and field in ("stop_loss", "trailing_stop"):
        raise ExitPlanError(field, f"{LABELS[field]} of {value}% would be at or below zero.")
    return Offset(kind, value)


@dataclass(frozen=True)
class Plan:
    stop_loss: Offset | None = None
    target: Offset | None = None
    trailing_stop: Offset | None = None
    trail_activation: Offset | None = None

    @property
    def texts(self) -> dict[str, str]:
        """The plan as stored (one text per field, '' for none)."""
        return {name: (getattr(self, name).text if getattr(self, name) else "") for name in FIELDS}

    @property
    def has_stop(self) -> bool:
        return self.stop_loss is not None or self.trailing_stop is not None

    @property
    def summary(self) -> str:
        parts = []
        if self.stop_loss:
            parts.append(f"SL {self.stop_loss.text}")
        if self.target:
            parts.append(f"target {self.target.text}")
        if self.trailing_stop:
            parts.append(
                f"trail {self.trailing_stop.text}"
                + (f" from {self.trail_activation.text}" if self.trail_activation else "")
            )
        return ", ".join(parts)


def parse_plan(
    *, stop_loss=None, target=None, trailing_stop=None, trail_activation=None
) -> Plan | None:
    """The plan from its four parts (each as typed); None when all are empty.

    Raises ExitPlanError naming every malformed part, and an activation without a
    trailing stop."""
    texts = {
        "stop_loss": stop_loss,
        "target": target,
        "trailing_stop": trailing_stop,
        "trail_activation": trail_activation,
    }
    parts: dict[str, Offset | None] = {}
    errors: dict[str, str] = {}
    for name, text in texts.items():
        try:
            parts[name] = parse_offset(text, field=name, distance_only=name == "trailing_stop")
        except ExitPlanError as exc:
            errors[name] = exc.message
    if parts.get("trail_activation") and "trailing_stop" in parts and not parts["trailing_stop"]:
        errors["trail_activation"] = "Trail from needs a trailing stop."
    if errors:
        raise ExitPlanError.of(errors)
    plan = Plan(**parts)
    if not (plan.stop_loss or plan.target or plan.trailing_stop):
        return None
    return plan


def check_against(
    plan: Plan, *, side: str, reference: Decimal | None, fields: tuple[str, ...] = FIELDS
) -> None:
    """Price levels on the wrong side of the entry's own price (a LIMIT entry's price,
    when known, or the fill) are refused: a BUY's stop below it, its target and the level
    it trails from above it; a trail in points as large as the price would put a long's
    stop at zero. `fields`: the parts to check (the Orders page checks a changed trail
    against the fill, not a stop the trader moved on purpose)."""
    errors = impossible_levels(plan, side=side, fields=fields)
    if reference is None or reference <= 0:
        if errors:
            raise ExitPlanError.of(errors)
        return
    long = side == "BUY"
    for name, below in (("stop_loss", long), ("target", not long), ("trail_activation", not long)):
        offset = getattr(plan, name)
        if name not in fields or offset is None or offset.kind != PRICE:
            continue
        wrong = offset.value >= reference if below else offset.value <= reference
        if wrong:
            where = "below" if below else "above"
            errors[name] = (
                f"{LABELS[name]} {offset.value} must be {where} the entry price {inr(reference)} "
                f"for a {side} entry."
            )
    trail = plan.trailing_stop
    if (
        trail is not None
        and "trailing_stop" in fields
        and trail.kind == POINTS
        and long
        and trail.value >= reference
    ):
        errors["trailing_stop"] = (
            f"{LABELS['trailing_stop']} {trail.text} is as large as the entry price "
            f"{inr(reference)}: the stop would be at or below zero."
        )
    if errors:
        raise ExitPlanError.of(errors)


def impossible_levels(plan: Plan, *, side: str, fields: tuple[str, ...] = FIELDS) -> dict:
    """Levels no fill price can make real: a short's (SELL entry's) target or trail start
    100 % or more below its fill would be at or below zero (a long's stop is refused
    when parsed)."""
    errors: dict[str, str] = {}
    if side != "SELL":
        return errors
    for name in ("target", "trail_activation"):
        offset = getattr(plan, name)
        if name in fields and offset is not None and offset.kind == PERCENT and offset.value >= 100:
            errors[name] = (
                f"{LABELS[name]} of {offset.value}% below a SELL entry's fill would be at "
                "or below zero."
            )
    return errors


def check_entry(plan: Plan | None, *, side: str, product: str) -> None:
    """A delivery (CNC) SELL closes a holding: there is no entry to protect."""
    if plan is not None and side == "SELL" and product == "CNC":
        raise ExitPlanError(
            "stop_loss",
            "A delivery (CNC) sale closes a holding: an exit plan protects an entry "
            "(a BUY, or an intraday / carry-forward SELL).",
        )


# --- Levels from the fill ------------------------------------------------------------------


def _distance(offset: Offset, base: Decimal) -> Decimal:
    return base * offset.value / 100 if offset.kind == PERCENT else offset.value


def round_tick(value: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    """`value` on the tick grid, rounded up or down (never an off-tick price)."""
    if tick is None or tick <= 0:
        return value
    steps = (value / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return (steps * tick).normalize() if steps * tick != 0 else Decimal(0)


def stop_level(offset: Offset, *, fill: Decimal, side: str, tick: Decimal) -> Decimal:
    """The stop's trigger for an entry `side` filled at `fill`: below a BUY, above a
    SELL; rounded towards the fill (never more loss than asked)."""
    long = side == "BUY"
    if offset.kind == PRICE:
        raw = offset.value
    else:
        raw = fill - _distance(offset, fill) if long else fill + _distance(offset, fill)
    return _positive(round_tick(raw, tick, up=long), tick)


def target_level(offset: Offset, *, fill: Decimal, side: str, tick: Decimal) -> Decimal:
    """The target's trigger: above a BUY's fill, below a SELL's; rounded towards the fill."""
    long = side == "BUY"
    if offset.kind == PRICE:
        raw = offset.value
    else:
        raw = fill + _distance(offset, fill) if long else fill - _distance(offset, fill)
    return _positive(round_tick(raw, tick, up=not long), tick)


def activation_level(offset: Offset, *, fill: Decimal, side: str, tick: Decimal) -> Decimal:
    """Where trailing starts: like a target (in profit from the fill)."""
    return target_level(offset, fill=fill, side=side, tick=tick)


def _positive(value: Decimal, tick: Decimal) -> Decimal:
    floor = tick if tick and tick > 0 else Decimal("0.01")
    return value if value > 0 else floor


def initial_stop(plan: Plan, *, fill: Decimal, side: str, tick: Decimal) -> Decimal | None:
    if plan.stop_loss:
        return stop_level(plan.stop_loss, fill=fill, side=side, tick=tick)
    if plan.trailing_stop:
        return stop_level(plan.trailing_stop, fill=fill, side=side, tick=tick)
    return None


def better(side: str, price: Decimal, best: Decimal | None) -> Decimal:
    """The best price seen since the fill: the highest for a long, the lowest for a short."""
    if best is None:
        return price
    return max(price, best) if side == "BUY" else min(price, best)


def next_stop(
    *,
    plan: Plan,
    side: str,
    fill: Decimal,
    best: Decimal,
    current: Decimal,
    tick: Decimal,
) -> Decimal:
    """The trailed stop: `best` less the trail distance (more for a short), once the
    activation level was reached; never looser than `current`."""
    trail = plan.trailing_stop
    if trail is None:
        return current
    long = side == "BUY"
    if plan.trail_activation is not None:
        start = activation_level(plan.trail_activation, fill=fill, side=side, tick=tick)
        if (long and best < start) or (not long and best > start):
            return current
    distance = _distance(trail, best)
    raw = best - distance if long else best + distance
    # Rounded away from the market: the trail keeps at least its distance.
    candidate = _positive(round_tick(raw, tick, up=not long), tick)
    return max(current, candidate) if long else min(current, candidate)


def tighter(side: str, new: Decimal, old: Decimal | None) -> bool:
    if old is None:
        return True
    return new > old if side == "BUY" else new < old


def protectable(filled: int, lot: int) -> int:
    """The filled quantity in whole lots (what exit orders may carry)."""
    lot = max(int(lot or 1), 1)
    return (max(int(filled or 0), 0) // lot) * lot


def exit_side(entry_side: str) -> str:
    return "SELL" if entry_side == "BUY" else "BUY"


# The conditions of an exit's legs (Order.Condition's values): a long's stop fires at or
# below its level and its target at or above; a short's the other way round.
AT_OR_BELOW, AT_OR_ABOVE = "ltp_lte", "ltp_gte"


def stop_condition(entry_side: str) -> str:
    return AT_OR_BELOW if entry_side == "BUY" else AT_OR_ABOVE


def target_condition(entry_side: str) -> str:
    return AT_OR_ABOVE if entry_side == "BUY" else AT_OR_BELOW
