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
    peer.settle()
    holding = {h.instrument.symbol: h for h in connected.holdings()}[peer.ref("SBIN").symbol]
    assert holding.quantity == 3 and holding.t1_quantity == 3
    assert holding.average_price == Decimal("800")
    trades = [t for t in connected.trades() if t.broker_order_id == order_id]
    assert trades and trades[0].quantity == 3 and trades[0].side is Side.BUY


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
    started = time.monotonic()
    for _ in range(limit.requests + 1):
        connected.quotes([peer.ref("SBIN")])
    # The extra call waited for the next window (about a window's length), and none failed.
    assert time.monotonic() - started >= limit.per_seconds - 0.05
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
