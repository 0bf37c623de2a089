"""A delivery is recorded (2xx/4xx) or answered 503 with Retry-After, never a
500 and never silently lost, while another process holds SQLite's write lock
longer than the busy timeout."""

import json
import sqlite3

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.urls import reverse

from orders import webhook
from orders.models import Order, Strategy, WebhookAlert
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's file lock"),
]

BUSY_MS = 300


def _short_busy_timeout(sender, connection, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_MS}")


@pytest.fixture
def short_busy_timeout():
    connection_created.connect(_short_busy_timeout)
    connection.ensure_connection()
    _short_busy_timeout(None, connection)
    yield
    connection_created.disconnect(_short_busy_timeout)


class WriteLock:
    """Another process's writer: BEGIN IMMEDIATE on its own connection, held."""

    def __init__(self):
        self.db = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.db.execute("ROLLBACK")
        self.db.close()


def deliver(client, token, n):
    body = {
        "strategy_name": "Breakout",
        "symbol": "NSE:SBIN",
        "alert_id": f"a-{n}",
        "trade_details": {"order_action": "buy", "quantity": "1"},
    }
    return client.post(
        reverse("tradingview-webhook", args=[token]),
        data=json.dumps(body),
        content_type="text/plain",
    )


def test_locked_database_answers_503_and_redelivery_is_recorded_once(
    client,
    trading,  # noqa: F811
    short_busy_timeout,
):
    account, _ = trading
    token = webhook.issue_token(account.user)
    Strategy.objects.create(user=account.user, name="Breakout", mode="MANUAL", account=account)
    answers = {}
    with WriteLock():
        for n in range(10):
            response = deliver(client, token, n)
            answers[n] = response.status_code
            assert response.status_code == 503, response.content
            assert response["Retry-After"] == str(webhook.RETRY_AFTER_SECONDS)
    for n in range(10, 20):
        answers[n] = deliver(client, token, n).status_code
    assert WebhookAlert.objects.count() == 10  # the 503 ones left nothing half-written
    assert all(answers[n] == 202 for n in range(10, 20))
    # TradingView sends the refused ones again: each becomes exactly one order.
    for n in range(10):
        assert deliver(client, token, n).status_code == 202
    assert deliver(client, token, 3).status_code == 200  # and a repeat is a duplicate
    assert Order.objects.filter(user=account.user).count() == 20
    assert WebhookAlert.objects.filter(outcome="accepted").count() == 20
