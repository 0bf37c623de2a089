"""The basket allocator: never over the funds, whole lots, locked legs untouched."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from watchlists.allocation import (
    AMOUNT,
    EQUAL,
    MODES,
    QUANTITY,
    WEIGHT,
    Leg,
    allocate,
    locked_quantity,
)

D = Decimal

prices = st.decimals(min_value=D("0.05"), max_value=D("150000"), places=2)
legs_strategy = st.lists(
    st.builds(
        Leg,
        key=st.uuids(),
        price=st.one_of(st.none(), prices),
        lot=st.sampled_from([1, 1, 1, 15, 25, 50, 75]),
        weight=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)),
        amount=st.one_of(st.none(), st.decimals(min_value=0, max_value=500000, places=2)),
        quantity=st.one_of(st.none(), st.integers(min_value=0, max_value=5000)),
        locked=st.booleans(),
    ),
    max_size=25,
    unique_by=lambda leg: leg.key,
)
funds_strategy = st.decimals(min_value=0, max_value=D("10000000"), places=2)


@settings(max_examples=300, deadline=None)
@given(funds=funds_strategy, legs=legs_strategy, mode=st.sampled_from(MODES))
def test_properties(funds, legs, mode):
    result = allocate(funds=funds, legs=legs, mode=mode)
    locked_cost = sum(
        (locked_quantity(leg, mode) * leg.price for leg in legs if leg.locked and leg.price),
        start=D("0"),
    )
    free_cost = sum(
        (result.quantities[leg.key] * leg.price for leg in legs if not leg.locked and leg.price),
        start=D("0"),
    )
    # Never over the funds (what is not locked spends at most what the locked legs leave).
    assert free_cost <= max(D("0"), funds - locked_cost)
    if locked_cost <= funds:
        assert result.spent <= funds and not result.locked_over
    else:
        assert result.locked_over and result.shortfall == locked_cost - funds
    for leg in legs:
        quantity = result.quantities[leg.key]
        assert quantity >= 0
        if leg.locked and leg.price and leg.price > 0:
            assert quantity == locked_quantity(leg, mode)  # locked: untouched
        else:
            assert quantity % leg.lot == 0  # whole lots
        if quantity == 0 and not leg.locked:
            assert leg.key in result.problems or funds - locked_cost < (leg.price or 0) * leg.lot
    assert result.spent == sum(
        (result.quantities[leg.key] * leg.price for leg in legs if leg.price and leg.price > 0),
        start=D("0"),
    )
    for leg in legs:
        value = result.quantities[leg.key] * (leg.price or 0)
        if not leg.locked and value and mode in (EQUAL, WEIGHT):
            # Never above its share; what the leftover added to the share is said.
            assert value <= result.targets[leg.key]
            base = result.targets[leg.key] - result.from_leftover.get(leg.key, 0)
            assert value <= base or result.from_leftover[leg.key] == value - base
    bought = [leg for leg in legs if not leg.locked and result.quantities[leg.key] and leg.price]
    if mode in (EQUAL, WEIGHT) and bought and locked_cost <= funds:
        # The leftover is redistributed: what is left cannot buy another lot of any of them.
        assert result.leftover < min(leg.price * leg.lot for leg in bought)


@settings(max_examples=200, deadline=None)
@given(
    funds=funds_strategy,
    legs=st.lists(
        st.builds(Leg, key=st.uuids(), price=prices, lot=st.sampled_from([1, 25])),
        min_size=1,
        max_size=15,
        unique_by=lambda leg: leg.key,
    ),
)
def test_equal_mode_buys_every_affordable_leg_at_least_once(funds, legs):
    result = allocate(funds=funds, legs=legs, mode=EQUAL)
    for leg in legs:
        if result.quantities[leg.key] == 0:
            assert "is more than its share" in result.problems[leg.key]


def legs(*rows, **common):
    return [Leg(key=k, label=k, price=D(p), **common) for k, p in rows]


def test_mrf_is_more_than_its_share_and_its_share_goes_to_the_others():
    result = allocate(
        funds=D("100000"),
        legs=legs(("MRF", "125000"), ("SBIN", "800"), ("INFY", "1500")),
        mode=EQUAL,
    )
    # 50,000 each for the other two: 62 SBIN and 33 INFY, then the leftover (900) buys
    # one more SBIN.
    assert result.quantities == {"MRF": 0, "SBIN": 63, "INFY": 33}
    assert result.problems["MRF"] == (
        "One MRF share (₹1,25,000.00) is more than its share (₹33,333.33): nothing bought."
    )
    assert result.spent == D("99900") and result.leftover == D("100")
    assert result.spent <= result.funds


def test_weights_and_locks():
    basket = [
        Leg("A", D("100"), weight=D("75"), label="A"),
        Leg("B", D("100"), weight=D("25"), label="B"),
        Leg("C", D("1000"), quantity=3, locked=True, label="C"),
    ]
    result = allocate(funds=D("13000"), legs=basket, mode=WEIGHT)
    # 3,000 locked; 10,000 shared 75/25.
    assert result.quantities == {"A": 75, "B": 25, "C": 3}
    assert result.leftover == 0


def test_lots_and_leftover():
    basket = [Leg("NIFTY", D("100"), lot=75, label="NIFTY FUT"), Leg("X", D("10"), label="X")]
    result = allocate(funds=D("20000"), legs=basket, mode=EQUAL)
    assert result.quantities["NIFTY"] % 75 == 0
    assert result.quantities == {"NIFTY": 75, "X": 1250}
    assert result.spent == D("20000")


def test_amounts_scaled_to_the_funds_and_quantities_cut():
    basket = [
        Leg("A", D("10"), amount=D("6000"), quantity=700),
        Leg("B", D("10"), amount=D("6000"), quantity=500),
    ]
    result = allocate(funds=D("10000"), legs=basket, mode=AMOUNT)
    assert result.quantities == {"A": 500, "B": 500}
    result = allocate(funds=D("10000"), legs=basket, mode=QUANTITY)
    assert sum(result.quantities.values()) * 10 <= 10000
    assert result.shortfall == D("2000")
    assert "Cut from 700" in result.problems["A"]


def test_locked_legs_beyond_the_funds_are_a_shortfall():
    basket = [Leg("A", D("100"), quantity=200, locked=True), Leg("B", D("10"))]
    result = allocate(funds=D("5000"), legs=basket, mode=EQUAL)
    assert result.quantities == {"A": 200, "B": 0}
    assert result.shortfall == D("15000")
    assert "Locked members cost" in result.problems["B"]


def test_no_price_no_weight():
    basket = [Leg("A", None), Leg("B", D("10"), weight=None), Leg("C", D("10"), weight=D("1"))]
    result = allocate(funds=D("100"), legs=basket, mode=WEIGHT)
    assert result.quantities == {"A": 0, "B": 0, "C": 10}
    assert result.problems["A"] == "No price: nothing bought."
    assert result.problems["B"] == "No weight: nothing bought."


def test_locked_members_count_against_the_funds():
    tcs = Leg(key="TCS", price=D("3974.80"), quantity=3, amount=D("8000"), locked=True)
    infy = Leg(key="INFY", price=D("1500"))
    result = allocate(funds=D("100"), legs=[tcs, infy], mode=EQUAL)
    assert result.locked_over and result.shortfall == D("11824.40")
    assert result.quantities == {"TCS": 3, "INFY": 0}
    # In amount mode the lock keeps the ₹ amount: two TCS (7,949.60) for ₹8,000.
    result = allocate(funds=D("20000"), legs=[tcs, infy], mode=AMOUNT)
    assert result.quantities["TCS"] == 2 and not result.locked_over


def test_no_member_is_above_its_share_and_the_leftover_is_said():
    infy = Leg(key="INFY", price=D("1581.05"))
    sbin = Leg(key="SBIN", price=D("801.20"))
    result = allocate(funds=D("50000"), legs=[infy, sbin], mode=EQUAL)
    for leg in (infy, sbin):
        value = result.quantities[leg.key] * leg.price
        base = D("25000")
        assert value <= result.targets[leg.key]
        # Floored within the ₹25,000 share; anything beyond came from the leftover, said.
        assert result.targets[leg.key] == base + result.from_leftover.get(leg.key, 0)
    assert result.from_leftover  # the leftover went somewhere, and it is named
