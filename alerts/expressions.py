"""The alert condition language: a small, safe grammar parsed to our own tree.

    close > sma(close, 20) and rsi(14) < 30
    crosses_above(ema(close, 9), ema(close, 21)) or change_pct <= -3
    pnl_pct >= 15 and not (day_pnl_pct < 0)

Python's own parser reads the text (`ast.parse(mode="eval")`, which evaluates
nothing); every node is then checked against a whitelist and turned into plain
tuples. Anything else — attributes, subscripts, lambdas, names or functions not
listed below, strings, `**` — is refused with the column it starts at. The tree
is evaluated by `evaluate` below with our own code: nothing the user types is
ever executed. Limits on the text's length and the tree's size keep a hostile
expression cheap to refuse.

Grammar (Python's precedence):
    expr     := or ; or := and ("or" and)* ; and := not ("and" not)*
    not      := "not" not | compare ; compare := sum (op sum)*   op: > >= < <= == !=
    sum      := term (("+"|"-") term)* ; term := unary (("*"|"/") unary)*
    unary    := "-" unary | atom ; atom := number | field | call | "(" expr ")"
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

MAX_LENGTH = 1000
MAX_NODES = 300
MAX_PERIOD = 500

SERIES = ("close", "open", "high", "low", "volume")
# Scalars: `price`/`ltp` are the latest price (the current bar's close);
# `change_pct` from the previous close; holdings fields need a holdings target.
SCALARS = ("price", "ltp", "prev_close", "change_pct")
HOLDING_FIELDS = ("pnl_pct", "day_pnl_pct", "qty", "avg_price")
FIELDS = SERIES + SCALARS + HOLDING_FIELDS

# name: (argument kinds, required count); "series" = a price field, "n" = a whole
# period, "num" = any number expression.
FUNCTIONS = {
    "sma": (("series", "n"), 2),
    "ema": (("series", "n"), 2),
    "rsi": (("series", "n"), 1),  # rsi(14) or rsi(close, 14)
    "atr": (("n",), 1),
    "highest": (("series", "n"), 2),
    "lowest": (("series", "n"), 2),
    "prev": (("num", "n"), 1),  # prev(x) = x a bar ago; prev(x, 3) three bars ago
    "abs": (("num",), 1),
    "crosses_above": (("num", "num"), 2),
    "crosses_below": (("num", "num"), 2),
}
BOOLEAN_FUNCTIONS = ("crosses_above", "crosses_below")
COMPARE = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class ExpressionError(ValueError):
    """A refused expression; `column` is 1-based (None when it is about the whole text)."""

    def __init__(self, message: str, column: int | None = None):
        self.message = message
        self.column = column
        super().__init__(f"{message} (column {column})" if column else message)


@dataclass
class Compiled:
    """A checked expression: `tree` (plain tuples), what it needs to be evaluated."""

    text: str
    tree: tuple
    lookback: int = 1  # bars the deepest indicator needs
    needs_candles: bool = False
    uses_holding: bool = False
    crossings: list[str] = field(default_factory=list)


def parse(text: str) -> Compiled:
    """Check `text` and compile it; ExpressionError (with its column) when refused."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("Enter a condition.")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"The condition is longer than {MAX_LENGTH} characters.")
    if "\n" in text or "\r" in text:
        raise ExpressionError("Write the condition on one line.")
    try:
        node = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        indent = len(text) - len(text.lstrip())
        end = len(text.strip()) + 1
        if not exc.offset or exc.lineno != 1:  # ran out of text
            raise ExpressionError("The condition ends too soon", end + indent) from None
        column = min(exc.offset, end) + indent
        raise ExpressionError(f"This is not a valid condition: {_syntax(exc)}", column) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("The condition is nested too deeply.") from None
    if sum(1 for _ in ast.walk(node)) > MAX_NODES:
        raise ExpressionError("The condition is too long: split it into simpler rules.")
    compiler = _Compiler(indent=len(text) - len(text.lstrip()))
    tree, kind = compiler.node(node.body)
    if kind != "bool":
        raise ExpressionError(
            "The condition must be true or false: compare it, e.g. close > 100.", 1
        )
    return Compiled(
        text=text.strip(),
        tree=tree,
        lookback=compiler.lookback,
        needs_candles=compiler.needs_candles,
        uses_holding=compiler.uses_holding,
        crossings=compiler.crossings,
    )


