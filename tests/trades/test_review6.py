"""The second fresh-eye review's findings on trades and P&L (review 6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trades import services
from trades.models import RoundTrip

from .helpers import make_trade

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_delivery_buy_on_nse_closes_with_its_sale_on_bse(user, account):
    """Shares bought on NSE can be sold on BSE: one delivery book per stock, one STCG
    round trip of +1,000 — not an open NSE long and a phantom BSE short."""
    make_trade(account, 1, "BUY", 10, 2400, "2025-05-05T10:00", symbol="ASIANPAINT-EQ")
    make_trade(
        account, 2, "SELL", 10, 2500, "2025-06-05T10:00", exchange="BSE", symbol="ASIANPAINT"
    )
    services.rebuild(user=user)
    [trip] = RoundTrip.objects.all()
    assert (trip.classification, trip.direction, trip.quantity) == ("STCG", "LONG", 10)
    assert trip.gross == D("1000") and trip.exchange == "NSE→BSE"
    # A partial rebuild of the sale's symbol reads the NSE buy too.
    services.rebuild(user=user, account=account, symbols={"ASIANPAINT"})
    assert RoundTrip.objects.get().gross == D("1000")


def test_intraday_stays_per_exchange(user, account):
    make_trade(account, 1, "BUY", 10, 100, "2025-05-05T10:00", product="MIS")
    make_trade(account, 2, "SELL", 10, 110, "2025-05-05T11:00", exchange="BSE", product="MIS")
    services.rebuild(user=user)
    assert not RoundTrip.objects.exists()  # a MIS long on NSE, a MIS short on BSE: open
