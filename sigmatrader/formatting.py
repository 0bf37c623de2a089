"""Plain formatting helpers for pages, messages and engines: numbers the Indian
way (₹1,58,210.50, lakh/crore digit grouping) and short durations.

The template filters (`|inr`, `|inr_number`, `|pnl_class`, in
sigmatrader/templatetags/money.py) are thin wrappers over these.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import numberformat

# Group the last three digits, then pairs: 12,34,56,789.
INDIAN_GROUPING = (3, 2, 0)


def _as_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(7)}
_FAST_LIMIT = Decimal("1e15")


def _group_indian(digits: str) -> str:
    """ "12345678" -> "1,23,45,678" (the last three digits, then pairs)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.append(head[-2:])
        head = head[:-2]
    pairs.append(head)
    return ",".join(reversed(pairs)) + "," + tail


def format_indian(value, decimal_pos: int | None = 2) -> str:
    # Pages print thousands of these (holdings, queue): ordinary amounts take a plain
    # string path; anything unusual (no rounding asked, huge, NaN) takes Django's
    # numberformat, which the fast path matches exactly (tests/site/test_money.py).
    plain_int = isinstance(value, int) and not isinstance(value, bool)
    if plain_int and decimal_pos == 0 and abs(value) < 10**15:
        text = _group_indian(str(abs(value)))
        return "-" + text if value < 0 else text
    number = _as_decimal(value)
    if number is None:
        return ""
    if decimal_pos is not None:
        # numberformat truncates; money rounds half-up (2500.125 -> 2,500.13).
        quantum = _QUANTUM.get(decimal_pos) or Decimal(1).scaleb(-decimal_pos)
        number = number.quantize(quantum, rounding=ROUND_HALF_UP)
        if number.is_finite() and abs(number) < _FAST_LIMIT:
            text = str(number)  # quantized: plain notation, exactly decimal_pos places
            sign = ""
            if text.startswith("-"):
                text = text[1:]
                sign = "-" if number else ""  # numberformat prints no "-0.00"
            whole, _, fraction = text.partition(".")
            return sign + _group_indian(whole) + ("." + fraction if fraction else "")
    return numberformat.format(
        number,
        ".",
        decimal_pos=decimal_pos,
        grouping=INDIAN_GROUPING,
        thousand_sep=",",
        force_grouping=True,
    )


def inr(value, decimal_pos=2):
    """`1234567.5|inr` -> `₹12,34,567.50`; negatives as `-₹…`; blanks stay blank."""
    text = format_indian(value, int(decimal_pos))
    if not text:
        return ""
    if text.startswith("-"):
        return f"-₹{text[1:]}"
    return f"₹{text}"


def inr_tick(value, tick=None) -> str:
    """A price as money: 2 decimals, or the tick's when it is finer (a 0.0025 tick: 4).
    `inr_tick(Decimal("796.1500"), Decimal("0.05"))` -> `₹796.15`."""
    places = 2
    step = _as_decimal(tick)
    if step is not None and step.is_finite() and step > 0:
        places = max(places, -int(step.normalize().as_tuple().exponent))
    return inr(value, min(places, 6))


def inr_number(value, decimal_pos=0):
    """`158210|inr_number` -> `1,58,210` (counts, quantities)."""
    return format_indian(value, int(decimal_pos))


def pnl_class(value) -> str:
    """ "profit" above zero, "loss" below, "" (neutral) at zero or when unknown."""
    number = _as_decimal(value)
    if number is None or number == 0:
        return ""
    return "profit" if number > 0 else "loss"


def human_seconds(seconds: int) -> str:
    """600 -> "10 min", 7200 -> "2 h", 45 -> "45 s"."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def counted(number: int, noun: str, plural: str = "") -> str:
    """1 -> "1 order", 2 -> "2 orders" (`plural` when it is not noun + "s")."""
    return f"{number:,} {noun if number == 1 else (plural or noun + 's')}"


def join_words(parts) -> str:
    """Plain English: "a", "a and b", "a, b and c" (empty parts left out)."""
    words = [p for p in parts if p]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