def _syntax(exc: SyntaxError) -> str:
    message = (exc.msg or "invalid syntax").replace("invalid syntax", "unexpected text")
    return message.split(" (")[0]


PRICES = ("close", "open", "high", "low", "price", "ltp", "prev_close", "avg_price")


def _constant(tree: tuple) -> float | None:
    """The value of a literal number (or its negation), else None."""
    if tree[0] == "num":
        return tree[1]
    if tree[0] == "neg":
        inner = _constant(tree[1])
        return None if inner is None else -inner
    return None


class _Compiler:
    def __init__(self, indent: int):
        self.indent = indent
        self.lookback = 1
        self.needs_candles = False
        self.uses_holding = False
        self.crossings: list[str] = []

    def fail(self, message: str, node: ast.AST):
        raise ExpressionError(message, getattr(node, "col_offset", 0) + 1 + self.indent)

    def number(self, node: ast.AST):
        tree, kind = self.node(node)
        if kind != "num":
            self.fail("A number is needed here, not a true/false condition.", node)
        return tree

    def condition(self, node: ast.AST):
        tree, kind = self.node(node)
        if kind != "bool":
            self.fail("A true/false condition is needed here (compare it).", node)
        return tree

    def node(self, node: ast.AST) -> tuple[tuple, str]:
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return (op, tuple(self.condition(v) for v in node.values)), "bool"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ("not", self.condition(node.operand)), "bool"
            if isinstance(node.op, ast.USub):
                return ("neg", self.number(node.operand)), "num"
            if isinstance(node.op, ast.UAdd):
                return self.number(node.operand), "num"
        if isinstance(node, ast.BinOp):
            op = ARITHMETIC.get(type(node.op))
            if op is None:
                self.fail("Only + - * / are allowed.", node)
            left, right = self.number(node.left), self.number(node.right)
            if op == "/" and _constant(right) == 0:
                self.fail("Division by zero: divide by something that is never 0.", node.right)
            return ("bin", op, left, right), "num"
        if isinstance(node, ast.Compare):
            parts = []
            left = node.left
            for op_node, right in zip(node.ops, node.comparators, strict=True):
                op = COMPARE.get(type(op_node))
                if op is None:
                    self.fail("Compare with > >= < <= == or !=.", right)
                a, b = self.number(left), self.number(right)
                for price, bound in ((a, b), (b, a)):
                    value = _constant(bound)
                    negative = value is not None and value < 0
                    if negative and price[0] == "field" and price[1] in PRICES:
                        self.fail(
                            f"A price is never below 0: comparing {price[1]} with "
                            f"{value:g} is always the same.",
                            right if bound is b else left,
                        )
                parts.append(("cmp", op, a, b))
                left = right
            return (parts[0] if len(parts) == 1 else ("and", tuple(parts))), "bool"
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                self.fail("Only numbers are allowed here.", node)
            return ("num", float(node.value)), "num"
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                self.fail(f"{node.id} is a function: write {node.id}(…).", node)
            if node.id not in FIELDS:
                self.fail(f"Unknown name {node.id!r}; known: {', '.join(FIELDS)}.", node)
            if node.id in HOLDING_FIELDS:
                self.uses_holding = True
            if node.id in ("open", "high", "low", "volume", "prev_close"):
                self.needs_candles = True
            return ("field", node.id), "num"
        if isinstance(node, ast.Call):
            return self.call(node)
        self.fail("This is not allowed in a condition.", node)
        raise AssertionError  # unreachable

    def call(self, node: ast.Call) -> tuple[tuple, str]:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            self.fail(
                f"Unknown function {name!r}; known: {', '.join(FUNCTIONS)}."
                if name
                else "Only the listed functions may be called.",
                node,
            )
        if node.keywords:
            self.fail("Give the arguments by position, e.g. sma(close, 20).", node.keywords[0])
        kinds, required = FUNCTIONS[name]
        args = list(node.args)
        if name == "rsi" and len(args) == 1:
            args = [ast.Name(id="close", col_offset=node.col_offset), args[0]]
        if not (required <= len(args) <= len(kinds)) or (name == "rsi" and len(args) != 2):
            self.fail(f"{name} takes {_arity(name)}.", node)
        out = []
        for kind, arg in zip(kinds, args, strict=False):
            if kind == "series":
                if not (isinstance(arg, ast.Name) and arg.id in SERIES):
                    self.fail(f"{name}'s first argument is one of {', '.join(SERIES)}.", arg)
                out.append(arg.id)
            elif kind == "n":
                if not (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, int)
                    and not isinstance(arg.value, bool)
                    and 1 <= arg.value <= MAX_PERIOD
                ):
                    self.fail(f"The period is a whole number from 1 to {MAX_PERIOD}.", arg)
                out.append(arg.value)
            else:
                out.append(self.number(arg))
        if name != "abs" and name not in BOOLEAN_FUNCTIONS:
            self.needs_candles = True
        if name in ("sma", "highest", "lowest"):
            self.lookback = max(self.lookback, out[1])
        elif name in ("ema", "rsi"):
            self.lookback = max(self.lookback, out[1] * 4 + 1)  # EMA/Wilder converge
        elif name == "atr":
            self.lookback = max(self.lookback, out[0] * 4 + 1)
        elif name == "prev":
            out = [out[0], out[1] if len(out) > 1 else 1]
            self.lookback += out[1]
        if name in BOOLEAN_FUNCTIONS:
            key = f"{name}@{node.col_offset + 1 + self.indent}"
            self.crossings.append(key)
            return ("cross", name, out[0], out[1], key), "bool"
        return ("call", name, *out), "num"


