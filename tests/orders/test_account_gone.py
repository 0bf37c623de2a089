"""An order outlives its account (the account is set to NULL, the history stays).

Every page action on such an order answers with a message, never a 500: found by
mypy (Order.account is `BrokerAccount | None`), each of these crashed on
`None.adapter_class` or `calling(None)` before."""

from decimal import Decimal
from html import escape

from django.urls import reverse

from brokers import accounts
from orders.execution import execute
from orders.models import ACCOUNT_GONE, Order
from orders.tasks import execute_order
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)

HX = {"HX-Request": "true"}
GONE = escape(ACCOUNT_GONE)  # as the page shows it


def _orphan(order: Order) -> Order:
    accounts.delete_account(account=order.account)
    order.refresh_from_db()
    assert order.account_id is None and order.account_name
    return order


def test_a_waiting_order_without_its_account_previews_and_executes_with_a_message(
    trading,  # noqa: F811
    client,
    settings,
):
    account, _peer = trading
    client.force_login(account.user)
    order = _orphan(new(account, order_type="LIMIT", price=Decimal("800")))

    preview = client.get(reverse("orders:queue-preview", args=[order.pk]), headers=HX)
    assert preview.status_code == 200 and GONE in preview.content.decode()

    # The market closed: the closed-market choice is skipped (no broker to ask about AMO)
    # and execution refuses the order for what it is.
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    response = client.post(reverse("orders:queue-execute", args=[order.pk]), headers=HX)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED and order.status_message == ACCOUNT_GONE


def test_an_order_at_the_broker_without_its_account_cannot_be_modified_or_cancelled(
    trading,  # noqa: F811
    client,
):
    account, _peer = trading
    client.force_login(account.user)
    order = execute(order=new(account, order_type="LIMIT", price=Decimal("1")), actor="alice")
    assert order.status in Order.LIVE and order.broker_order_id
    order = _orphan(order)

    modify = client.post(
        reverse("orders:order-modify", args=[order.pk]),
        {"quantity": "3", "order_type": "LIMIT", "price": "2"},
        headers=HX,
    )
    assert modify.status_code == 422 and GONE in modify.content.decode()

    cancel = client.post(reverse("orders:order-cancel", args=[order.pk]), follow=True)
    assert cancel.status_code == 200 and GONE in cancel.content.decode()
    order.refresh_from_db()
    assert order.status in Order.LIVE  # nothing changed here


def test_an_auto_order_whose_account_went_before_the_worker_ran_fails_saying_why(
    trading,  # noqa: F811
):
    account, _peer = trading
    order = _orphan(new(account))
    assert execute_order.run(order.pk) == Order.Status.FAILED
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED and order.status_message == ACCOUNT_GONE
