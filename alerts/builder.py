"""The form builder: common conditions, picked from a list, written out as an
expression in the grammar of expressions.py (so both paths run the same code).

A clause is {"kind": ..., "value": number, "period": n, "slow": n, "ma": "sma"|"ema"};
clauses join with AND or OR.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .expressions import MAX_PERIOD

# kind: (label, needs value, needs period, needs slow period, template)
KINDS = {
    "price_above": ("Price ≥", True, False, False, "close >= {value}"),
    "price_below": ("Price ≤", True, False, False, "close <= {value}"),
    "cross_above": ("Price crosses above", True, False, False, "crosses_above(close, {value})"),
    "cross_below": ("Price crosses below", True, False, False, "crosses_below(close, {value})"),
    "change_above": ("% change from previous close ≥", True, False, False, "change_pct >= {value}"),
    "change_below": ("% change from previous close ≤", True, False, False, "change_pct <= {value}"),
    "avg_above": ("% from holding's average price ≥", True, False, False, "pnl_pct >= {value}"),
    "avg_below": ("% from holding's average price ≤", True, False, False, "pnl_pct <= {value}"),
    "new_high": ("New N-day high", False, True, False, "close > prev(highest(high, {period}))"),
    "new_low": ("New N-day low", False, True, False, "close < prev(lowest(low, {period}))"),
    "ma_cross_up": (
        "Fast MA crosses above slow MA",
        False,
        True,
        True,
        "crosses_above({ma}(close, {period}), {ma}(close, {slow}))",
    ),
    "ma_cross_down": (
        "Fast MA crosses below slow MA",
        False,
        True,
        True,
        "crosses_below({ma}(close, {period}), {ma}(close, {slow}))",
    ),
    "rsi_above": ("RSI(N) above", True, True, False, "rsi(close, {period}) > {value}"),
    "rsi_below": ("RSI(N) below", True, True, False, "rsi(close, {period}) < {value}"),
    "price_over_ma": ("Price above its MA(N)", False, True, False, "close > {ma}(close, {period})"),
    "price_under_ma": (
        "Price below its MA(N)",
        False,
        True,
        False,
        "close < {ma}(close, {period})",
    ),
    "volume_over_avg": (
        "Volume ≥ value × its N-day average",
        True,
        True,
        False,
        "volume >= {value} * sma(volume, {period})",
    ),
}
HOLDING_KINDS = ("avg_above", "avg_below")
PRICE_KINDS = ("price_above", "price_below", "cross_above", "cross_below")
CHOICES = [(kind, spec[0]) for kind, spec in KINDS.items()]


class BuilderError(ValueError):
    def __init__(self, message: str, index: int | None = None):
        self.message = message
        self.index = index
        super().__init__(message)


def _number(raw, what: str, index: int) -> str:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise BuilderError(f"Condition {index + 1}: {what} must be a number.", index) from None
    if not value.is_finite() or abs(value) > Decimal("1e12"):
        raise BuilderError(f"Condition {index + 1}: {what} is out of range.", index)
    text = format(value.normalize(), "f")
    return f"({text})" if text.startswith("-") else text


def _period(raw, what: str, index: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise BuilderError(
            f"Condition {index + 1}: {what} must be a whole number.", index
        ) from None
    if not 1 <= value <= MAX_PERIOD:
        raise BuilderError(f"Condition {index + 1}: {what} must be 1 to {MAX_PERIOD}.", index)
    return value


def clause_text(clause: dict, index: int = 0) -> str:
    kind = clause.get("kind")
    if kind not in KINDS:
        raise BuilderError(f"Condition {index + 1}: choose what to check.", index)
    _label, needs_value, needs_period, needs_slow, template = KINDS[kind]
    parts: dict = {"ma": "ema" if clause.get("ma") == "ema" else "sma"}
    if needs_value:
        parts["value"] = _number(clause.get("value", ""), "the value", index)
        if kind in PRICE_KINDS and Decimal(parts["value"].strip("()")) <= 0:
            raise BuilderError(
                f"Condition {index + 1}: a price is above 0; enter the price to watch for.",
                index,
            )
    if needs_period:
        parts["period"] = _period(clause.get("period", ""), "the period", index)
    if needs_slow:
        parts["slow"] = _period(clause.get("slow", ""), "the slow period", index)
        if parts["slow"] <= parts["period"]:
            raise BuilderError(
                f"Condition {index + 1}: the slow period must be longer than the fast one.", index
            )
    return template.format(**parts)


def to_expression(clauses: list[dict], join: str = "and") -> str:
    """The expression for the clauses; BuilderError naming the clause when one is wrong."""
    if not clauses:
        raise BuilderError("Add at least one condition.")
    joiner = " or " if join == "or" else " and "
    texts = [clause_text(clause, i) for i, clause in enumerate(clauses)]
    if len(texts) == 1:
        return texts[0]
    return joiner.join(f"({t})" if " and " in t or " or " in t else t for t in texts)
