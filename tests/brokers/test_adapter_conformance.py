"""The adapter conformance suite: every registered adapter, against its peer.

A broker is "done" when it passes this module. Each test runs once per adapter
in settings.SIGMATRADER_BROKERS, against its peer (tests/brokers/peers/<name>.py), with
the real client library talking HTTP to the emulator.
"""

import time
from dataclasses import replace
from decimal import Decimal

import pytest
from django.conf import settings

from brokers import registry
from brokers.base import (
    AuthExpired,
    BrokerUnavailable,
    GttKind,
    InstrumentRef,
    NotSupported,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    OutcomeUnknown,
    Product,
    RateLimited,
    Side,
    Validity,
)
from emulator import Fault
from tests.brokers.peers import has_peer, new_peer


def registered_with_peers():
    names = [cls.name for cls in registry.load(list(settings.SIGMATRADER_BROKERS)).values()]
    missing = [n for n in names if not has_peer(n)]
    assert not missing, f"adapters without a conformance peer: {missing}"
    return names


@pytest.fixture(params=registered_with_peers())
def peer(request, emulator, db, settings):
    settings.MARKET_ALWAYS_OPEN = True  # the emulated exchange trades at any hour; so does paper
    return new_peer(request.param, emulator)


def remote_only(peer) -> None:
    """Faults and limits injected at the broker's server: a simulated broker has none."""
    if not peer.remote:
        pytest.skip(f"{peer.broker} is simulated: no remote server to inject faults into")


@pytest.fixture
def connected(peer):
    adapter, session = peer.connect()
    return adapter


def order(
    peer,
    symbol="SBIN",
    *,
    side=Side.BUY,
    order_type=OrderType.MARKET,
    price=None,
    quantity=1,
    tag="T1",
    product=Product.CNC,
):
    return OrderRequest(
        instrument=peer.ref(symbol),
        side=side,
        quantity=quantity,
        order_type=order_type,
        product=product,
        tag=tag,
        price=price,
    )


# --- Declaration ------------------------------------------------


def test_adapter_declares_itself(peer):
    cls = peer.adapter_class
    registry.validate_adapter(cls)
    caps = cls.capabilities
    assert caps.products and caps.order_types and caps.exchanges and caps.quote_batch_size >= 1
    for endpoint_class in ("orders", "quotes", "other"):
        assert caps.rate_limits.get(endpoint_class), (
            f"{cls.name} declares no {endpoint_class} limit"
        )
    assert all(f.name and f.label for f in cls.credential_fields)


# --- Session ------------------------------------------------


def test_connect_gives_a_session_that_expires_in_the_future(peer):
    adapter, session = peer.connect()
    assert session.data
    if peer.remote:
        assert session.expires_at is not None and session.expires_at.timestamp() > time.time()
    else:  # a simulated session lasts until it is disconnected
        assert session.expires_at is None
    assert adapter.profile().broker_user_id == session.broker_user_id


def test_refresh_renews_or_says_not_supported(connected):
    if connected.capabilities.session_refresh:
        renewed = connected.refresh()
        assert renewed.data and renewed.data != connected.session
        connected.session = dict(renewed.data)
        assert connected.funds().available_cash > 0  # the new session works
    else:
        with pytest.raises(NotSupported):
            connected.refresh()


def test_disconnect_ends_the_session_at_the_broker(connected):
    connected.disconnect()
    with pytest.raises(AuthExpired):
        connected.funds()


# --- Reads ------------------------------------------------


def test_profile_and_funds(connected, peer):
    profile = connected.profile()
    assert profile.name == peer.user.name
    funds = connected.funds()
    assert funds.available_cash == Decimal("500000") and funds.used_margin == 0
    assert isinstance(funds.net, Decimal)


def test_quotes_in_one_batch(connected, peer):
    refs = [peer.ref("SBIN"), peer.ref("INFY"), peer.ref("TCS")]
    quotes = connected.quotes(refs)
    assert set(quotes) == set(refs)
    for ref, quote in quotes.items():
        assert isinstance(quote.last_price, Decimal) and quote.last_price > 0
        assert quote.symbol == ref.symbol


