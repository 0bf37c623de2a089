"""Every page's database work stays flat as a trader's data grows (no N+1 comes back).

Each page is rendered with a little data, then with several times more rows of every
kind (holdings in every account, positions, waiting and past orders with their events,
strategies, alerts, events): the number of queries must not change, and stays under a
cap. Nor may a page decrypt an account's stored secrets once per row (holdings,
positions, queue and orders rows, strategies: a joined copy of the account per row did). No timings here: the figures
are printed by bench/pages.py.
"""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brokers import accounts as broker_accounts
from marketdata.models import Instrument
from orders import presentation
from orders.models import Order, OrderEvent, Strategy, WebhookAlert
from portfolio.models import Holding, PortfolioSync, Position
from sigmatrader.crypto import EncryptedJSONBlobField
from sigmatrader.models import SystemEvent
from tests.brokers.peers import peer_class

SERIAL = count()


@pytest.fixture
def trader(user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    made = [
        broker_accounts.create_account(
            user=user,
            broker=broker,
            label=label,
            credentials=peer_class(broker).sample_credentials(label),
        )
        for broker, label in (("zerodha", "main"), ("angelone", "family"), ("angelone", "hers"))
    ]
    type(made[0]).objects.filter(pk=made[0].pk).update(is_default=True)
    return user, made


def grow(user, accounts, n: int) -> None:
    """n more of everything, in every account (symbols shared across accounts, so the
    merged views merge)."""
    now = timezone.now()
    for account in accounts:
        PortfolioSync.objects.update_or_create(
            account=account, defaults={"synced_at": now, "available_cash": Decimal(1000)}
        )
        for _ in range(n):
            serial = next(SERIAL)
            symbol = f"PQ{serial % 7}X{serial}"
            instrument = Instrument.objects.create(
                broker=account.broker,
                exchange="NSE",
                trading_symbol=symbol,
                canonical_symbol=symbol,
                token=str(70000 + serial),
                instrument_type="EQ",
                tick_size=Decimal("0.05"),
                row_hash=f"{serial:016x}",
            )
            for model, extra in ((Holding, {"t1_quantity": 1}), (Position, {"product": "MIS"})):
                model.objects.create(
                    account=account,
                    instrument=instrument,
                    symbol="SHARED" if serial % 3 == 0 else symbol,
                    broker_symbol=symbol,
                    exchange="NSE",
                    quantity=3,
                    average_price=Decimal("10.5"),
                    last_price=Decimal(11),
                    close_price=Decimal("10.9"),
                    pnl=Decimal("1.5"),
                    day_change=Decimal("0.1"),
                    **extra,
                )
            strategy = Strategy.objects.create(
                user=user, name=f"strategy {serial}", account=account
            )
            for status in ("WAITING", "FAILED", "OPEN", "EXECUTED", "REJECTED"):
                order = Order.objects.create(
                    user=user,
                    account=account,
                    account_name=account.display_name,
                    source="tradingview",
                    strategy=strategy,
                    instrument=instrument,
                    symbol=symbol,
                    exchange="NSE",
                    side="BUY",
                    quantity=2,
                    order_type="LIMIT",
                    price=Decimal(10),
                    status=status,
                    status_message="refused" if status in ("FAILED", "REJECTED") else "",
                    risk_note="over the daily limit" if status == "WAITING" else "",
                    created_at=now - timedelta(minutes=serial),
                )
                OrderEvent.objects.create(
                    order=order, kind="status", actor="sync", to_status=status, message="now"
                )
                WebhookAlert.objects.create(
                    user=user,
                    strategy=strategy,
                    outcome="accepted",
                    http_status=200,
                    order=order,
                    parsed={"symbol": symbol},
                )
            SystemEvent.objects.create(
                user=user, category="broker", level="warning", message=f"event {serial}"
            )


def pages(user):
    account = Order.objects.filter(user=user).values_list("account_id", flat=True).first()
    waiting = Order.objects.filter(user=user, status="WAITING")
    have = ",".join(presentation.live_state(o) for o in waiting)
    htmx = {"HX-Request": "true"}
    return {
        "dashboard": (reverse("dashboard"), {}, {}),
        "queue": (reverse("orders:queue"), {}, {}),
        "queue-all": (reverse("orders:queue"), {"scope": "all"}, {}),
        "orders": (reverse("orders:orders"), {}, {}),
        "orders-filtered": (reverse("orders:orders"), {"status": "OPEN", "account": account}, {}),
        "holdings-one": (reverse("portfolio:holdings"), {"account": account}, {}),
        "holdings-all": (reverse("portfolio:holdings"), {"account": "all", "sort": "-pnl"}, {}),
        "positions-one": (reverse("portfolio:positions"), {"account": account}, {}),
        "positions-all": (reverse("portfolio:positions"), {"account": "all"}, {}),
        "alerts": (reverse("orders:alerts"), {}, {}),
        "events": (reverse("events"), {"level": "warning"}, {}),
        "settings": (reverse("settings"), {}, {}),
        "live-orders": (reverse("live-orders"), {"page": "queue", "have": have}, htmx),
        "live-holdings": (reverse("live-portfolio", args=["holdings"]), {"account": "all"}, htmx),
        "live-positions": (
            reverse("live-portfolio", args=["positions"]),
            {"account": "all"},
            htmx,
        ),
        "live-dashboard": (reverse("live-dashboard"), {}, htmx),
        "live-toasts": (reverse("live-toasts"), {}, htmx),
    }


# What each page needs today (a cap, so a new per-page query is a decision, not a drift).
CAPS = {
    # Every page: +1 for the trading-halt banner (protection); the dashboard +1 for
    # today's P&L against the loss limits, Settings +2 for the Risk card's limits and
    # accounts (a user with limits: +2 more, their readings and halts).
    "dashboard": 15,
    # The instruments card: 3 queries whatever the number of brokers; the notifications
    # card: 2 (the user's preferences, the deployment's bot).
    "settings": 20,
    "live-dashboard": 13,
}
DEFAULT_CAP = 10


def queries(client, url, query, headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


PAGE_NAMES = [
    "dashboard",
    "queue",
    "queue-all",
    "orders",
    "orders-filtered",
    "holdings-one",
    "holdings-all",
    "positions-one",
    "positions-all",
    "alerts",
    "events",
    "settings",
    "live-orders",
    "live-holdings",
    "live-positions",
    "live-dashboard",
    "live-toasts",
]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_a_pages_queries_do_not_grow_with_the_data(client, trader, name):
    user, accounts = trader
    client.force_login(user)
    grow(user, accounts, 1)
    url, query, headers = pages(user)[name]
    client.get(url, query, headers=headers)  # the session's first poll, caches
    grow(user, accounts, 1)  # new rows since the last look (toasts to show, too)
    url, query, headers = pages(user)[name]
    small = queries(client, url, query, headers)
    grow(user, accounts, 6)
    url, query, headers = pages(user)[name]
    large = queries(client, url, query, headers)
    assert large == small, f"{name}: {small} queries with a little data, {large} with more"
    assert large <= CAPS.get(name, DEFAULT_CAP), f"{name}: {large} queries"


@pytest.mark.parametrize(
    "name",
    [
        "holdings-one",
        "holdings-all",
        "positions-all",
        "queue",
        "queue-all",
        "orders",
        "settings",
        "live-orders",
    ],
)
def test_pages_decrypt_each_accounts_secrets_once_not_per_row(client, trader, name, monkeypatch):
    user, accounts = trader
    client.force_login(user)
    decrypts = []
    real = EncryptedJSONBlobField.from_db_value

    def counting(self, value, expression, conn):
        decrypts.append(self.name)
        return real(self, value, expression, conn)

    monkeypatch.setattr(EncryptedJSONBlobField, "from_db_value", counting)
    grow(user, accounts, 1)
    url, query, headers = pages(user)[name]
    client.get(url, query, headers=headers)
    decrypts.clear()
    client.get(url, query, headers=headers)
    few = len(decrypts)
    grow(user, accounts, 8)
    url, query, headers = pages(user)[name]  # the live poll asks about the new orders too
    decrypts.clear()
    client.get(url, query, headers=headers)
    assert len(decrypts) == few, f"{name}: {few} decrypts, then {len(decrypts)} with more rows"
