import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse ORM calls from the live-server fixtures in that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery-staple-42"

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def make_user(db):
    def make(username="alice", *, superuser=False, password=PASSWORD):
        User = get_user_model()
        if superuser:
            return User.objects.create_superuser(username, f"{username}@example.com", password)
        return User.objects.create_user(username, f"{username}@example.com", password)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("bob")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def chromium_path() -> Path:
    return Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, driven by Playwright. Never a downloaded browser."""
    path = chromium_path()
    if not path.exists():
        message = f"Chromium not found at {path} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: missing there is a failure
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (10 s): a loaded 2-core CI machine is slow.
    expect.set_options(timeout=10_000)

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(path), headless=True, args=CHROMIUM_FLAGS
    )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def emulator(settings):
    """The broker emulator on a free loopback port, with the app pointed at it."""
    from emulator import EmulatorServer

    server = EmulatorServer().start()
    settings.KITE_API_ROOT = server.url
    settings.KITE_LOGIN_URL = f"{server.url}/connect/login"
    settings.SMARTAPI_API_ROOT = server.url
    settings.SMARTAPI_INSTRUMENTS_URL = f"{server.url}/OpenAPI_File/files/OpenAPIScripMaster.json"
    settings.BROKER_READ_TIMEOUT = 1.5
    settings.BROKER_ORDER_TIMEOUT = 1.5
    settings.BROKER_READ_RETRIES = 1
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Quotes, rate-limit windows and connect nonces live in the cache: start clean."""
    from django.core.cache import cache

    cache.clear()
    yield