def test_quotes_past_one_batch_are_split_within_the_brokers_limit(connected, peer):
    """More instruments than one call takes: split into batches the broker accepts (Kite
    refuses past 500 in the emulator, as long URLs fail at the real one)."""
    size = connected.capabilities.quote_batch_size
    known = [peer.ref("SBIN"), peer.ref("INFY")]
    filler = [
        InstrumentRef("NSE", f"NOSUCH{n}", str(990_000 + n)) for n in range(min(size, 600) + 1)
    ]
    quotes = connected.quotes([*filler, *known])
    assert set(known) <= set(quotes)


def test_place_limit_then_cancel_with_statuses_mapped(connected, peer):
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    order_id = connected.place_order(
        order(peer, "INFY", order_type=OrderType.LIMIT, price=Decimal("1400"), tag="LIM1")
    )
    mine = {o.broker_order_id: o for o in connected.order_book()}[order_id]
    assert mine.status is OrderStatus.OPEN and mine.tag == "LIM1"
    assert mine.price == Decimal("1400") and mine.order_type is OrderType.LIMIT
    connected.cancel_order(order_id, variety=mine.variety)
    mine = {o.broker_order_id: o for o in connected.order_book()}[order_id]
    assert mine.status is OrderStatus.CANCELLED


def test_declared_validities_and_disclosed_quantity_are_accepted(connected, peer):
    """What the order form offers from the capabilities, the adapter must place."""
    caps = connected.capabilities
    assert Validity.DAY in caps.validities
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    base = order(peer, "INFY", order_type=OrderType.LIMIT, price=Decimal("1400"), quantity=10)
    for n, validity in enumerate(sorted(caps.validities)):
        extra = {"disclosed_quantity": 2} if caps.disclosed_quantity else {}
        request = replace(base, validity=validity, tag=f"VAL{n}", **extra)
        order_id = connected.place_order(request)
        mine = {o.broker_order_id: o for o in connected.order_book()}[order_id]
        assert mine.tag == f"VAL{n}" and mine.quantity == 10


def test_market_order_fills_and_lands_in_holdings_and_positions(connected, peer):
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order_id = connected.place_order(order(peer, "SBIN", quantity=3, tag="MKT1"))
    mine = {o.broker_order_id: o for o in connected.order_book()}[order_id]
    assert mine.status is OrderStatus.EXECUTED
    assert mine.filled_quantity == 3 and mine.average_price == Decimal("800")
    position = {p.instrument.symbol: p for p in connected.positions()}[peer.ref("SBIN").symbol]
    assert position.quantity == 3 and position.product is Product.CNC
    # Today's delivery buy is a position only; it becomes a T1 holding when the day
    # rolls over (the emulator's `settle`, the paper book's next day).
    assert peer.ref("SBIN").symbol not in {h.instrument.symbol for h in connected.holdings()}
    trades = [t for t in connected.trades() if t.broker_order_id == order_id]
    assert trades and trades[0].quantity == 3 and trades[0].side is Side.BUY
    peer.settle()
    holding = {h.instrument.symbol: h for h in connected.holdings()}[peer.ref("SBIN").symbol]
    assert holding.quantity == 3 and holding.t1_quantity == 3
    assert holding.average_price == Decimal("800")


def test_tag_round_trip(connected, peer):
    tag = "ST9X2K4P0QZ"
    order_id = connected.place_order(order(peer, "ITC", tag=tag))
    assert {o.tag: o.broker_order_id for o in connected.order_book()}[tag] == order_id


def test_rejected_by_the_exchange_shows_in_the_book(connected, peer):
    peer.server.state.market.set_price("NSE", "TCS", "4000")
    order_id = connected.place_order(order(peer, "TCS", quantity=1000, tag="BIG1"))
    mine = {o.broker_order_id: o for o in connected.order_book()}[order_id]
    assert mine.status is OrderStatus.REJECTED and "Insufficient funds" in mine.status_message


# --- Errors ------------------------------------------------


def test_expired_token_is_auth_expired(connected, peer):
    remote_only(peer)
    peer.server.state.expire_sessions(peer.user)
    with pytest.raises(AuthExpired):
        connected.funds()


