"""The queue form's GTT on a broker with native GTT: its GTT is for delivery (CNC/NRML),
so an MIS GTT is watched by SigmaTrader. The form says so, and does not hold an MIS
GTT to the broker's LIMIT-only rule."""

import pytest
from django.urls import reverse

from orders.execution import execute
from orders.models import Order
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_queue_views import page, post_new  # noqa: F401 (the fixture)

GTT = {"gtt": "on", "condition": "ltp_lte", "trigger_value": "780", "expires_days": 1}


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_an_mis_gtt_is_offered_as_watched_by_sigmatrader_and_may_be_market(page):  # noqa: F811
    client, account, peer = page
    assert account.adapter_class.capabilities.gtt
    body = client.get(reverse("orders:queue")).content.decode()
    assert '<span class="gtt-if-mis">GTT watched by SigmaTrader (MIS: Zerodha' in body
    assert "MIS: Zerodha&#x27;s GTT is for delivery, so SigmaTrader watches the price" in body

    response = post_new(client, account, product="MIS", order_type="MARKET", **GTT)
    assert response.status_code == 200, response.content.decode()[:3000]
    order = execute(order=Order.objects.get(), actor="alice")
    assert order.is_gtt and order.status == "ARMED" and not order.gtt_id  # watched here
    assert not peer.user.book.gtts  # nothing at the broker


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_a_delivery_gtt_at_the_broker_still_needs_a_limit_order(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, product="CNC", order_type="MARKET", **GTT)
    assert response.status_code == 422
    assert "A CNC GTT at Zerodha places a LIMIT order" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_an_mis_gtt_ends_at_the_days_square_off_not_in_a_year(page, settings, monkeypatch):  # noqa: F811
    """An intraday order cannot be placed after the square-off: its GTT must not fire
    on a later day. Wednesday 25 Nov 2026 at 11:00 IST: it ends at 15:20 that day; after
    15:20 it ends at the next trading day's (Thursday's) square-off."""
    from datetime import datetime

    from django.utils import timezone

    from marketdata.clock import IST

    client, account, _ = page
    settings.PROTECTION_MIS_END = "15:20"
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "exchange"
    now = {"at": datetime(2026, 11, 25, 11, 0, tzinfo=IST)}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])
    assert (
        post_new(
            client,
            account,
            product="MIS",
            order_type="MARKET",
            **{
                **GTT,
                "expires_days": 365,
            },
        ).status_code
        == 200
    )
    mis = Order.objects.get()
    assert mis.expires_at == datetime(2026, 11, 25, 15, 20, tzinfo=IST)
    now["at"] = datetime(2026, 11, 25, 16, 0, tzinfo=IST)
    assert (
        post_new(
            client,
            account,
            product="CNC",
            order_type="LIMIT",
            price="779",
            **{
                **GTT,
                "expires_days": 365,
            },
        ).status_code
        == 200
    )
    cnc = Order.objects.exclude(pk=mis.pk).get()
    assert (cnc.expires_at - now["at"]).days == 365  # delivery keeps its year
    Order.objects.all().delete()
    assert post_new(client, account, product="MIS", order_type="MARKET", **GTT).status_code == 200
    assert Order.objects.get().expires_at == datetime(2026, 11, 26, 15, 20, tzinfo=IST)
