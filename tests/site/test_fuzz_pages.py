"""Hypothesis fuzzing of every form POST and every GET filter: never a 5xx.

Complements tests/site/test_every_url.py (fixed garbage on every URL) with random
input: any field name a form of the app reads, any text (surrogates, NUL,
numbers past every limit). Bounded example counts keep the suite fast.
"""

from urllib.parse import quote

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.site.test_every_url import PARAMS, world  # noqa: F401 (the fixture)
from tests.site.url_walk import urls

# Every field a form of the app posts (orders/forms.py, portfolio/forms.py,
# brokers/forms.py with each adapter's credential fields, the settings cards).
FIELDS = sorted(
    {
        *PARAMS,
        *[
            "account",
            "symbol",
            "side",
            "quantity",
            "order_type",
            "product",
            "price",
            "trigger_price",
            "amo",
            "gtt",
        ],
        *["condition", "trigger_value", "expires_days", "oco_trigger_value", "oco_price", "then"],
        *[
            "name",
            "mode",
            "enabled",
            "default_product",
            "default_order_type",
            "default_quantity",
            "notes",
        ],
        *["risk-override", "risk-max_quantity", "risk-max_order_value", "risk-mode", "override"],
        *["max_order_value", "max_quantity", "max_orders_per_day", "max_open_positions"],
        *[
            "secret",
            "label",
            "api_key",
            "api_secret",
            "client_code",
            "pin",
            "totp_secret",
            "connect_pin",
            "totp",
        ],
        # The alert rule form and the screener (alerts/forms.py).
        *["target", "holdings_account", "watchlist_id", "join", "expression", "cadence"],
        *["trigger", "cooldown_minutes", "market_hours_only", "expires_at", "action"],
        *["action_account", "sizing", "size", "universe", "segment"],
        *["c0_kind", "c0_value", "c0_period", "c0_slow", "c0_ma", "c1_kind", "c1_value"],
        *[
            "starting_cash",
            "price_source",
            "orders",
            "page",
            "old_password",
            "new_password1",
            "new_password2",
        ],
    }
)
# Signing out or deleting the account under test would end the run early.
NOT_FUZZED = {"logout", "brokers:delete"}

VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["BUY", "SELL", "LIMIT", "MARKET", "SL", "SL-M", "CNC", "MIS", "NSE:SBIN"]),
    st.sampled_from(["on", "", "1", "0", "-1", "all", "AUTO", "reject", "send", "queue"]),
    st.sampled_from(["symbol", "holdings", "builder", "expression", "cross_above", "ma_cross_up"]),
    st.sampled_from(["tick", "5m", "every", "bar", "pct", "amount", "segment", "auto", "notify"]),
    st.sampled_from(["close > 1", "rsi(14) < 30", "pnl_pct > 5", "close >", "sma(close, 0) > 1"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["9" * 5000, "x" * 5000, "\ud800", "\x00", "²", "2026-02-30"]),
)
DATA = st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=14)


def encode(pairs) -> str:
    """application/x-www-form-urlencoded, lone surrogates included (as their UTF-8 form)."""
    return "&".join(
        f"{quote(name)}={quote(value, safe='', errors='surrogatepass')}" for name, value in pairs
    )


FUZZ = hsettings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_every_form_post_never_answers_5xx(client, user, world, data):  # noqa: F811
    client.force_login(user)
    client.raise_request_exception = False
    targets = [url for route, url in urls(world) if route.name not in NOT_FUZZED]
    url = data.draw(st.sampled_from(targets), label="url")
    pairs = data.draw(DATA, label="fields")
    htmx = data.draw(st.booleans(), label="htmx")
    response = client.post(
        url,
        data=encode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code < 500, (url, pairs)


@FUZZ
@given(data=st.data())
def test_every_get_filter_never_answers_5xx(client, user, world, data):  # noqa: F811
    client.force_login(user)
    client.raise_request_exception = False
    url = data.draw(st.sampled_from([url for _route, url in urls(world)]), label="url")
    pairs = data.draw(DATA, label="params")
    response = client.get(f"{url}?{encode(pairs)}")
    assert response.status_code < 500, (url, pairs)


NUMBERS = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "0.05", "812.33", "1e3", "NaN", "Infinity", "9" * 30]),
    st.decimals(min_value=-1, max_value=10**11, places=4).map(str),
    st.integers(min_value=-5, max_value=10**12).map(str),
)
ORDER = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(["NSE:SBIN", "SBIN", "sbin", "NSE:NIFTY 50", "BSE:SBIN", "x"]),
        "side": st.sampled_from(["BUY", "SELL", "HOLD"]),
        "quantity": NUMBERS,
        "order_type": st.sampled_from(["MARKET", "LIMIT", "SL", "SL-M", "GTT"]),
        "product": st.sampled_from(["CNC", "MIS", "NRML", "X"]),
        "price": NUMBERS,
        "trigger_price": NUMBERS,
        "amo": st.sampled_from(["", "on"]),
        "gtt": st.sampled_from(["", "on"]),
        "condition": st.sampled_from(["", "ltp_gte", "ltp_lte", "x"]),
        "trigger_value": NUMBERS,
        "expires_days": NUMBERS,
        "oco_trigger_value": NUMBERS,
        "oco_price": NUMBERS,
        "then": st.sampled_from(["queue", "send", "x"]),
    }
)


@hsettings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_order_shaped_posts_never_answer_5xx(client, user, world, data):  # noqa: F811
    """Well-formed order forms with extreme values reach deeper than random fields."""
    client.force_login(user)
    client.raise_request_exception = False
    fields = data.draw(ORDER, label="order")
    fields["account"] = str(data.draw(st.sampled_from(world["account_id"]), label="account"))
    order_id = world["order_id"][0]
    url = data.draw(
        st.sampled_from(["/queue/new/", f"/queue/{order_id}/edit/", "/holdings/trade/"]),
        label="url",
    )
    response = client.post(url, fields, headers={"HX-Request": "true"})
    assert response.status_code < 500, (url, fields)
