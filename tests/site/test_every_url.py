"""Every page and fragment, with garbage in every query parameter: never a 5xx.

The URL resolver is walked (tests/site/url_walk.py), so a new view is covered the day
it is added, with the signed-in user's own objects in its URL.
"""

import contextlib

import pytest

from marketdata import refresh
from tests.brokers.peers import connected_account
from tests.site.url_walk import owned_objects, urls

# Every query parameter any view reads, and a few it does not.
PARAMS = [
    "account", "page", "date", "status", "source", "outcome", "level", "category", "q",
    "symbol", "side", "quantity", "sort", "scope", "broker", "next", "order_type",
    "product", "price", "trigger_price", "state", "request_token", "action", "zzz",
]  # fmt: skip

# Raw (already percent-encoded) values: %ED%A0%80 is a lone surrogate in UTF-8 form,
# %FF is no UTF-8 at all.
GARBAGE = [
    "garbage",
    "9" * 26,
    "9" * 5000,
    "-1",
    "-99999999999999999999999999",
    "0",
    "%ED%A0%80",
    "%FF%FE",
    "%00",
    "x" * 5000,
    "%C2%B2",  # "²": str.isdigit() says yes, int() says no
    "1e400",
    "NaN",
    "2026-02-30",
    "all",
    "",
]
HX_GARBAGE = {"garbage", "9" * 26, "9" * 5000, "-1", "%ED%A0%80", "%C2%B2", "2026-02-30"}


@pytest.fixture
def world(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    zerodha, _ = connected_account(emulator, user, "zerodha", "kite", default=True)
    angelone, _ = connected_account(emulator, user, "angelone", "angel")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    return owned_objects(user, emulator, (zerodha, angelone))


def query(value: str) -> str:
    return "&".join(f"{name}={value}" for name in PARAMS)


def test_every_page_and_fragment_with_garbage_parameters_never_answers_5xx(client, user, world):
    client.force_login(user)
    client.raise_request_exception = False  # count every 5xx, not just the first
    failures = []
    checked = 0
    for _route, url in urls(world):
        for value in GARBAGE:
            # The fragment path too, for the values most likely to break a parser.
            for headers in ({}, {"HX-Request": "true"}) if value in HX_GARBAGE else ({},):
                response = client.get(f"{url}?{query(value)}", headers=headers)
                checked += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} GET {url}?…={value[:30]} {headers}")
    assert checked > 500
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", ["%ED%A0%80", "9" * 26, "x" * 5000, "javascript:x"])
def test_signed_out_pages_with_garbage_never_answer_5xx(client, user, value):
    client.raise_request_exception = False
    for url in ("/", "/accounts/login/", "/healthz", "/queue/"):
        response = client.get(f"{url}?{query(value)}")
        assert response.status_code < 500, url


# Writes a GET may make: the session row, the user's last sign-in. Nothing else.
ALLOWED_WRITES = ("django_session", "auth_user")


class WriteDetector:
    """A database execute wrapper that remembers every statement that changes a row."""

    def __init__(self):
        self.writes = []

    def __call__(self, execute, sql, params, many, context):
        statement = sql.lstrip().upper()
        writes = statement.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))
        if writes and not any(f'"{table.upper()}"' in statement for table in ALLOWED_WRITES):
            self.writes.append(sql[:120])
        return execute(sql, params, many, context)


def test_no_get_changes_anything(client, user, world):
    """Every state change is a POST: GET every URL of the user's own objects, no row changes."""
    from django.db import connection

    client.force_login(user)
    client.raise_request_exception = False
    offenders = []
    for _route, url in urls(world):
        for headers in ({}, {"HX-Request": "true"}):
            detector = WriteDetector()
            with connection.execute_wrapper(detector):
                response = client.get(url, headers=headers)
            if detector.writes:
                offenders.append(f"GET {url} ({response.status_code}) wrote: {detector.writes[0]}")
    assert not offenders, "\n".join(offenders)


def test_every_admin_list_and_form_with_garbage_parameters_never_answers_5xx(
    client, make_user, world
):
    """The operator's pages too: each registered model's list, add and change forms."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    client.force_login(make_user("root", superuser=True))
    client.raise_request_exception = False
    failures = []
    for model, _model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages = [reverse("admin:{}_{}_changelist".format(*info))]
        with contextlib.suppress(NoReverseMatch):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
        for url in pages:
            for value in GARBAGE[:6]:
                garbage = f"{query(value)}&o={value}&p={value}&q={value}&_changelist_filters=x"
                response = client.get(f"{url}?{garbage}")
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} GET {url}?…={value[:30]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("segment", ["%ED%A0%80", "%FF", "x" * 5000, "%00", "9" * 26])
def test_garbage_in_url_paths_never_answers_5xx(client, user, segment):
    """Path segments too: the webhook token, an id slot, a broker slug."""
    client.raise_request_exception = False
    response = client.post(
        f"/webhooks/tradingview/{segment}/", data=b'{"a": "\\ud800"}', content_type="text/plain"
    )
    assert response.status_code == 404
    client.force_login(user)
    for url in (f"/queue/{segment}/", f"/brokers/{segment}/callback/", f"/holdings/{segment}/"):
        assert client.get(url).status_code < 500, url
