"""Trading from the portfolio (portfolio/trading.py): square off a position, sell or buy
from a holding into that account's queue or at once, bad trade links."""

from django.urls import reverse

from orders.models import Order
from portfolio.models import Position


def test_positions_page_and_square_off(client, two_accounts):
    main, family, _, family_peer = two_accounts
    client.force_login(main.user)
    page = client.get(reverse("portfolio:positions") + f"?account={family.pk}").content.decode()
    assert "Positions — AngelOne · family" in page and "TCS" in page and "MIS" in page
    position = Position.objects.get(account=family)
    response = client.post(
        reverse("portfolio:square-off", args=[position.pk]), {"account": family.pk}
    )
    assert response.status_code == 302
    order = Order.objects.get(account=family)
    assert (order.side, order.quantity, order.product, order.order_type) == (
        "SELL",
        3,
        "MIS",
        "MARKET",
    )
    assert order.status in ("SENT", "OPEN", "EXECUTED")
    placed = [o for o in family_peer.user.book.orders.values() if o.tag == order.client_tag]
    assert len(placed) == 1 and placed[0].side == "SELL"


def test_sell_from_a_holding_goes_to_that_accounts_queue_and_is_checked(client, two_accounts):
    main, family, *_ = two_accounts
    client.force_login(main.user)
    form = client.get(
        reverse("portfolio:holdings-trade")
        + f"?account={family.pk}&symbol=NSE:INFY&side=SELL&quantity=30"
    )
    assert form.status_code == 200 and 'value="30"' in form.content.decode()
    post = {
        "account": family.pk,
        "symbol": "NSE:INFY",
        "side": "SELL",
        "quantity": 31,
        "order_type": "MARKET",
        "product": "CNC",
        "then": "queue",
    }
    refused = client.post(reverse("portfolio:holdings-trade"), post)
    assert refused.status_code == 422
    assert "AngelOne · family holds 30 INFY" in refused.content.decode()
    assert not Order.objects.exists()
    post["quantity"] = 30
    response = client.post(reverse("portfolio:holdings-trade"), post)
    assert response.status_code == 302 and f"account={family.pk}" in response["Location"]
    order = Order.objects.get()
    assert (order.account, order.side, order.quantity, order.status, order.source) == (
        family,
        "SELL",
        30,
        "WAITING",
        "holdings",
    )


def test_buy_from_a_holding_sent_at_once_reaches_the_broker(client, two_accounts):
    main, _, main_peer, _ = two_accounts
    client.force_login(main.user)
    post = {
        "account": main.pk,
        "symbol": "NSE:SBIN",
        "side": "BUY",
        "quantity": 2,
        "order_type": "MARKET",
        "product": "CNC",
        "then": "send",
    }
    response = client.post(reverse("portfolio:holdings-trade"), post, follow=True)
    order = Order.objects.get()
    assert order.status in ("SENT", "OPEN", "EXECUTED") and order.account == main
    assert f"Order #{order.pk} sent to Zerodha · main" in response.content.decode()
    assert [o.tag for o in main_peer.user.book.orders.values()] == [order.client_tag]


def test_bad_trade_links_are_404_or_a_form_error_never_500(client, two_accounts):
    main, *_ = two_accounts
    client.force_login(main.user)
    assert client.get(reverse("portfolio:holdings-trade") + "?account=abc").status_code == 404
    assert client.get(reverse("portfolio:holdings-history") + "?account=abc").status_code == 404
    response = client.post(
        reverse("portfolio:holdings-trade"),
        {
            "account": main.pk,
            "symbol": "NSE:SBIN",
            "side": "BUY",
            "quantity": 10**30,
            "order_type": "MARKET",
            "product": "CNC",
            "then": "queue",
        },
    )
    assert response.status_code == 422
    assert "less than or equal to 10000000" in response.content.decode()
    response = client.post(
        reverse("portfolio:holdings-trade"),
        {
            "account": main.pk,
            "symbol": "NSE:NOSUCH",
            "side": "BUY",
            "quantity": 1,
            "order_type": "MARKET",
            "product": "CNC",
            "then": "queue",
        },
    )
    assert response.status_code == 422 and "NOSUCH" in response.content.decode()
    assert not Order.objects.exists()


def test_square_off_from_a_page_loaded_before_the_last_sync(client, two_accounts):
    """A portfolio sync replaces the position rows (new pks): a Positions page open since
    the last sync (every 5 minutes, and after each fill) posted a pk that was gone, and
    Square off answered 404. The form names the position by its key."""
    from portfolio.sync import portfolio_sync_account

    main, family, _, family_peer = two_accounts
    client.force_login(main.user)
    page = client.get(reverse("portfolio:positions") + f"?account={family.pk}").content.decode()
    old = Position.objects.get(account=family)
    assert f'name="position_key" value="{old.key}"' in page
    assert portfolio_sync_account(family).ok  # the beat's sync, while the page is open
    assert not Position.objects.filter(pk=old.pk).exists()
    response = client.post(
        reverse("portfolio:square-off", args=[old.pk]),
        {"account": family.pk, "position_key": old.key, "quantity": "2"},
        follow=True,
    )
    said = response.content.decode()
    assert "Square-off order #" in said and "sent to AngelOne · family" in said
    assert ": sent." not in said  # review 8: "sent to … : sent."
    order = Order.objects.get(account=family)
    assert (order.symbol, order.side, order.quantity, order.product) == (
        "NSE:TCS",
        "SELL",
        2,
        "MIS",
    )

    # A key that names no position now (or another user's): said, nothing sent.
    response = client.post(
        reverse("portfolio:square-off", args=[old.pk]),
        {"account": family.pk, "position_key": f"{family.pk}|NSE|SBIN|MIS"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "SBIN MIS is no longer in your positions" in response.content.decode()
    assert Order.objects.filter(account=family).count() == 1


def test_square_off_quantity_takes_ascii_digits_only(client, two_accounts):
    """Review 8: int() read "١" (Arabic-Indic one) as 1 and "1_0" as 10 and sent them."""
    main, family, *_ = two_accounts
    client.force_login(main.user)
    position = Position.objects.get(account=family)
    for raw in ("١", "1_0", "2.5"):
        response = client.post(
            reverse("portfolio:square-off", args=[position.pk]),
            {"account": family.pk, "position_key": position.key, "quantity": raw},
            follow=True,
        )
        assert "is not a whole number" in response.content.decode(), raw
    assert not Order.objects.exists()