def test_injected_expired_token_is_auth_expired(connected, peer):
    remote_only(peer)
    peer.server.state.inject(peer.wire, "funds", Fault("expired_token"))
    with pytest.raises(AuthExpired):
        connected.funds()


def test_rate_limited_by_the_broker_retries_then_raises(connected, peer):
    remote_only(peer)
    peer.server.state.inject(peer.wire, "funds", Fault("rate_limit", times=5))
    with pytest.raises(RateLimited):
        connected.funds()
    assert peer.server.state.count(peer.wire, "funds") == 1 + settings.BROKER_READ_RETRIES


def test_a_read_recovers_after_one_server_error(connected, peer):
    remote_only(peer)
    peer.server.state.inject(peer.wire, "funds", Fault("server_error", status=503))
    assert connected.funds().available_cash == Decimal("500000")


@pytest.mark.parametrize("kind", ["server_error", "bad_gateway", "timeout"])
def test_reads_that_keep_failing_are_broker_unavailable(connected, peer, kind):
    remote_only(peer)
    peer.server.state.inject(peer.wire, "funds", Fault(kind, times=5, seconds=2.0))
    with pytest.raises(BrokerUnavailable):
        connected.funds()


def test_unknown_symbol_is_order_rejected(connected, peer):
    from brokers.base import InstrumentRef

    bad = OrderRequest(
        instrument=InstrumentRef("NSE", "NOSUCHSYMBOL", "999999999"),
        side=Side.BUY,
        quantity=1,
        order_type=OrderType.MARKET,
        product=Product.CNC,
        tag="BAD1",
    )
    with pytest.raises(OrderRejected):
        connected.place_order(bad)


def test_order_accepted_but_answer_lost_is_outcome_unknown_and_findable_by_tag(connected, peer):
    remote_only(peer)
    peer.server.state.inject(peer.wire, "place", Fault("drop_after_accept", seconds=2.5))
    with pytest.raises(OutcomeUnknown):
        connected.place_order(order(peer, "WIPRO", tag="LOST1"))
    # Placement is never retried: the emulator saw exactly one request...
    assert peer.server.state.count(peer.wire, "place") == 1
    # ...and reconciling by tag finds the order that was in fact placed.
    found = [o for o in connected.order_book() if o.tag == "LOST1"]
    assert len(found) == 1 and found[0].status is OrderStatus.EXECUTED


def test_server_error_on_placement_is_outcome_unknown_not_retried(connected, peer):
    remote_only(peer)
    peer.server.state.inject(peer.wire, "place", Fault("server_error", status=500))
    with pytest.raises(OutcomeUnknown):
        connected.place_order(order(peer, "ONGC", tag="ERR1"))
    assert peer.server.state.count(peer.wire, "place") == 1


def test_broker_down_before_sending_is_broker_unavailable(peer, settings):
    adapter, _ = peer.connect()
    settings.KITE_API_ROOT = settings.SMARTAPI_API_ROOT = "http://127.0.0.1:9"  # nothing listens
    with pytest.raises(BrokerUnavailable):
        adapter.place_order(order(peer, "NTPC", tag="DOWN1"))


# --- Rate limits ------------------------------------------------


def test_own_rate_limit_is_honoured_before_the_broker_sees_a_request(connected, peer, settings):
    remote_only(peer)
    quotes_limit = min(
        connected.capabilities.rate_limits["quotes"], key=lambda limit: limit.per_seconds
    )
    settings.BROKER_RATE_LIMIT_MAX_WAIT = 0
    # Start at the beginning of a window so the burst cannot straddle two.
    time.sleep(quotes_limit.per_seconds - (time.time() % quotes_limit.per_seconds) + 0.01)
    before = peer.server.state.count(peer.wire, "quote")
    with pytest.raises(RateLimited):
        for _ in range(quotes_limit.requests + 1):
            connected.quotes([peer.ref("SBIN")])
    assert peer.server.state.count(peer.wire, "quote") - before == quotes_limit.requests