def _arity(name: str) -> str:
    return {
        "sma": "(field, period), e.g. sma(close, 20)",
        "ema": "(field, period), e.g. ema(close, 9)",
        "rsi": "(period) or (field, period), e.g. rsi(14)",
        "atr": "(period), e.g. atr(14)",
        "highest": "(field, period), e.g. highest(high, 20)",
        "lowest": "(field, period), e.g. lowest(low, 20)",
        "prev": "(value) or (value, bars), e.g. prev(close, 1)",
        "abs": "(value)",
        "crosses_above": "(a, b), e.g. crosses_above(close, sma(close, 50))",
        "crosses_below": "(a, b), e.g. crosses_below(close, 100)",
    }[name]


# --- Evaluation ------------------------------------------------------------------------------


class NoData(Exception):
    """Not enough data to evaluate: the rule does not fire and says why."""


@dataclass
class Frame:
    """What one symbol is evaluated against.

    `bars`: {"open"|"high"|"low"|"close"|"volume": floats, oldest first}; the last
    element is the bar now (for price-tick rules, today's bar with the live price as
    its close). `prev_close`: the previous session's close when known. `holding`:
    {pnl_pct, day_pnl_pct, qty, avg_price} for a holdings target. `previous`: the
    crossings' operands at the last evaluation (rule and symbol state); None means
    "compare with the bar before" (the screener, the would-fire test).
    """

    bars: dict[str, list[float]]
    prev_close: float | None = None
    holding: dict[str, float] | None = None
    previous: dict[str, list[float]] | None = None
    now: dict[str, list[float]] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict)

    def series(self, name: str) -> list[float]:
        found = self.bars.get(name) or []
        if not found:
            raise NoData("no price" if name == "close" else f"no {name} data")
        return found


def evaluate(compiled: Compiled, frame: Frame) -> bool:
    """True when the condition holds now; NoData when something it needs is missing.
    `frame.values` gets each named value it read (for the event), `frame.now` the
    crossings' operands to keep for the next evaluation."""
    return bool(_eval(compiled.tree, frame, 0))


