"""Paper prices (paper/prices.py): no fill without a price, then the candle store
prices it."""

import pytest
from django.utils import timezone

from brokers.base import BrokerUnavailable
from brokers.connections import adapter_for
from marketdata.models import Candle
from paper import engine
from paper.models import PaperOrder
from tests.paper.helpers import D, book_order, price, request


def test_no_fill_without_a_price_then_the_candle_store_prices_it(paper, settings):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "INFY", 1500)
    resting = adapter.place_order(request("INFY", kind="LIMIT", price=D("1600"), tag="R1"))
    assert book_order(adapter, resting).status.value == "EXECUTED"  # 1500 <= 1600
    waiting = adapter.place_order(request("INFY", kind="LIMIT", price=D("1400"), tag="R2"))
    settings.SMARTAPI_API_ROOT = "http://127.0.0.1:9"  # the price source is down
    with pytest.raises(BrokerUnavailable, match="No price for NSE:INFY"):
        adapter.place_order(request("INFY", tag="M1"))
    assert engine.check_resting_orders()["unpriced"] == 1
    assert book_order(adapter, waiting).status.value == "OPEN"
    assert not PaperOrder.objects.filter(tag="M1").exists()  # nothing half-written
    Candle.objects.create(
        exchange="NSE",
        canonical_symbol="INFY",
        interval="1d",
        at=timezone.now(),
        open=1390,
        high=1400,
        low=1380,
        close=D("1390"),
        volume=0,
    )
    filled = adapter.place_order(request("INFY", tag="M2"))
    assert book_order(adapter, filled).average_price == D("1390")
    engine.check_resting_orders()
    assert book_order(adapter, waiting).status.value == "EXECUTED"