def test_callers_wait_for_the_next_window_instead_of_failing(connected, peer, settings):
    remote_only(peer)
    limit = min(connected.capabilities.rate_limits["quotes"], key=lambda item: item.per_seconds)
    settings.BROKER_RATE_LIMIT_MAX_WAIT = limit.per_seconds + 1
    time.sleep(limit.per_seconds - (time.time() % limit.per_seconds) + 0.01)
    before = peer.server.state.count(peer.wire, "quote")
    started = time.time()
    for _ in range(limit.requests + 1):
        connected.quotes([peer.ref("SBIN")])
    # None failed, and the extra call ran in a later window than the first. (Not
    # "waited a window's length": on a loaded machine the first call can start
    # late in its window, and the wait is then shorter.)
    window = limit.per_seconds
    assert time.time() // window > started // window
    assert peer.server.state.count(peer.wire, "quote") - before == limit.requests + 1


# --- Instrument master ----------------------------------------------------------------


def test_instrument_master_streams_normalised_rows(connected, peer):
    rows = list(connected.instrument_master())
    assert len(rows) > 2000
    market = peer.server.state.market
    option = next(i for i in market.instruments.values() if i.instrument_type == "CE")
    row = next(r for r in rows if r.token == peer.token_of(option))
    # Strikes and tick sizes in rupees, whatever unit the broker's master uses.
    assert row.strike == option.strike and row.tick_size == Decimal("0.05")
    assert row.instrument_type == "CE" and row.lot_size == 75 and row.expiry == option.expiry
    index = next(r for r in rows if r.instrument_type == "INDEX")
    assert index.exchange == "NSE"
    equity = next(r for r in rows if r.token == peer.token_of(market.get("NSE", "SBIN")))
    assert equity.instrument_type == "EQ" and equity.lot_size == 1


# --- History ----------------------------------------------------------------------------


def test_candles_for_every_declared_interval_shape(connected, peer):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    caps = connected.capabilities
    if not caps.history_intervals:
        with pytest.raises(NotSupported):
            connected.candles(
                peer.ref("SBIN"), interval="1d", start=datetime.now(), end=datetime.now()
            )
        return
    assert set(caps.history_intervals) <= set(caps.history_max_days)
    ist = ZoneInfo("Asia/Kolkata")
    end = datetime(2026, 11, 20, 15, 30, tzinfo=ist)  # a Friday
    daily = connected.candles(
        peer.ref("SBIN"), interval="1d", start=end - timedelta(days=13), end=end
    )
    assert len(daily) == 10  # two trading weeks
    assert [c.at for c in daily] == sorted(c.at for c in daily)
    for candle in daily:
        assert (
            candle.low
            <= min(candle.open, candle.close)
            <= max(candle.open, candle.close)
            <= candle.high
        )
        assert isinstance(candle.close, Decimal) and candle.at.tzinfo is not None
    minutes = connected.candles(
        peer.ref("SBIN"),
        interval="5m",
        start=end.replace(hour=9, minute=15),
        end=end.replace(hour=10, minute=14),
    )
    assert len(minutes) == 12
    with pytest.raises(NotSupported):
        connected.candles(peer.ref("SBIN"), interval="7m", start=end, end=end)


# --- Changing an armed GTT (modify_gtt) --------------------------------------------


def test_a_marketable_limit_fills_at_the_market_price_not_its_limit(connected, peer):
    """As at an exchange, a BUY LIMIT above the market takes the price on offer:
    a protective exit's LIMIT set beyond its trigger must not fill at that worse limit."""
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order_id = connected.place_order(
        order(peer, "SBIN", order_type=OrderType.LIMIT, price=Decimal("808"), tag="MLIM1")
    )
    mine = {o.broker_order_id: o for o in connected.order_book()}[order_id]
    assert mine.status is OrderStatus.EXECUTED and mine.average_price == Decimal("800")


def gtt_leg(peer, price, *, symbol="SBIN", quantity=5, side=Side.SELL):
    return order(
        peer,
        symbol,
        side=side,
        order_type=OrderType.LIMIT,
        price=Decimal(price),
        quantity=quantity,
        tag="",
    )


