"""The TradingView webhook: outcomes, AUTO/MANUAL, deduplication, limits, isolation, fuzz."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from brokers import accounts
from orders import webhook
from orders.models import AlertClaim, Order, RiskPolicy, Strategy, WebhookAlert
from sigmatrader.celery import app as celery_app
from sigmatrader.models import SystemEvent
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def hook(trading, eager):  # noqa: F811
    account, peer = trading
    token = webhook.issue_token(account.user)
    strategy = Strategy.objects.create(user=account.user, name="Breakout", mode="MANUAL")
    return account, peer, token, strategy


def alert(**overrides):
    body = {
        "strategy_name": "Breakout",
        "symbol": "NSE:SBIN",
        "interval": "5",
        "bar_time": "2026-11-24T09:20:00Z",
        "trade_details": {"order_action": "buy", "quantity": "2", "comment": "long"},
    }
    details = overrides.pop("trade_details", {})
    body.update(overrides)
    body["trade_details"].update(details)
    return body


def post(client, token, body, content_type="text/plain"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(
        reverse("tradingview-webhook", args=[token]), data=data, content_type=content_type
    )
    return response.status_code, (json.loads(response.content) if response.content else {})


def test_manual_alert_waits_in_the_queue(client, hook):
    account, _, token, strategy = hook
    status, body = post(client, token, alert())
    assert status == 202 and body["status"] == "accepted"
    order = Order.objects.get(pk=body["order_id"])
    assert (order.status, order.source, order.strategy, order.account) == (
        "WAITING",
        "tradingview",
        strategy,
        account,
    )
    assert order.side == "BUY" and order.quantity == 2
    record = WebhookAlert.objects.get(pk=body["alert_id"])
    assert (
        record.outcome == "accepted" and record.order == order and record.source_ip == "127.0.0.1"
    )
    assert record.parsed["symbol"] == "NSE:SBIN"


def test_auto_alert_reaches_the_broker_once(
    client, hook, django_capture_on_commit_callbacks, settings
):
    account, peer, token, strategy = hook
    settings.MARKET_ALWAYS_OPEN = True
    Strategy.objects.filter(pk=strategy.pk).update(mode="AUTO")
    with django_capture_on_commit_callbacks(execute=True):
        status, body = post(client, token, alert())
    assert status == 202
    order = Order.objects.get(pk=body["order_id"])
    assert order.status == "SENT"
    assert [o.tag for o in peer.user.book.orders.values()] == [order.client_tag]


def test_strategy_bound_to_a_non_default_account(client, hook, emulator):
    account, peer, token, strategy = hook
    other = accounts.create_account(
        user=account.user, broker=account.broker, label="second", credentials=account.credentials
    )
    other.session, other.status = account.session, "connected"
    other.save()
    Strategy.objects.filter(pk=strategy.pk).update(account=other)
    status, body = post(client, token, alert())
    assert status == 202 and Order.objects.get(pk=body["order_id"]).account == other
    assert account.is_default and not other.is_default


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("not json at all", 400, "not JSON"),
        ("[1, 2]", 400, "must be a JSON object"),
        (
            json.dumps({"symbol": "NSE:SBIN", "trade_details": {"order_action": "buy"}}),
            400,
            "Missing field: strategy_name",
        ),
        (json.dumps(alert(trade_details={"order_action": "hold"})), 400, "order_action"),
        (json.dumps(alert(trade_details={"quantity": "1.5"})), 400, "whole number"),
        (json.dumps(alert(trade_details={"quantity": "1e30"})), 400, "out of range"),
        (json.dumps(alert(trade_details={"product": "XYZ"})), 400, "product must be one of"),
        (json.dumps({**alert(), "trade_details": "buy"}), 400, "trade_details"),
        (json.dumps(alert(strategy_name="Nope")), 422, "No strategy named 'Nope'"),
        (json.dumps(alert(symbol="NSE:NOSUCHCO")), 422, "NOSUCHCO is not in the"),
    ],
)
def test_bad_deliveries_get_a_clear_answer_and_a_record(client, hook, body, status, message):
    _, _, token, _ = hook
    got, answer = post(client, token, body)
    assert got == status and message in answer["error"]
    record = WebhookAlert.objects.get()
    assert record.outcome == "rejected" and record.http_status == status
    assert not Order.objects.exists()


def test_disabled_strategy_and_lowercase_placeholders(client, hook):
    _, _, token, strategy = hook
    status, body = post(
        client, token, alert(trade_details={"order_action": "sell", "quantity": "3.0"})
    )
    assert status == 202 and Order.objects.get(pk=body["order_id"]).side == "SELL"
    strategy.enabled = False
    strategy.save()  # as the strategy form does (the cached route is invalidated)
    status, body = post(client, token, alert(bar_time="other"))
    assert status == 422 and "disabled" in body["error"]


def test_unknown_token_is_404_without_detail_and_a_security_event(client, hook):
    status, body = post(client, "x" * 43, alert())
    assert status == 404 and body == {"error": "Not found."}
    assert SystemEvent.objects.filter(category="security", message__contains="unknown token")
    assert not Order.objects.exists()


def test_secret_is_checked_when_set(client, hook):
    account, _, token, _ = hook
    webhook.set_secret(account.user, "s3cret-phrase")
    assert post(client, token, alert())[0] == 403
    assert post(client, token, alert(secret="wrong"))[0] == 403
    status, _ = post(client, token, alert(secret="s3cret-phrase"))
    assert status == 202
    assert "s3cret-phrase" not in json.dumps(list(WebhookAlert.objects.values("parsed")))


def test_duplicate_delivery_answers_with_the_original(client, hook):
    _, _, token, _ = hook
    first = post(client, token, alert(alert_id="tv-1"))
    again = post(client, token, alert(alert_id="tv-1"))
    assert first[0] == 202 and again[0] == 200 and again[1]["status"] == "duplicate"
    assert (again[1]["alert_id"], again[1]["order_id"]) == (
        first[1]["alert_id"],
        first[1]["order_id"],
    )
    assert Order.objects.count() == 1 and WebhookAlert.objects.count() == 2
    # Without an alert_id, symbol + action + quantity + bar_time is the identity.
    post(client, token, alert(bar_time="b2"))
    assert post(client, token, alert(bar_time="b2"))[0] == 200
    assert post(client, token, alert(bar_time="b3"))[0] == 202
    assert Order.objects.count() == 3


def test_after_the_window_the_same_alert_counts_again(client, hook, settings):
    _, _, token, _ = hook
    post(client, token, alert(alert_id="tv-9"))
    AlertClaim.objects.update(
        claimed_at=timezone.now() - timedelta(seconds=settings.WEBHOOK_DEDUP_WINDOW_SECONDS + 1)
    )
    assert post(client, token, alert(alert_id="tv-9"))[0] == 202
    assert Order.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_order(hook):
    from django.test import Client

    _, _, token, _ = hook
    barrier, answers = threading.Barrier(8), []

    def deliver():
        try:
            barrier.wait()
            answers.append(post(Client(), token, alert(alert_id="race-1"))[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] * 7 + [202]
    assert Order.objects.count() == 1


def test_rate_limit_and_body_size(client, hook, settings):
    _, _, token, _ = hook
    settings.WEBHOOK_RATE_PER_MINUTE = 3
    codes = [post(client, token, alert(bar_time=str(i)))[0] for i in range(5)]
    assert codes[:3] == [202] * 3 and codes[3:] == [429, 429]
    settings.WEBHOOK_RATE_PER_MINUTE = 1000
    settings.WEBHOOK_MAX_BODY_BYTES = 200
    huge = alert(trade_details={"comment": "x" * 190})
    assert post(client, token, huge)[0] == 413


def test_one_users_token_never_acts_for_another(client, hook, other_user):
    account, _, token, _ = hook
    Strategy.objects.create(user=other_user, name="Theirs")
    status, body = post(client, token, alert(strategy_name="Theirs"))
    assert status == 422  # names resolve among the token owner's strategies only
    status, body = post(client, token, alert())
    assert Order.objects.get(pk=body["order_id"]).user == account.user
    assert not Order.objects.filter(user=other_user).exists()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["strategy_name", "symbol", "exchange", "alert_id", "bar_time", "secret", "interval"]
DETAILS = ["order_action", "quantity", "price", "trigger_price", "product", "order_type", "comment"]
BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            **{f: JSON_VALUES for f in FIELDS},
            "trade_details": JSON_VALUES
            | st.fixed_dictionaries(
                {},
                optional={
                    d: JSON_VALUES
                    | st.sampled_from(["buy", "SELL", "1", "-1", "1e400", "NaN", "१२"])
                    for d in DETAILS
                },
            ),
        },
    ).map(lambda d: json.dumps(d).encode()),
)


@hsettings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
def test_fuzz_never_500_and_nothing_half_written(client, hook, body):
    _, _, token, _ = hook
    response = client.post(
        reverse("tradingview-webhook", args=[token]), data=body, content_type="text/plain"
    )
    assert response.status_code < 500
    accepted = WebhookAlert.objects.filter(outcome__in=["accepted", "duplicate"]).count()
    assert Order.objects.count() <= accepted
    assert Order.objects.filter(alerts__isnull=True).count() == 0


@pytest.mark.parametrize("field", ["strategy_name", "symbol", "exchange", "alert_id"])
def test_lone_surrogates_are_refused_never_raised(client, hook, field):
    """json.dumps writes "\\ud800" for a lone surrogate; receive() promises never to raise."""
    account, _, token, _ = hook
    status, body = post(client, token, alert(**{field: "NSE:SB\ud800IN"}))
    assert status == 400 and "not valid Unicode" in body["error"]
    record = WebhookAlert.objects.get(pk=body["alert_id"])
    assert record.http_status == 400 and "\\ud800" in record.raw_body
    client.force_login(account.user)
    assert client.get(reverse("orders:alerts")).status_code == 200
    direct = webhook.receive(
        token=token, body=json.dumps(alert(**{field: "\udfff"})).encode(), ip=None
    )
    assert direct[0] == 400
    assert Order.objects.count() == 0


def test_settings_create_strategy_rotate_and_alerts_page(client, hook):
    account, _, old_token, _ = hook
    client.force_login(account.user)
    card = client.post(
        reverse("orders:strategy-new"),
        {
            "name": "Swing",
            "account": account.pk,
            "mode": "AUTO",
            "enabled": "on",
            "default_product": "CNC",
            "default_order_type": "MARKET",
            "default_quantity": 1,
        },
    ).content.decode()
    assert "Swing" in card and Strategy.objects.filter(user=account.user, name="Swing").exists()
    assert (
        client.post(
            reverse("orders:strategy-new"),
            {
                "name": "Swing",
                "mode": "AUTO",
                "default_product": "CNC",
                "default_order_type": "MARKET",
                "default_quantity": 1,
            },
        ).status_code
        == 422
    )
    card = client.post(reverse("orders:webhook-rotate")).content.decode()
    new_token = card.split("/webhooks/tradingview/")[1].split("/")[0]
    assert new_token != old_token and len(new_token) >= 32
    assert post(client, old_token, alert())[0] == 404
    assert post(client, new_token, alert())[0] == 202
    settings_page = client.get(reverse("settings")).content.decode()
    assert new_token not in settings_page and f"…{new_token[-4:]}" in settings_page
    page = client.get(reverse("orders:alerts")).content.decode()
    assert (
        "Accepted · 202" in page and "Rejected · 404" not in page
    )  # unknown-token hits have no user


def test_other_users_get_404_on_strategy_urls(client, hook, other_user):
    _, _, _, strategy = hook
    client.force_login(other_user)
    assert client.get(reverse("orders:strategy-edit", args=[strategy.pk])).status_code == 404
    assert client.post(reverse("orders:strategy-toggle", args=[strategy.pk])).status_code == 404
    strategy.refresh_from_db()
    assert strategy.enabled


@pytest.mark.parametrize(
    "body",
    [
        b'{"strategy_name": "Bre\\u0000akout"}',
        b"\x00\x00{}",
        json.dumps(alert(symbol="NSE:SB\u0000IN")).encode(),
    ],
)
def test_nul_bytes_are_a_400_not_a_500(client, hook, body):
    _, _, token, _ = hook
    response = client.post(
        reverse("tradingview-webhook", args=[token]), data=body, content_type="text/plain"
    )
    assert response.status_code == 400
    assert WebhookAlert.objects.get().http_status == 400


def test_a_strategy_can_carry_its_own_risk_limits_from_settings(client, hook):
    account, _, token, strategy = hook
    client.force_login(account.user)
    form = client.get(reverse("orders:strategy-edit", args=[strategy.pk])).content.decode()
    assert "Own risk limits for this strategy" in form
    fields = {
        "name": "Breakout",
        "mode": "MANUAL",
        "enabled": "on",
        "default_product": "CNC",
        "default_order_type": "MARKET",
        "default_quantity": 1,
    }
    card = client.post(
        reverse("orders:strategy-edit", args=[strategy.pk]),
        {**fields, "risk-override": "on", "risk-max_quantity": "1", "risk-mode": "reject"},
    ).content.decode()
    assert "own risk limits" in card
    policy = strategy.risk_override
    assert policy.max_quantity == 1 and policy.user == account.user
    # The override applies to this strategy's orders at execution.
    status, body = post(client, token, alert())
    order = Order.objects.get(pk=body["order_id"])
    from orders.execution import execute

    order = execute(order=order, actor="alice")
    assert order.status == "FAILED" and "quantity" in order.status_message.lower()
    # Switched off: the policy row goes, the account-wide policy (none) applies.
    client.post(reverse("orders:strategy-edit", args=[strategy.pk]), {**fields, "risk-mode": ""})
    strategy.refresh_from_db()
    assert not RiskPolicy.objects.filter(strategy=strategy).exists()
