"""The webhook URL skips the page middleware; every other URL keeps all of it."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, WebhookAlert
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_webhook import alert, eager, hook, post  # noqa: F401 (fixtures)


def test_webhook_answers_without_the_page_middleware(client, hook):  # noqa: F811
    account, _, token, _ = hook
    client.force_login(account.user)  # a browser session cookie must change nothing
    url = reverse("tradingview-webhook", args=[token])
    response = client.post(url, data=json.dumps(alert()), content_type="text/plain")
    assert response.status_code == 202
    # No session was read or written, nothing was rendered for a browser.
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "Content-Security-Policy" not in response.headers
    assert "X-Frame-Options" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    # SecurityMiddleware still ran (it comes first).
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert WebhookAlert.objects.filter(outcome="accepted").count() == 1
    assert Order.objects.count() == 1


def test_the_webhook_still_refuses_plain_http_when_https_is_required(client, hook, settings):  # noqa: F811
    settings.SECURE_SSL_REDIRECT = True
    _, _, token, _ = hook
    url = reverse("tradingview-webhook", args=[token])
    response = client.post(url, data=json.dumps(alert()), content_type="text/plain")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert not WebhookAlert.objects.exists()


def test_other_urls_still_require_sign_in_and_csrf(hook):  # noqa: F811
    account, _, token, _ = hook
    anonymous = Client(enforce_csrf_checks=True)
    for name in ("settings", "orders:alerts"):
        response = anonymous.get(reverse(name))
        assert response.status_code == 302 and "/login" in response["Location"]
    # A path that merely starts like the webhook is not the webhook.
    response = anonymous.post(
        f"/webhooks/tradingview/{token}/extra/", data="{}", content_type="text/plain"
    )
    assert response.status_code in (302, 404)
    assert not WebhookAlert.objects.exists()
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(account.user)
    page = signed_in.get(reverse("settings"))
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    # A state-changing POST without the CSRF token is still refused.
    refused = signed_in.post(reverse("orders:webhook-rotate"))
    assert refused.status_code == 403
    assert post(signed_in, token, alert())[0] == 202  # the old token still works: not rotated


@pytest.mark.parametrize("method", ["get", "put"])
def test_webhook_other_methods_are_405(client, hook, method):  # noqa: F811
    _, _, token, _ = hook
    response = getattr(client, method)(reverse("tradingview-webhook", args=[token]))
    assert response.status_code == 405


def test_the_webhook_still_checks_the_host(client, hook):  # noqa: F811
    _, _, token, _ = hook
    url = reverse("tradingview-webhook", args=[token])
    response = client.post(
        url, data=json.dumps(alert()), content_type="text/plain", HTTP_HOST="evil.example"
    )
    assert response.status_code == 400
    assert not WebhookAlert.objects.exists()