def arm_gtt(adapter, peer, kind, triggers, prices, *, last_price="800"):
    """A GTT armed on SBIN at `triggers` with SELL LIMIT legs at `prices`; its id."""
    return adapter.create_gtt(
        kind=kind,
        instrument=peer.ref("SBIN"),
        trigger_values=[Decimal(v) for v in triggers],
        last_price=Decimal(last_price),
        legs=[gtt_leg(peer, p) for p in prices],
    )


def modify(adapter, peer, gtt_id, kind, triggers, prices, *, last_price="800"):
    adapter.modify_gtt(
        gtt_id,
        kind=kind,
        instrument=peer.ref("SBIN"),
        trigger_values=[Decimal(v) for v in triggers],
        last_price=Decimal(last_price),
        legs=[gtt_leg(peer, p) for p in prices],
    )


def gtt_by_id(adapter, gtt_id):
    return {g.gtt_id: g for g in adapter.list_gtts()}[gtt_id]


@pytest.fixture
def gtt_modifier(connected, peer):
    """A connected adapter that declares gtt_modify, SBIN at 800 on the emulator."""
    if not connected.capabilities.gtt_modify:
        pytest.skip(f"{peer.broker} does not declare gtt_modify")
    assert connected.capabilities.gtt_oco, "gtt_modify without OCO GTTs is not covered here"
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    return connected


def test_modify_gtt_without_the_capability_is_not_supported(connected, peer):
    if connected.capabilities.gtt_modify:
        pytest.skip(f"{peer.broker} declares gtt_modify (covered by the tests below)")
    with pytest.raises(NotSupported):
        modify(connected, peer, "12345", GttKind.OCO, ["760", "860"], ["759", "861"])


def test_modify_gtt_moves_an_armed_oco_in_place(gtt_modifier, peer):
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.OCO, ["760", "860"], ["759", "861"])
    before = len(gtt_modifier.list_gtts())
    modify(
        gtt_modifier, peer, gtt_id, GttKind.OCO, ["780", "880"], ["779.5", "881"], last_price="805"
    )
    gtts = gtt_modifier.list_gtts()
    assert len(gtts) == before  # changed in place, not a second GTT
    gtt = gtt_by_id(gtt_modifier, gtt_id)
    assert gtt.status == "active" and gtt.kind is GttKind.OCO
    assert gtt.trigger_values == (Decimal("780"), Decimal("880"))
    assert [leg.price for leg in gtt.legs] == [Decimal("779.5"), Decimal("881")]
    assert [leg.quantity for leg in gtt.legs] == [5, 5]
    assert gtt.last_price == Decimal("805")
    # The broker acts on the new stop: 775 would not have met the old 760.
    peer.server.state.market.set_price("NSE", "SBIN", "775")
    fired = gtt_by_id(gtt_modifier, gtt_id)
    assert fired.status == "triggered"
    assert fired.triggered_order_ids[0] and not fired.triggered_order_ids[1]


def test_modify_gtt_moves_an_armed_single_in_place(gtt_modifier, peer):
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.SINGLE, ["760"], ["759"])
    modify(gtt_modifier, peer, gtt_id, GttKind.SINGLE, ["770.05"], ["769.95"])
    gtt = gtt_by_id(gtt_modifier, gtt_id)
    assert gtt.status == "active" and gtt.kind is GttKind.SINGLE
    assert gtt.trigger_values == (Decimal("770.05"),)
    assert [leg.price for leg in gtt.legs] == [Decimal("769.95")]


def test_modify_gtt_that_fired_is_rejected_and_left_as_it_was(gtt_modifier, peer):
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.SINGLE, ["760"], ["759"])
    peer.server.state.market.set_price("NSE", "SBIN", "755")  # the stop is met: it fires
    with pytest.raises(OrderRejected):
        modify(gtt_modifier, peer, gtt_id, GttKind.SINGLE, ["740"], ["739"])
    gtt = gtt_by_id(gtt_modifier, gtt_id)
    assert gtt.status == "triggered" and gtt.trigger_values == (Decimal("760"),)


