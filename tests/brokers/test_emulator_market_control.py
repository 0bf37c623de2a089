"""The emulator's market control page (the demo's way to move a price): a price
walked through a GTT's stop fires it at once and the stop leg fills at the market,
not at its worse limit; bad input is answered with a message, not a 500."""

from decimal import Decimal

import requests

from brokers.base import GttKind, OrderRequest, OrderType, Product, Side
from brokers.connections import adapter_for
from tests.brokers.peers import connected_account


def test_a_price_moved_through_a_stop_fires_the_gtt_and_fills_at_the_market(emulator, user):
    account, peer = connected_account(emulator, user, "zerodha", "main")
    adapter = adapter_for(account)
    state = emulator.state
    state.market.set_price("NSE", "SBIN", "800")
    adapter.place_order(
        OrderRequest(
            instrument=peer.ref("SBIN"),
            side=Side.BUY,
            quantity=5,
            order_type=OrderType.MARKET,
            product=Product.CNC,
            tag="ENTRY",
        )
    )

    def leg(price):
        return OrderRequest(
            instrument=peer.ref("SBIN"),
            side=Side.SELL,
            quantity=5,
            order_type=OrderType.LIMIT,
            product=Product.CNC,
            price=Decimal(price),
            tag="",
        )

    gtt_id = adapter.create_gtt(
        kind=GttKind.OCO,
        instrument=peer.ref("SBIN"),
        trigger_values=[Decimal("780"), Decimal("840")],
        last_price=Decimal("800"),
        legs=[leg("772.20"), leg("840")],  # the stop's limit 1 % beyond its trigger
    )
    page = requests.get(f"{emulator.url}/_market", timeout=5)
    assert page.status_code == 200 and "Move the price" in page.text

    moved = requests.post(
        f"{emulator.url}/_market/price",
        data={"symbol": "sbin", "price": "779", "hold": "on"},
        timeout=5,
    )
    assert moved.status_code == 200 and "NSE:SBIN is now 779" in moved.text
    assert state.market.peek(state.market.get("NSE", "SBIN")) == Decimal("779")
    [fired] = [g for g in adapter.list_gtts() if g.gtt_id == gtt_id]
    assert fired.status == "triggered"
    stop_order = {o.broker_order_id: o for o in adapter.order_book()}[fired.triggered_order_ids[0]]
    assert stop_order.average_price == Decimal("779")  # the market, not the 772.20 limit


def test_bad_input_gets_a_message_and_changes_nothing(emulator):
    before = emulator.state.market.peek(emulator.state.market.get("NSE", "SBIN"))
    for data, message in [
        ({"symbol": "NOSUCH", "price": "10"}, "No instrument NOSUCH on NSE."),
        ({"symbol": "SBIN", "price": "abc"}, "The price must be a number above 0."),
        ({"symbol": "SBIN", "price": "-5"}, "The price must be a number above 0."),
        ({"symbol": "SBIN", "price": "1e400"}, "The price must be a number above 0."),
        ({"symbol": "SBIN", "price": "NaN"}, "The price must be a number above 0."),
    ]:
        answer = requests.post(f"{emulator.url}/_market/price", data=data, timeout=5)
        assert answer.status_code == 400 and message in answer.text
    assert emulator.state.market.peek(emulator.state.market.get("NSE", "SBIN")) == before
    closed = requests.post(f"{emulator.url}/_market/clock", data={"clock": "closed"}, timeout=5)
    assert closed.status_code == 200 and not emulator.state.market_is_open()
    wrong = requests.post(f"{emulator.url}/_market/clock", data={"clock": "later"}, timeout=5)
    assert wrong.status_code == 400 and "open, closed or exchange" in wrong.text
