"""No secret in any log record, at INFO or DEBUG, whoever logs it.

Representative flows (AngelOne connect + refresh + check on the emulator with the
real SmartAPI client, Zerodha's redirect connect with the real Kite client, the
TradingView webhook with a wrong token, a wrong secret and a good alert, a paper
session) run with every logger at INFO, then DEBUG, SQL logging on; a plain handler with
no filter of its own captures every record. No token, PIN, TOTP secret,
api secret, access/refresh token, webhook token or secret may appear in any.
"""

import json
import logging
from datetime import timedelta

import pyotp
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from brokers import accounts, connections
from brokers.models import BrokerAccount
from emulator import SmartUser
from marketdata import resolution
from orders import webhook
from orders.models import Strategy
from sigmatrader.log_filters import install_record_factory
from sigmatrader.redaction import REDACTED, scrub_log_text
from tests.brokers.peers.zerodha import kite_peer
from tests.brokers.test_connect import kite_callback_params

PIN = "739251"
CALLBACK = "http://testserver/brokers/zerodha/callback/"


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.records.append(record)

    def texts(self):
        return [self.format(record) for record in self.records]


@pytest.fixture(params=["DEBUG"])
def debug_logs(request):
    level = getattr(logging, request.param)
    install_record_factory()  # what SigmaTraderConfig.ready() does in every process
    capture = Capture()
    root = logging.getLogger()
    names = list(logging.root.manager.loggerDict) + [
        "django.request",
        "django.db.backends",
        "urllib3",
        "urllib3.connectionpool",
        "requests",
        "SmartApi",
        "kiteconnect",
    ]
    saved = {name: logging.getLogger(name).level for name in names}
    saved_root = root.level
    for name in names:
        logging.getLogger(name).setLevel(level)
    root.setLevel(level)
    root.addHandler(capture)
    connection.force_debug_cursor = True  # SQL logging as with DEBUG=True
    capture.level_name = request.param
    try:
        yield capture
    finally:
        connection.force_debug_cursor = False
        root.removeHandler(capture)
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _smart_user(emulator):
    secret = pyotp.random_base32()
    return emulator.state.add_smart_user(SmartUser("smartkey77", "S7391", PIN, secret))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("debug_logs", ["INFO", "DEBUG"], indirect=True)
def test_no_secret_in_any_log_record(client, user, emulator, debug_logs, settings):
    resolution.forget()  # no instrument cached by an earlier test (its rows are gone)
    client.force_login(user)
    secrets = {}

    # AngelOne: add with a stored PIN and TOTP secret, connect, refresh, check.
    smart = _smart_user(emulator)
    client.post(
        f"{reverse('brokers:add')}?broker=angelone",
        {
            "broker": "angelone",
            "label": "angel",
            "api_key": smart.api_key,
            "client_code": smart.client_code,
            "pin": PIN,
            "totp_secret": smart.totp_secret,
        },
    )
    angel = BrokerAccount.objects.get(label="angel")
    secrets.update(pin=PIN, totp_secret=smart.totp_secret)
    code = pyotp.TOTP(smart.totp_secret).now()
    connections.connect_with_credentials(
        account=angel, per_connect={"connect_pin": PIN, "totp": code}
    )
    angel.refresh_from_db()
    assert angel.status == "connected"
    first_session = dict(angel.session)
    BrokerAccount.objects.filter(pk=angel.pk).update(
        session_expires_at=timezone.now() + timedelta(minutes=5)
    )
    angel.refresh_from_db()
    assert connections.refresh_session(account=angel) == "refreshed"
    angel.refresh_from_db()
    assert connections.check(account=angel)
    for n, session in enumerate((first_session, angel.session)):
        for key in ("jwt_token", "refresh_token", "feed_token"):
            if session.get(key):
                secrets[f"angel_{key}_{n}"] = session[key]

    # Zerodha: the redirect flow with request_token in the callback URL.
    kite = kite_peer(emulator, redirect_url=CALLBACK)
    client.post(
        f"{reverse('brokers:add')}?broker=zerodha",
        {
            "broker": "zerodha",
            "label": "kite",
            "api_key": kite.user.api_key,
            "api_secret": "kite-secret-1",
        },
    )
    zerodha = BrokerAccount.objects.get(label="kite")
    location = kite_callback_params(client, kite, zerodha)
    request_token = dict(part.split("=", 1) for part in location.split("?", 1)[1].split("&"))[
        "request_token"
    ]
    client.get(location.replace("http://testserver", ""))
    client.get(location.replace("http://testserver", ""))  # a replay: refused, logged
    zerodha.refresh_from_db()
    assert zerodha.status == "connected"
    secrets.update(
        api_secret="kite-secret-1",
        request_token=request_token,
        kite_access_token=zerodha.session["access_token"],
    )

    # Paper: a session token.
    paper = accounts.create_account(
        user=user, broker="paper", label="paper", credentials={"starting_cash": "100000"}
    )
    connections.connect_with_credentials(account=paper, per_connect={})
    paper.refresh_from_db()
    for key, value in paper.session.items():
        if isinstance(value, str) and len(value) >= 8:
            secrets[f"paper_{key}"] = value

    # Webhook: an unknown token (404), a wrong secret (403), a good alert.
    token = webhook.issue_token(user)
    webhook.set_secret(user, "hook-secret-9f3k")
    secrets.update(webhook_token=token, webhook_secret="hook-secret-9f3k")
    Strategy.objects.create(user=user, name="Breakout", account=angel)
    body = {
        "strategy_name": "Breakout",
        "symbol": "NSE:SBIN",
        "secret": "hook-secret-9f3k",
        "trade_details": {"order_action": "buy", "quantity": 1},
    }
    url = reverse("tradingview-webhook", args=[token])
    wrong = reverse("tradingview-webhook", args=[token[::-1]])
    assert client.post(wrong, json.dumps(body), content_type="text/plain").status_code == 404
    bad = {**body, "secret": "nope"}
    assert client.post(url, json.dumps(bad), content_type="text/plain").status_code == 403
    client.post(url + "?token=" + token, json.dumps(body), content_type="text/plain")
    secrets["wrong_webhook_token"] = token[::-1]

    texts = debug_logs.texts()
    names = {record.name for record in debug_logs.records}
    # The capture saw what it must (else the test proves nothing).
    assert "django.request" in names, names
    if debug_logs.level_name == "DEBUG":
        assert any(n.startswith("django.db.backends") for n in names), names
        assert any(n.startswith("urllib3") for n in names), names
    assert any("/webhooks/tradingview/" in text for text in texts)

    leaks = [
        (name, text[:300])
        for text in texts
        for name, secret in secrets.items()
        if secret and secret in text
    ]
    assert not leaks, leaks


