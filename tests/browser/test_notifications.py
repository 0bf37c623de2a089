"""Settings → Notifications in a real Chromium: link Telegram (the code shown),
switch kinds, Send test, and an error said when delivery fails."""

import re

import pytest
from playwright.sync_api import expect

from emulator.telegram import TelegramServer
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "123456789:AAFakeBotTokenForBrowser-abcdefghijk"
CHAT = 424242


@pytest.fixture
def telegram(settings):
    server = TelegramServer().start()
    settings.TELEGRAM_API_ROOT = server.url
    settings.TELEGRAM_TIMEOUT = 1.0
    from notifications.services import telegram_bot_set

    telegram_bot_set(token=TOKEN, username="sigma_test_bot")
    yield server
    server.stop()


def sign_in(page, username="alice"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def test_link_telegram_choose_kinds_send_test_and_see_an_error(page, user, telegram):
    from notifications.models import Preferences
    from notifications.services import poll_telegram

    sign_in(page)
    page.goto("/settings/#notifications")
    card = page.locator("#notifications")
    card.get_by_role("button", name="Link Telegram").click()
    code_line = page.locator("#telegram-link-code")
    expect(code_line).to_contain_text("/start ")
    code = re.search(r"/start ([0-9A-F]{8})", code_line.inner_text()).group(1)
    expect(code_line.get_by_role("link", name="@sigma_test_bot")).to_be_visible()

    telegram.state.add_message(chat_id=CHAT, text=f"/start {code}")
    assert poll_telegram()["linked"] == 1
    page.goto("/settings/#notifications")
    expect(card).to_contain_text("Linked to chat 42••42")

    # Switch "Alert fired" off for Telegram only.
    telegram_kinds = card.get_by_role("group", name="Telegram me")
    telegram_kinds.get_by_label("Alert fired").uncheck()
    card.get_by_role("button", name="Save notification settings").click()
    expect(page.get_by_text("Notification settings saved.")).to_be_visible()
    prefs = Preferences.objects.get(user=user)
    assert "alert_fired" not in prefs.telegram_kinds and "alert_fired" in prefs.email_kinds
    expect(
        page.locator("#notifications")
        .get_by_role("group", name="Telegram me")
        .get_by_label("Alert fired")
    ).not_to_be_checked()

    page.locator("#notifications").get_by_role("button", name="Send test to Telegram").click()
    expect(page.get_by_text("Telegram test message sent.")).to_be_visible()
    assert "SigmaTrader test message" in telegram.state.messages_to(CHAT)[-1].text

    telegram.state.fail("sendMessage", "500")
    page.locator("#notifications").get_by_role("button", name="Send test to Telegram").click()
    expect(page.locator("#notification-error")).to_contain_text(
        "Telegram test not delivered: Telegram sendMessage: Bad Gateway"
    )


def test_the_card_fits_a_phone(page, user, telegram):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto("/settings/#notifications")
    expect(page.locator("#notifications")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
