"""Issue 12 item 13: the webhook URL comes from SITE_URL, and the card says that
TradingView needs a public HTTPS address when the app does not have one."""

from django.urls import reverse


def test_webhook_url_is_built_from_site_url(signed_in, settings):
    settings.SITE_URL = "https://trade.example.in"
    page = signed_in.post(reverse("orders:webhook-rotate"), HTTP_HX_REQUEST="true").content.decode()
    assert "https://trade.example.in/" in page
    assert "127.0.0.1" not in page and "testserver" not in page
    assert 'data-testid="webhook-public-note"' not in page


def test_without_a_public_https_address_the_card_says_what_tradingview_needs(signed_in):
    page = signed_in.post(reverse("orders:webhook-rotate"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="webhook-public-note"' in page
    assert "public <strong>HTTPS</strong>" in page and "SITE_URL" in page


def test_the_kite_redirect_url_uses_site_url_too(signed_in, settings):
    settings.SITE_URL = "https://trade.example.in"
    page = signed_in.get(reverse("settings")).content.decode()
    assert "https://trade.example.in/brokers/zerodha/callback/" in page
