"""The condition grammar: what it accepts, where it points when it refuses, and that
nothing typed into it ever runs."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from alerts import expressions
from alerts.builder import BuilderError, to_expression
from alerts.expressions import ExpressionError, Frame, NoData, evaluate, parse


def frame(closes, **kwargs):
    bars = {
        "close": list(closes),
        "open": list(closes),
        "high": [c + 1 for c in closes],
        "low": [c - 1 for c in closes],
        "volume": [1000.0] * len(closes),
    }
    return Frame(bars=bars, **kwargs)


@pytest.mark.parametrize(
    "text",
    [
        "close > 100",
        "close >= sma(close, 20) and rsi(14) < 30",
        "crosses_above(ema(close, 9), ema(close, 21)) or change_pct <= -3",
        "not (volume < 2 * sma(volume, 20))",
        "pnl_pct >= 15 and day_pnl_pct < 0 and qty > 0 and avg_price < close",
        "atr(14) / close * 100 > 2.5",
        "close > prev(highest(high, 20))",
        "abs(change_pct) >= 4",
        "100 < close < 200",
    ],
)
def test_valid_conditions_compile(text):
    compiled = parse(text)
    assert compiled.text == text


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("close >", 8, "ends too soon"),
        ("close > > 2", 9, "not a valid condition"),
        ("close $ 2", 7, "not a valid condition"),
        ("close > 1 and", 14, "ends too soon"),
        ("close > foo", 9, "Unknown name 'foo'"),
        ("close > smaa(close, 3)", 9, "Unknown function 'smaa'"),
        ("sma(close, 0) > 1", 12, "period"),
        ("sma(close, 2.5) > 1", 12, "period"),
        ("sma(rsi(14), 3) > 1", 5, "first argument"),
        ("sma(close) > 1", 1, "sma takes"),
        ("sma(close, n=3) > 1", 12, "by position"),
        ("close ** 2 > 1", 1, "Only + - * /"),
        ("close + 1", 1, "true or false"),
        ("close > 1 and 5", 15, "true/false condition"),
        ("(close > 1) + 2 > 1", 2, "A number is needed"),
        ("close > 'abc'", 9, "Only numbers"),
        ("close.real > 1", 1, "not allowed"),
        ("close[0] > 1", 1, "not allowed"),
        ("   close > bar", 12, "Unknown name 'bar'"),
    ],
)
def test_invalid_conditions_point_at_the_column(text, column, words):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.column == column, caught.value
    assert words in caught.value.message


HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w').write('x') > 0",
    "(lambda: open('{marker}', 'w'))() > 0",
    "[c for c in ().__class__.__bases__[0].__subclasses__()] > 0",
    "exec(\"open('{marker}', 'w')\") > 0",
    "eval(\"open('{marker}', 'w')\") > 0",
    "close if open('{marker}', 'w') else close > 0",
    "close > 1; open('{marker}', 'w')",
    "close > 1\nopen('{marker}', 'w')",
    "(yield 1) > 0",
    "9**9**9**9 > 1",
    'f\'{{open("{marker}", "w")}}\' > 0',
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_input_is_refused_and_never_runs(template, tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ExpressionError):
        parse(template.format(marker=marker))
    assert not marker.exists()


def test_deep_nesting_and_huge_input_are_refused_cheaply():
    with pytest.raises(ExpressionError, match="nested too deeply|too many nested"):
        parse("(" * 400 + "close > 1" + ")" * 400)
    with pytest.raises(ExpressionError, match="nested too deeply|too many nested|too long"):
        parse("-" * 900 + "close > 1")
    with pytest.raises(ExpressionError, match="longer than"):
        parse("close > 1 and " * 200 + "close > 1")
    with pytest.raises(ExpressionError, match="too long"):
        parse(" and ".join(["close > 1"] * 60))


def test_the_evaluator_never_calls_python_eval_or_exec():
    source = Path(expressions.__file__).read_text(encoding="utf-8")
    for banned in ("eval(", "exec(", "compile("):
        assert f" {banned}" not in source.replace("_eval(", "")


def test_evaluation_reads_indicators_and_records_the_values():
    compiled = parse("close > sma(close, 3) and rsi(close, 2) > 50")
    f = frame([10, 11, 12, 13])
    assert evaluate(compiled, f) is True
    assert f.values["close"] == 13
    assert f.values["sma(close, 3)"] == pytest.approx(12)
    assert f.values["rsi(close, 2)"] == 100.0


def test_too_little_history_is_no_data_not_false():
    with pytest.raises(NoData, match="not enough history for sma"):
        evaluate(parse("close > sma(close, 20)"), frame([1, 2, 3]))


def test_change_pct_uses_the_previous_close():
    assert evaluate(parse("change_pct >= 10"), frame([100, 110], prev_close=None))
    assert not evaluate(parse("change_pct >= 10"), frame([100, 110], prev_close=105.0))


def test_a_crossing_without_state_compares_with_the_bar_before():
    compiled = parse("crosses_above(close, 100)")
    assert evaluate(compiled, frame([99, 101]))
    assert not evaluate(compiled, frame([101, 102]))
    assert not evaluate(compiled, frame([100, 100]))
    assert evaluate(parse("crosses_below(close, 100)"), frame([101, 99]))


def test_a_crossing_with_state_compares_with_the_last_evaluation():
    compiled = parse("close > 0 or crosses_above(close, 100)")
    key = compiled.crossings[0]
    first = frame([101], previous={})
    assert evaluate(compiled, first)  # the left side holds…
    assert first.now[key] == [101, 100]  # …and the crossing still kept its values
    only_cross = parse("crosses_above(close, 100)")
    key = only_cross.crossings[0]
    assert not evaluate(only_cross, frame([101], previous={}))  # nothing to cross from
    assert evaluate(only_cross, frame([101], previous={key: [99.5, 100]}))
    assert not evaluate(only_cross, frame([101], previous={key: [100.5, 100]}))


def test_new_high_excludes_the_current_bar():
    compiled = parse("close > prev(highest(high, 3))")
    f = Frame(bars={"close": [10, 11, 12, 14], "high": [10, 11, 13, 14]})
    assert evaluate(compiled, f)  # 14 > max(10, 11, 13)
    f = Frame(bars={"close": [10, 11, 12, 12.5], "high": [10, 11, 13, 14]})
    assert not evaluate(compiled, f)


def test_holding_fields_need_a_holding():
    with pytest.raises(NoData, match="holdings target"):
        evaluate(parse("pnl_pct > 5"), frame([1]))
    assert evaluate(parse("pnl_pct > 5"), frame([1], holding={"pnl_pct": 6.0}))


def test_division_by_zero_is_no_data():
    with pytest.raises(NoData):
        evaluate(parse("close / (close - close) > 1"), frame([1]))


def test_every_builder_condition_compiles_through_the_same_grammar():
    from alerts.builder import KINDS

    for kind in KINDS:
        text = to_expression([{"kind": kind, "value": "2.5", "period": "10", "slow": "30"}])
        assert parse(text).text == text


def test_the_builder_joins_with_and_or_and_names_the_bad_clause():
    text = to_expression(
        [
            {"kind": "price_above", "value": "100"},
            {"kind": "rsi_below", "value": "30", "period": "14"},
        ],
        join="or",
    )
    assert text == "close >= 100 or rsi(close, 14) < 30"
    with pytest.raises(BuilderError) as caught:
        to_expression([{"kind": "price_above", "value": "1"}, {"kind": "rsi_below", "value": "x"}])
    assert caught.value.index == 1 and "Condition 2" in caught.value.message
    with pytest.raises(BuilderError, match="slow period must be longer"):
        to_expression([{"kind": "ma_cross_up", "period": "50", "slow": "20"}])
    with pytest.raises(BuilderError, match="out of range|number"):
        to_expression([{"kind": "price_above", "value": "1e400"}])
    with pytest.raises(BuilderError, match="out of range"):
        to_expression([{"kind": "price_above", "value": "nan"}])


ATOMS = ["close", "open", "high", "low", "volume", "price", "change_pct", "1", "0", "-2.5"]
ATOMS += ["sma(close, 3)", "ema(close, 2)", "rsi(2)", "atr(2)", "prev(close)", "abs(close)"]
ATOMS += ["highest(high, 2)", "crosses_above(close, 1)", "not", "and", "or", "(", ")", ">", "<"]
ATOMS += ["/", "*", "+", "-", "==", ",", "pnl_pct", "qty", "__import__", ".", "'x'", "[0]"]


@hsettings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(st.sampled_from(ATOMS), max_size=12).map(" ".join),
    ),
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=0, max_size=6),
)
def test_any_text_is_refused_cleanly_or_evaluates_to_a_boolean(text, closes):
    try:
        compiled = parse(text)
    except ExpressionError as exc:
        assert exc.message
        return
    bars = {name: list(closes) for name in ("open", "high", "low", "close", "volume")}
    try:
        result = evaluate(compiled, Frame(bars=bars, holding={"pnl_pct": 1.0, "qty": 2.0}))
    except NoData:
        return
    assert isinstance(result, bool)
