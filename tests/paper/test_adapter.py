"""The paper adapter (paper/adapter.py) in the whole app: reset, adding an account,
its form and price-source choice, a TradingView alert and a managed GTT filling on paper."""

import json

from django.urls import reverse

from brokers.connections import adapter_for
from marketdata import refresh
from orders.models import Order, Strategy
from orders.sync import order_sync_account
from orders.webhook import issue_token
from sigmatrader.celery import app as celery_app
from tests.paper.helpers import D, price, request


def test_reset_from_settings_with_confirmation(client, paper, other_user):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    adapter.place_order(request("SBIN", quantity=10))
    client.force_login(other_user)
    assert client.post(reverse("brokers:reset", args=[account.pk])).status_code == 404
    client.force_login(account.user)
    settings_page = client.get(reverse("settings")).content.decode()
    assert reverse("brokers:reset", args=[account.pk]) in settings_page
    assert (
        "Reset Paper trading · practice?"
        in client.get(reverse("brokers:reset", args=[account.pk])).content.decode()
    )
    response = client.post(reverse("brokers:reset", args=[account.pk]), follow=True)
    assert "was reset to its starting cash" in response.content.decode()
    assert adapter.funds().available_cash == D("100000")
    assert adapter.holdings() == [] and adapter.order_book() == []


def test_adding_a_paper_account_makes_it_ready_at_once(
    client, paper, django_capture_on_commit_callbacks
):
    account, _ = paper
    client.force_login(account.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("brokers:add") + "?broker=paper",
            {
                "broker": "paper",
                "label": "second",
                "starting_cash": "250000",
                "price_source": "live",
            },
        )
    assert response.status_code == 302
    page = client.get(reverse("settings")).content.decode()
    assert "Paper trading · second is ready." in page
    assert "Paper trading instruments: loading…" in page  # queued on connect
    second = account.user.broker_accounts.get(label="second")
    assert second.is_connected
    assert adapter_for(second).funds().available_cash == D("250000")


def test_the_paper_form_checks_cash_and_the_price_source(client, paper):
    account, _ = paper
    client.force_login(account.user)
    response = client.post(
        reverse("brokers:add") + "?broker=paper",
        {"broker": "paper", "label": "bad", "starting_cash": "-5", "price_source": "nosuch"},
    )
    page = response.content.decode()
    assert "Starting cash must be more than 0." in page
    assert "Select a valid choice" in page
    # Another paper account is not a price source either.
    response = client.post(
        reverse("brokers:add") + "?broker=paper",
        {"broker": "paper", "label": "bad", "starting_cash": "1000", "price_source": "practice"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert not account.user.broker_accounts.filter(label="bad").exists()


def test_the_price_source_is_a_choice_of_the_users_live_accounts(client, paper):
    """Issue 12 item 13: a select of the user's live accounts, not a free-text label."""
    account, _ = paper
    client.force_login(account.user)
    page = client.get(reverse("brokers:add") + "?broker=paper").content.decode()
    select = page[
        page.index('name="price_source"') : page.index(
            "</select>", page.index('name="price_source"')
        )
    ]
    live = account.user.broker_accounts.exclude(broker="paper")
    assert live.exists()
    for other in live:
        assert f'value="{other.label}"' in select
    assert f'value="{account.label}"' not in select  # paper is no price source


def test_a_strategy_bound_to_a_paper_account_fills_from_a_webhook_alert(
    client, paper, django_capture_on_commit_callbacks
):
    account, market = paper
    price(market, "SBIN", 800)
    refresh.refresh_instruments(broker="paper")
    Strategy.objects.create(user=account.user, name="Paper run", account=account, mode="AUTO")
    token = issue_token(account.user)
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("tradingview-webhook", args=[token]),
                data=json.dumps(
                    {
                        "strategy_name": "Paper run",
                        "symbol": "NSE:SBIN",
                        "alert_id": "paper-1",
                        "trade_details": {"order_action": "buy", "quantity": "5"},
                    }
                ),
                content_type="text/plain",
            )
    finally:
        celery_app.conf.task_always_eager = False
    assert response.status_code == 202, response.content
    order = Order.objects.get()
    assert order.account == account and order.status in ("SENT", "OPEN", "EXECUTED")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED" and order.filled_quantity == 5
    assert order.average_price == D("800")
    position = {p.instrument.symbol: p for p in adapter_for(account).positions()}["SBIN"]
    assert position.quantity == 5  # a delivery buy is a position until it settles


def test_a_managed_gtt_on_paper_triggers_and_fills(paper):
    from orders.execution import create_order, execute
    from orders.triggers import check_conditional_orders

    account, market = paper
    refresh.refresh_instruments(broker="paper")
    assert not account.adapter_class.capabilities.gtt  # managed by the app
    price(market, "SBIN", 800)
    order = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=3,
        order_type="MARKET",
        actor="alice",
        is_gtt=True,
    )
    Order.objects.filter(pk=order.pk).update(condition="ltp_lte", trigger_value=D("780"))
    order.refresh_from_db()
    assert execute(order=order, actor="alice").status == "ARMED"
    assert check_conditional_orders()["triggered"] == 0
    price(market, "SBIN", 779)
    assert check_conditional_orders()["triggered"] == 1
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED" and order.average_price == D("779")
