"""Every URL of the app needs a signed-in user, except the few meant to be public."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# The webhook authenticates by the secret token in its URL (TradingView sends no cookies).
PUBLIC = {"login", "healthz", "tradingview-webhook"}
# Public only while no user exists (first run); tested in test_first_run.
FIRST_RUN = {"dashboard"}


def iter_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from iter_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "id": "1",
    "path": "x",
    "uuid": "6f1c1d3e-0000-4000-8000-000000000000",
}


def concrete_path(route: str) -> str:
    import re

    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x"), route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    return "/" + route


def test_every_app_url_redirects_anonymous_users_to_sign_in(client, user):
    checked = 0
    for route, pattern in iter_patterns():
        if pattern.name in PUBLIC or route.startswith("admin/"):
            continue
        path = concrete_path(route)
        response = client.get(path)
        assert response.status_code == 302, f"{path} answered {response.status_code}"
        assert response["Location"].startswith(reverse("login")), path
        checked += 1
    assert (
        checked >= 8
    )  # dashboard, queue, orders, holdings, positions, alerts, settings, events...


def test_admin_urls_need_staff(client, user):
    for route, pattern in iter_patterns():
        if not route.startswith("admin/") or pattern.name == "login":
            continue
        path = concrete_path(route)
        response = client.get(path)
        assert response.status_code in (302, 404), f"{path} answered {response.status_code}"
        if response.status_code == 302:
            assert "login" in response["Location"], path


def test_public_urls_are_exactly_the_intended_ones(client, user):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).status_code in (200, 503)


def test_signed_in_user_reaches_every_navigation_page(signed_in):
    for name in (
        "dashboard",
        "orders:queue",
        "orders:orders",
        "portfolio:holdings",
        "portfolio:positions",
        "orders:alerts",
        "alerts:list",
        "alerts:screener",
        "settings",
        "events",
        "password_change",
    ):
        response = signed_in.get(reverse(name))
        assert response.status_code == 200, name
        assert b'href="/static/css/app.css"' in response.content


def test_logout_is_post_only_and_signs_out(signed_in):
    assert signed_in.get(reverse("logout")).status_code == 405
    response = signed_in.post(reverse("logout"))
    assert response.status_code == 302
    assert signed_in.get(reverse("orders:queue")).status_code == 302


def test_password_change_replaces_the_password(signed_in, user):
    from tests.conftest import PASSWORD

    response = signed_in.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-fresh-and-long-passphrase",
            "new_password2": "a-fresh-and-long-passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password("a-fresh-and-long-passphrase")
    # Still signed in on this session (Django rotates the session hash).
    assert signed_in.get(reverse("orders:queue")).status_code == 200


def test_password_change_with_a_wrong_old_password_shows_the_error(signed_in, user):
    response = signed_in.post(
        reverse("password_change"),
        {
            "old_password": "nope",
            "new_password1": "x-long-pass-1",
            "new_password2": "x-long-pass-1",
        },
    )
    assert response.status_code == 200
    assert b"Your old password was entered incorrectly" in response.content
