"""The page patterns every view shares (sigmatrader/pages.py)."""

import pytest
from django.urls import reverse

from orders.models import Order
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)

HX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

LIST_PAGES = [
    "orders:queue",
    "orders:orders",
    "orders:alerts",
    "alerts:list",
    "events",
    "portfolio:holdings",
    "portfolio:positions",
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_history_restore_gets_the_whole_page_and_every_answer_varies(signed_in, name):
    url = reverse(name)
    fragment = signed_in.get(url, headers=HX)
    restored = signed_in.get(url, headers=RESTORE)
    plain = signed_in.get(url)
    assert fragment.status_code == restored.status_code == plain.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert "<html" in restored.content.decode() and "<html" in plain.content.decode()
    for response in (fragment, restored, plain):
        assert "HX-Request" in response.headers.get("Vary", "")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://evil.example",
        "javascript:x",
        "/\\evil.example",
        "0",  # a bare word: redirect() took it for a URL name and answered 500
        "settings",
    ],
)
def test_next_never_leaves_the_site(trading, client, target):  # noqa: F811
    account, _peer = trading
    client.force_login(account.user)
    order = new(account)
    for url in (
        reverse("orders:queue-execute", args=[order.pk]),
        reverse("orders:queue-cancel", args=[order.pk]),
        reverse("orders:sync", args=[account.pk]),
    ):
        response = client.post(url, {"next": target})
        assert response.status_code == 302, url
        assert "evil" not in response["Location"] and "javascript" not in response["Location"]
        assert response["Location"].startswith("/")
    response = client.post(reverse("orders:sync", args=[account.pk]), {"next": "/orders/?x=1"})
    assert response["Location"] == "/orders/?x=1"
    assert Order.objects.filter(pk=order.pk).exists()


def test_connecting_a_paper_account_is_a_post_and_a_get_only_asks(signed_in, user):
    """GET /brokers/accounts/<paper>/connect/ used to reconnect and rotate the session."""
    from brokers import accounts
    from brokers.models import BrokerAccount
    from paper.models import PaperBook

    account = accounts.create_account(
        user=user, broker="paper", label="paper", credentials={"starting_cash": "100000"}
    )
    url = reverse("brokers:connect", args=[account.pk])
    assert signed_in.post(url).status_code == 302
    before = PaperBook.objects.get().session_token_hash
    assert before and BrokerAccount.objects.get(pk=account.pk).is_connected
    asked = signed_in.get(url)
    assert asked.status_code == 200
    assert 'method="post"' in asked.content.decode() and ">Connect<" in asked.content.decode()
    assert PaperBook.objects.get().session_token_hash == before
    signed_in.post(url)
    assert PaperBook.objects.get().session_token_hash != before


EVIL = ["https://evil.example/", "//evil.example/", "/\\evil.example", "0"]


@pytest.mark.parametrize("target", EVIL)
def test_every_other_next_stays_on_the_site(trading, client, target):  # noqa: F811
    """Sign-in, sign-out, the switcher and every account button that goes "back"."""
    from tests.conftest import PASSWORD

    account, _peer = trading
    user = account.user
    user.set_password(PASSWORD)
    user.save()
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(f"{reverse('login')}?next={target}")["Location"] == reverse("dashboard")
    for name in ("brokers:check", "brokers:make_default", "brokers:disconnect"):
        response = client.post(reverse(name, args=[account.pk]), {"next": target})
        assert response.status_code == 302 and response["Location"] == reverse("settings"), name
    response = client.post(reverse("brokers:switch"), {"account": account.pk, "next": target})
    assert response["Location"] == reverse("dashboard")
    order = new(account)
    response = client.post(
        reverse("orders:queue-bulk"), {"action": "cancel", "orders": [order.pk], "next": target}
    )
    assert response["Location"] == reverse("orders:queue")
    response = client.post(reverse("logout"), {"next": target})
    assert response.status_code == 302 and "evil" not in response["Location"]
    assert response["Location"].startswith("/")


def test_without_htmx_every_settings_form_re_renders_the_page_with_its_errors(
    trading,  # noqa: F811
    client,
):
    """A form posted without HTMX never answers a bare fragment or a silent redirect."""
    from orders.models import Strategy

    account, _peer = trading
    client.force_login(account.user)
    strategy = Strategy.objects.create(user=account.user, name="Breakout", mode="MANUAL")
    Strategy.objects.create(user=account.user, name="Swing", mode="MANUAL")
    cases = [
        (reverse("orders:strategy-new"), {"name": ""}),
        (reverse("orders:strategy-edit", args=[strategy.pk]), {"name": "Swing", "mode": "MANUAL"}),
        (reverse("orders:webhook-secret"), {"secret": "x" * 300}),
        (reverse("orders:risk-policy"), {"max_quantity": "-3", "mode": "reject"}),
        (
            reverse("orders:queue-new"),
            {"account": account.pk, "symbol": "NSE:SBIN", "quantity": "1"},
        ),
    ]
    for url, data in cases:
        response = client.post(url, data)
        body = response.content.decode()
        assert response.status_code == 422, url
        assert "<html" in body, url
        assert "field-error" in body or "message-error" in body, url
    strategy.refresh_from_db()
    assert strategy.name == "Breakout"


def test_one_pager_keeps_the_filters_and_takes_any_page(trading, client):  # noqa: F811
    from orders.models import WebhookAlert

    account, _peer = trading
    client.force_login(account.user)
    for _ in range(51):
        Order.objects.create(
            user=account.user, account=account, symbol="SBIN", exchange="NSE", side="BUY",
            quantity=1, status="CANCELLED",
        )  # fmt: skip
    body = client.get(reverse("orders:orders"), {"status": "CANCELLED"}).content.decode()
    assert "Page 1 of 2 · 51 orders" in body
    assert "/orders/?status=CANCELLED&amp;page=2" in body  # the filter survives paging
    for page in ("garbage", "9" * 26, "9" * 5000, "-1", "0"):
        response = client.get(reverse("orders:orders"), {"status": "CANCELLED", "page": page})
        assert response.status_code == 200 and "51 orders" in response.content.decode(), page
    # The crash of issue 12: a rejected delivery stores parsed={} and no strategy.
    WebhookAlert.objects.create(
        user=account.user, parsed={}, outcome="rejected", http_status=403, reason="Wrong secret."
    )
    response = client.get(reverse("orders:alerts"))
    assert response.status_code == 200 and "Wrong secret." in response.content.decode()
    for shape in ([], "text", {"strategy_name": {"x": 1}}):
        WebhookAlert.objects.create(
            user=account.user, parsed=shape, outcome="rejected", http_status=400
        )
    assert client.get(reverse("orders:alerts"), {"outcome": "nonsense"}).status_code == 200
