"""Paper trading after a failed or lost run: the intraday square-off is finished
by the next minute's run, and a square-off cut short between creating its order
and filling it is never doubled."""

from datetime import datetime

import pytest
from django.utils import timezone

from brokers.connections import adapter_for
from paper.models import PaperBook, PaperOrder
from paper.tasks import square_off_intraday as square_off_task
from tests.paper.helpers import price, request


@pytest.fixture
def at_square_off_time(settings):
    settings.PAPER_MIS_SQUARE_OFF = "15:20"
    moment = datetime(2026, 11, 25, 15, 21, tzinfo=timezone.get_current_timezone())  # a Wednesday
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: moment)
        yield


def test_square_off_cut_short_is_finished_once(paper, at_square_off_time):  # noqa: F811
    account, market = paper
    adapter = adapter_for(account)
    price(market, "ITC", 400)
    adapter.place_order(request("ITC", quantity=5, product="MIS"))
    book = PaperBook.objects.get(account=account)
    # What a worker killed inside the square-off leaves: its order, not its fill.
    PaperOrder.objects.create(
        book=book,
        order_id=f"PAPER{book.pk}-999999",
        tag="SQUAREOFF",
        exchange="NSE",
        symbol="ITC",
        side="SELL",
        quantity=5,
        order_type="MARKET",
        product="MIS",
        status="OPEN",
        status_message="Intraday square-off",
    )
    price(market, "ITC", 410)
    assert square_off_task() == {str(account.pk): 1}
    squared = PaperOrder.objects.filter(book=book, tag="SQUAREOFF")
    # The pending one is cancelled (never filled), one new order closes the position.
    assert sorted((o.quantity, o.status) for o in squared) == [(5, "CANCELLED"), (5, "COMPLETE")]
    positions = {(p.instrument.symbol, p.product.value): p for p in adapter.positions()}
    assert positions[("ITC", "MIS")].quantity == 0  # flat, not short
    assert square_off_task() == {"skipped": "already done today"}


def test_square_off_that_failed_is_done_by_the_next_run(
    paper,  # noqa: F811
    emulator,
    at_square_off_time,
):
    from django.core.cache import cache

    from emulator import Fault

    account, market = paper
    adapter = adapter_for(account)
    price(market, "ITC", 400)
    adapter.place_order(request("ITC", quantity=5, product="MIS"))
    cache.clear()  # no cached quote: the square-off must ask the price source
    market_state = emulator.state
    market_state.inject("smartapi", "quote", Fault("server_error", times=100, status=503))
    assert square_off_task() == {str(account.pk): "failed"}
    market_state.clear_faults()
    assert square_off_task() == {str(account.pk): 1}
    positions = {(p.instrument.symbol, p.product.value): p for p in adapter.positions()}
    assert positions[("ITC", "MIS")].quantity == 0
