"""Paper charges (paper/charges.py) against worked examples, and where they show:
the cash a trade moves, the order's message, the previews."""

import pytest

from brokers.connections import adapter_for
from paper.charges import charges_for
from paper.models import PaperTrade
from tests.paper.helpers import D, book_order, price, request


@pytest.mark.parametrize(
    "side,quantity,price_,product,expected",
    [
        # Delivery buy 100 x 1,500 = 1,50,000: STT 150.00, exchange 4.46, SEBI 0.15,
        # stamp 22.50, GST 18% of (0 + 4.46 + 0.15) = 0.83.
        (
            "BUY",
            100,
            "1500",
            "CNC",
            {"brokerage": "0.00", "stt": "150.00", "exchange": "4.46", "sebi": "0.15",
             "stamp": "22.50", "gst": "0.83", "total": "177.94"},
        ),
        # Intraday sell 100 x 1,500: brokerage capped at 20, STT 0.025% = 37.50,
        # no stamp on a sale, GST 18% of 24.61 = 4.43.
        (
            "SELL",
            100,
            "1500",
            "MIS",
            {"brokerage": "20.00", "stt": "37.50", "exchange": "4.46", "sebi": "0.15",
             "stamp": "0.00", "gst": "4.43", "total": "66.54"},
        ),
        # Intraday buy 10 x 100: brokerage 0.03% = 0.30 (under the cap), stamp 0.03.
        (
            "BUY",
            10,
            "100",
            "MIS",
            {"brokerage": "0.30", "stt": "0.00", "exchange": "0.03", "sebi": "0.00",
             "stamp": "0.03", "gst": "0.06", "total": "0.42"},
        ),
    ],
)  # fmt: skip
def test_charges_worked_examples(side, quantity, price_, product, expected):
    cost = charges_for(side=side, quantity=quantity, price=D(price_), product=product)
    assert cost.as_dict() == expected


def test_the_schedule_is_configurable(settings):
    settings.PAPER_CHARGES = {"intraday": {"brokerage_rate": "0", "brokerage_max": "0"}}
    cost = charges_for(side="SELL", quantity=100, price=D("1500"), product="MIS")
    assert cost.brokerage == 0 and cost.stt == D("37.50")


def test_cash_moves_by_value_and_charges_per_trade(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "WIPRO", 1000)
    order_id = adapter.place_order(request("WIPRO", quantity=10))
    trade = PaperTrade.objects.get(order__order_id=order_id)
    # 10 x 1,000 delivery: STT 10.00 + exchange 0.30 + SEBI 0.01 + stamp 1.50 + GST 0.06
    assert trade.charges == D("11.87") and trade.charges_breakdown["stt"] == "10.00"
    funds = adapter.funds()
    assert funds.available_cash == D("100000") - D("10000") - D("11.87")
    assert funds.used_margin == 0


def test_charges_show_with_the_order_and_previews_are_computed(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "WIPRO", 1000)
    order_id = adapter.place_order(request("WIPRO", quantity=10))
    message = book_order(adapter, order_id).status_message
    assert message.startswith("Filled 10 of 10 at ₹1,000.00 avg; charges ₹11.87")
    assert "STT ₹10.00" in message
    preview = adapter.charges_preview([request("WIPRO", quantity=10)])
    assert preview.total == D("11.87") and preview.breakdown["stt"] == D("10.00")
    margin = adapter.margin_preview([request("WIPRO", kind="LIMIT", price=D("990"), quantity=10)])
    assert margin.total == D("9900") and margin.charges > 0