def test_modify_gtt_that_was_cancelled_is_rejected(gtt_modifier, peer):
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.OCO, ["760", "860"], ["759", "861"])
    gtt_modifier.cancel_gtt(gtt_id)
    with pytest.raises(OrderRejected):
        modify(gtt_modifier, peer, gtt_id, GttKind.OCO, ["780", "880"], ["779", "881"])
    gtt = gtt_by_id(gtt_modifier, gtt_id)
    assert gtt.status == "cancelled" and gtt.trigger_values == (Decimal("760"), Decimal("860"))


@pytest.mark.parametrize("gtt_id", ["99999999", "no-such-gtt"])
def test_modify_gtt_unknown_id_is_rejected(gtt_modifier, peer, gtt_id):
    with pytest.raises(OrderRejected):
        modify(gtt_modifier, peer, gtt_id, GttKind.SINGLE, ["760"], ["759"])


@pytest.mark.parametrize("bad", ["one_trigger", "unknown_symbol", "no_price"])
def test_modify_gtt_with_values_the_broker_refuses_changes_nothing(gtt_modifier, peer, bad):
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.OCO, ["760", "860"], ["759", "861"])
    legs = [gtt_leg(peer, "779"), gtt_leg(peer, "881")]
    change = {
        "kind": GttKind.OCO,
        "instrument": peer.ref("SBIN"),
        "trigger_values": [Decimal("780"), Decimal("880")],
        "last_price": Decimal("800"),
        "legs": legs,
    }
    if bad == "one_trigger":  # an OCO has two triggers and two legs
        change.update(trigger_values=[Decimal("780")], legs=legs[:1])
    elif bad == "unknown_symbol":
        change.update(instrument=InstrumentRef("NSE", "NOSUCHSYMBOL", "999999999"))
    else:  # GTT legs are LIMIT orders with a price
        change.update(legs=[replace(legs[0], price=None), legs[1]])
    with pytest.raises(OrderRejected):
        gtt_modifier.modify_gtt(gtt_id, **change)
    gtt = gtt_by_id(gtt_modifier, gtt_id)
    assert gtt.status == "active" and gtt.trigger_values == (Decimal("760"), Decimal("860"))
    assert [leg.price for leg in gtt.legs] == [Decimal("759"), Decimal("861")]


@pytest.mark.parametrize("kind", ["drop_after_accept", "server_error"])
def test_modify_gtt_without_a_clear_answer_is_outcome_unknown_not_retried(gtt_modifier, peer, kind):
    remote_only(peer)
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.SINGLE, ["760"], ["759"])
    peer.server.state.inject(peer.wire, "gtt_modify", Fault(kind, seconds=2.5))
    before = peer.server.state.count(peer.wire, "gtt_modify")
    with pytest.raises(OutcomeUnknown):
        modify(gtt_modifier, peer, gtt_id, GttKind.SINGLE, ["770"], ["769"])
    assert peer.server.state.count(peer.wire, "gtt_modify") - before == 1
    # The GTT list answers what happened: changed when the broker did the work.
    changed = kind == "drop_after_accept"
    expected = Decimal("770") if changed else Decimal("760")
    assert gtt_by_id(gtt_modifier, gtt_id).trigger_values == (expected,)


def test_modify_gtt_with_the_broker_down_is_broker_unavailable(gtt_modifier, peer, settings):
    gtt_id = arm_gtt(gtt_modifier, peer, GttKind.SINGLE, ["760"], ["759"])
    settings.KITE_API_ROOT = settings.SMARTAPI_API_ROOT = "http://127.0.0.1:9"  # nothing listens
    with pytest.raises(BrokerUnavailable):
        modify(gtt_modifier, peer, gtt_id, GttKind.SINGLE, ["770"], ["769"])


def test_smartapi_portfolio_limits_count_per_endpoint(emulator, settings):
    """SmartAPI allows getHolding 1/s and getPosition 1/s each: holdings then
    positions within one second must not wait, a second holdings call must."""
    from tests.brokers.peers.angelone import smart_peer

    adapter, _ = smart_peer(emulator).connect()
    settings.BROKER_RATE_LIMIT_MAX_WAIT = 0
    time.sleep(1 - (time.time() % 1) + 0.01)  # the start of a window
    adapter.holdings()
    adapter.positions()  # another endpoint: its own window
    adapter.order_book()
    with pytest.raises(RateLimited):
        adapter.holdings()