def test_webhook_forbidden_line_keeps_the_path_shape_without_the_token():
    line = "Forbidden: /webhooks/tradingview/AbC-123_xyz0123456789abcdefghijklmnopqrstu/"
    assert scrub_log_text(line) == f"Forbidden: /webhooks/tradingview/{REDACTED}/"


@pytest.mark.parametrize(
    "line",
    [
        "GET /rest/secure/angelbroking/user/v1/getProfile?refreshToken=abcDEF123456 HTTP/1.1",
        "GET /brokers/zerodha/callback/?status=success&request_token=abcDEF123456&state=x",
        "payload {'clientcode': 'A1', 'password': 'abcDEF123456', 'totp': '123456'}",
        'body {"api_secret": "abcDEF123456"}',
        "Connected to redis://:abcDEF123456@10.0.0.5:6379/0",
        "postgres://trader:abcDEF123456@db.internal:5432/sigmatrader",
    ],
)
def test_secret_values_in_urls_and_payloads_are_masked(line):
    assert "abcDEF123456" not in scrub_log_text(line)


def test_sql_debug_lines_lose_their_literals_and_params(debug_logs):
    logging.getLogger("django.db.backends").debug(
        "(%.3f) %s; args=%s; alias=%s",
        0.001,
        'UPDATE "paper_paperbook" SET "session_token" = \'abcDEF123456\' WHERE id = 1',
        ("abcDEF123456",),
        "default",
        extra={"sql": "…'abcDEF123456'", "params": ("abcDEF123456",), "duration": 0.001},
    )
    record = debug_logs.records[-1]
    assert "abcDEF123456" not in debug_logs.format(record)
    assert "UPDATE" in record.getMessage()


def test_server_access_lines_lose_the_webhook_token(debug_logs):
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"
    # runserver's line (django.server) and gunicorn's access line (dict arguments).
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"POST /webhooks/tradingview/{token}/ HTTP/1.1", "403", "25"
    )
    logging.getLogger("gunicorn.access").info(
        '%(h)s "%(r)s" %(s)s',
        {"h": "1.2.3.4", "r": f"POST /webhooks/tradingview/{token}/?x=1 HTTP/1.1", "s": "202"},
    )
    lines = debug_logs.texts()[-2:]
    assert all(token not in line and "/webhooks/tradingview/[redacted]/" in line for line in lines)


@pytest.mark.parametrize(
    "line",
    [
        "order 42 placed: symbol=SBIN side=BUY quantity=5 price=812.50",
        "GET /queue/?account=3&page=2 HTTP/1.1",
        "POST /webhooks/other/abc/ 404",
        "http://127.0.0.1:8100/rest/secure/angelbroking/order/v1/placeOrder",
    ],
)
def test_ordinary_lines_are_kept(line):
    assert scrub_log_text(line) == line