def _at(values: list, offset: int, what: str):
    index = len(values) - 1 - offset
    if index < 0 or values[index] is None:
        raise NoData(f"not enough history for {what}: {len(values)} bars stored")
    return values[index]


def _indicator(frame: Frame, name: str, series: str, n: int) -> list:
    from . import indicators

    key = (name, series, n)
    found = frame._memo.get(key)
    if found is None:
        if name == "atr":
            found = indicators.atr(
                frame.series("high"), frame.series("low"), frame.series("close"), n
            )
        else:
            found = getattr(indicators, name)(frame.series(series), n)
        frame._memo[key] = found
    return found


def _eval(tree: tuple, frame: Frame, offset: int):  # noqa: C901 - one branch per node kind
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "field":
        name = tree[1]
        value = _field(frame, name, offset)
        if offset == 0:
            frame.values[name] = value
        return value
    if kind == "neg":
        return -_eval(tree[1], frame, offset)
    if kind == "bin":
        left, right = _eval(tree[2], frame, offset), _eval(tree[3], frame, offset)
        if tree[1] == "+":
            return left + right
        if tree[1] == "-":
            return left - right
        if tree[1] == "*":
            return left * right
        if right == 0:
            raise NoData("a division by zero (its divisor is 0 now): not evaluable until it is not")
        return left / right
    if kind == "cmp":
        left, right = _eval(tree[2], frame, offset), _eval(tree[3], frame, offset)
        return {
            ">": left > right,
            ">=": left >= right,
            "<": left < right,
            "<=": left <= right,
            "==": left == right,
            "!=": left != right,
        }[tree[1]]
    if kind in ("and", "or"):
        # Every part, no short cut: each crossing must see (and keep) its values each time.
        parts = [_eval(part, frame, offset) for part in tree[1]]
        return all(parts) if kind == "and" else any(parts)
    if kind == "not":
        return not _eval(tree[1], frame, offset)
    if kind == "cross":
        return _cross(tree, frame, offset)
    if kind == "call":
        return _call(tree, frame, offset)
    raise NoData(f"unknown node {kind}")  # a tree from an older version: never fires


def _field(frame: Frame, name: str, offset: int) -> float:
    if name in SERIES:
        return _at(frame.series(name), offset, name)
    if name in ("price", "ltp"):
        return _at(frame.series("close"), offset, name)
    if name in ("prev_close", "change_pct"):
        closes = frame.series("close")
        if offset == 0 and frame.prev_close:
            before = frame.prev_close
        else:
            before = _at(closes, offset + 1, "the previous close")
        if name == "prev_close":
            return before
        if not before:
            raise NoData("no previous close")
        return (_at(closes, offset, "close") - before) / before * 100.0
    if frame.holding is None or name not in frame.holding:
        raise NoData(f"{name} needs a holdings target")
    return frame.holding[name]


def _call(tree: tuple, frame: Frame, offset: int) -> float:
    name = tree[1]
    if name == "abs":
        return abs(_eval(tree[2], frame, offset))
    if name == "prev":
        return _eval(tree[2], frame, offset + tree[3])
    if name == "atr":
        label = f"atr({tree[2]})"
        value = _at(_indicator(frame, "atr", "", tree[2]), offset, label)
    else:
        label = f"{name}({tree[2]}, {tree[3]})"
        value = _at(_indicator(frame, name, tree[2], tree[3]), offset, label)
    if offset == 0:
        frame.values[label] = value
    return value


def _cross(tree: tuple, frame: Frame, offset: int) -> bool:
    _, name, left, right, key = tree
    a, b = _eval(left, frame, offset), _eval(right, frame, offset)
    if frame.previous is not None and offset == 0:
        frame.now[key] = [a, b]
        before = frame.previous.get(key)
        if not before:
            return False  # the first look: nothing to cross from yet
        pa, pb = before
    else:
        try:
            pa, pb = _eval(left, frame, offset + 1), _eval(right, frame, offset + 1)
        except NoData as exc:
            raise NoData(f"{name} compares with the bar before, which is missing ({exc})") from None
    if name == "crosses_above":
        return pa <= pb and a > b
    return pa >= pb and a < b
