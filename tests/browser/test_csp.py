"""A strict Content-Security-Policy, and no page breaks it (issue 13, item 9).

Every main page (and the htmx swaps that add markup: the strategy editor, the
two-factor QR code) loads in Chromium with a violation listener and the console
watched; any violation fails the test."""

import re

import pytest
from playwright.sync_api import expect

from brokers import accounts, connections
from orders import webhook
from orders.models import Strategy
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked=${e.blockedURI} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""
PAGES = [
    "/",
    "/queue/",
    "/orders/",
    "/holdings/",
    "/positions/",
    "/alerts/",
    "/alerts/new/",
    "/alerts/screener/",
    "/webhook-log/",
    "/settings/",
    "/settings/security/",
    "/events/",
    "/holdings/history/",
    "/brokers/accounts/new/",
    "/brokers/accounts/new/?broker=paper",
    "/accounts/password/",
]


@pytest.fixture
def watched(page):
    console = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    def violations():
        return console + page.evaluate("window.__csp || []")

    return page, violations


def test_every_main_page_loads_without_a_csp_violation(watched, user):
    page, violations = watched
    paper = accounts.create_account(
        user=user, broker="paper", label="paper", credentials={"starting_cash": "100000"}
    )
    connections.connect_with_credentials(account=paper, per_connect={})
    webhook.issue_token(user)
    strategy = Strategy.objects.create(user=user, name="Breakout", account=paper)

    response = page.goto("/accounts/login/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    assert not violations(), ("/accounts/login/ and /", violations())

    for path in [*PAGES, f"/brokers/accounts/{paper.pk}/edit/"]:
        answer = page.goto(path)
        assert answer.status == 200, path
        page.wait_for_load_state("networkidle")
        assert not violations(), (path, violations())

    # htmx swaps: the strategy editor and the two-factor QR code.
    page.goto("/settings/")
    page.locator(f"#strategy-{strategy.pk}").get_by_role("button", name="Edit").click()
    expect(page.locator(f"#strategy-{strategy.pk} form")).to_be_visible()
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#security svg")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert not violations(), ("settings swaps", violations())
    # The account switcher submits on change without an inline handler.
    page.goto("/queue/")
    assert page.locator("#account-switch").count() == 1
    assert page.locator("[onchange], [onclick], [style]").count() == 0
    assert not violations(), ("queue", violations())


def test_admin_pages_load_without_a_csp_violation(watched, make_user):
    page, violations = watched
    operator = make_user("root", superuser=True)
    page.goto("/accounts/login/?next=/admin/")
    page.get_by_label("Username").fill(operator.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    for path in [
        "/admin/",
        "/admin/sigmatrader/systemevent/",
        "/admin/brokers/brokeraccount/",
        "/admin/auth/user/",
        f"/admin/auth/user/{operator.pk}/change/",
        "/admin/axes/accessattempt/",
    ]:
        assert page.goto(path).status == 200, path
        page.wait_for_load_state("networkidle")
        assert not violations(), (path, violations())


def test_two_factor_enroll_and_sign_in_in_the_browser(watched, user):
    import pyotp

    from sigmatrader.models import AuthenticatorDevice

    page, violations = watched
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/settings/security/")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code the app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.locator("#security")).to_contain_text("Sign-in asks for the code")
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("6-digit code")
    AuthenticatorDevice.objects.update(last_t=-1)  # as if the next 30 s step had come
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Two-factor code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    assert not violations(), violations()
