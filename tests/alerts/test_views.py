"""The Alerts pages: list, the form (builder and expression), the would-fire test,
events, notifications, the screener pages; scoping and bad input."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts import engine
from alerts.models import AlertEvent, AlertRule, ScreenerRun
from tests.alerts.helpers import candles, instrument, price, rule

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "name": "SBIN breakout",
        "enabled": "on",
        "target": "symbol",
        "symbol": "nse:sbin",
        "mode": "builder",
        "join": "and",
        "c0_kind": "cross_above",
        "c0_value": "100",
        "c1_kind": "rsi_below",
        "c1_value": "70",
        "c1_period": "14",
        "expression": "",
        "cadence": "tick",
        "trigger": "every",
        "cooldown_minutes": "5",
        "market_hours_only": "on",
        "expires_at": "",
        "action": "notify",
        "side": "BUY",
        "sizing": "qty",
        "size": "",
        "product": "CNC",
    }
    data.update(overrides)
    return data


def test_the_list_shows_rules_with_their_status(signed_in, user):
    r = rule(user, name="Breakout watch", expression="close > 100")
    AlertRule.objects.filter(pk=r.pk).update(
        status_ok=False, status_message="NSE:SBIN: no live price"
    )
    page = signed_in.get(reverse("alerts:list")).content.decode()
    assert "Breakout watch" in page and "no live price" in page and "Needs attention" in page


def test_creating_with_the_builder_compiles_to_an_expression(signed_in, user):
    response = signed_in.post(reverse("alerts:new"), form_data())
    assert response.status_code == 302
    r = AlertRule.objects.get(user=user)
    assert r.symbol == "NSE:SBIN"
    assert r.expression == "crosses_above(close, 100) and rsi(close, 14) < 70"
    assert r.builder["clauses"][0]["kind"] == "cross_above"
    assert r.cooldown_seconds == 300
    # Editing shows the builder again with the clauses.
    page = signed_in.get(reverse("alerts:edit", args=[r.pk])).content.decode()
    assert 'value="cross_above" selected' in page


def test_an_invalid_expression_is_shown_with_its_column_and_nothing_saved(signed_in, user):
    response = signed_in.post(
        reverse("alerts:new"), form_data(mode="expression", expression="close > smaa(close, 3)")
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Unknown function &#x27;smaa&#x27;" in page and "(column 9)" in page
    assert not AlertRule.objects.exists()


def test_an_order_action_needs_an_account_and_a_size(signed_in, user):
    response = signed_in.post(reverse("alerts:new"), form_data(action="queue"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose the account the order goes to." in page and "Enter the order size." in page


@pytest.mark.parametrize(
    "overrides",
    [
        {"target": "nonsense"},
        {"cadence": "7m"},
        {"c0_value": "abc"},
        {"c0_kind": "ma_cross_up", "c0_period": "x"},
        {"mode": "expression", "expression": "__import__('os').system('x')"},
        {"mode": "expression", "expression": "\x00"},
        {"expires_at": "not a date"},
        {"cooldown_minutes": "-1"},
        {"action": "auto", "action_account": "999999999999999999999999", "size": "1"},
        {"holdings_account": "abc", "target": "holdings"},
        {"size": "1e999", "action": "queue"},
        {"watchlist_id": "0", "target": "watchlist"},
    ],
)
def test_bad_input_gets_a_message_never_a_5xx(signed_in, overrides):
    response = signed_in.post(reverse("alerts:new"), form_data(**overrides))
    assert response.status_code in (302, 422)
    if response.status_code == 422:
        assert not AlertRule.objects.exists()


def test_another_users_account_cannot_be_named(signed_in, user, other_user, emulator):
    from tests.brokers.peers import connected_account

    theirs, _ = connected_account(emulator, other_user, "zerodha", "theirs")
    response = signed_in.post(
        reverse("alerts:new"),
        form_data(action="queue", action_account=str(theirs.pk), size="1"),
    )
    assert response.status_code == 422 and not AlertRule.objects.exists()


def test_another_users_rule_looks_absent(client, user, other_user):
    theirs = rule(other_user)
    client.force_login(user)
    for name in ("alerts:edit", "alerts:events"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    for name in ("alerts:toggle", "alerts:delete"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    assert AlertRule.objects.filter(pk=theirs.pk, enabled=True).exists()


def test_would_it_fire_now_against_current_data(signed_in, user, settings):
    settings.MARKET_CLOCK = "always-open"
    instrument("SBIN")
    candles("SBIN", [90, 95, 99], end=timezone.now() - timedelta(days=1))
    price("SBIN", 101)
    page = signed_in.post(reverse("alerts:test"), form_data()).content.decode()
    assert "Cannot tell" in page and "not enough history for rsi(close, 14)" in page
    page = signed_in.post(
        reverse("alerts:test"), form_data(c1_kind="", c0_kind="price_above", c0_value="100")
    ).content.decode()
    assert 'data-testid="would-fire-yes"' in page and "close = 101" in page
    assert not AlertEvent.objects.exists() and not AlertRule.objects.exists()
    page = signed_in.post(
        reverse("alerts:test"), form_data(mode="expression", expression="close >")
    ).content.decode()
    assert "ends too soon" in page


def test_toggle_delete_and_an_expired_rule_stays_off(signed_in, user):
    r = rule(user)
    signed_in.post(reverse("alerts:toggle", args=[r.pk]), HTTP_HX_REQUEST="true")
    r.refresh_from_db()
    assert not r.enabled
    AlertRule.objects.filter(pk=r.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    page = signed_in.post(reverse("alerts:toggle", args=[r.pk]), HTTP_HX_REQUEST="true")
    assert "has expired" in page.content.decode()
    r.refresh_from_db()
    assert not r.enabled
    signed_in.post(reverse("alerts:delete", args=[r.pk]), HTTP_HX_REQUEST="true")
    assert not AlertRule.objects.exists()


def test_fired_events_show_as_notifications_and_in_the_rules_history(signed_in, user, settings):
    settings.MARKET_CLOCK = "always-open"
    instrument("SBIN")
    r = rule(user, name="Above 100", expression="close > 100", market_hours_only=False)
    price("SBIN", 120)
    engine.run_cycle()
    page = signed_in.get(reverse("alerts:list")).content.decode()
    assert 'data-testid="alert-notification"' in page and "1 new" in page
    history = signed_in.get(reverse("alerts:events", args=[r.pk])).content.decode()
    assert "close = 120" in history
    signed_in.post(reverse("alerts:notifications-read"), HTTP_HX_REQUEST="true")
    assert not AlertEvent.objects.filter(seen=False).exists()


def test_the_webhook_log_is_renamed_and_alerts_mean_rules(signed_in):
    page = signed_in.get(reverse("orders:alerts")).content.decode()
    assert "<h1>Webhook log</h1>" in page and reverse("orders:alerts") == "/webhook-log/"
    assert ">Webhook log</a>" in page and 'href="/alerts/"' in page


def test_the_screener_runs_over_a_segment_and_sorts(
    signed_in, user, settings, django_capture_on_commit_callbacks
):
    from celery import current_app

    for symbol, closes in {
        "AAA": [10, 10, 10, 10, 14],
        "BBB": [10, 10, 10, 10, 9],
        "CCC": [10, 10, 10, 10, 12],
    }.items():
        candles(symbol, closes)
    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in.post(
                reverse("alerts:screener"),
                {"universe": "segment", "segment": "NSE", "expression": "close > sma(close, 3)"},
            )
    finally:
        current_app.conf.task_always_eager = False
    run = ScreenerRun.objects.get(user=user)
    assert response.status_code == 302 and run.status == "done"
    assert (run.total, run.done, run.matched) == (3, 3, 2)
    page = signed_in.get(reverse("alerts:screener-run", args=[run.pk]), {"sort": "-close"})
    text = page.content.decode()
    assert text.index("NSE:AAA") < text.index("NSE:CCC") and "NSE:BBB" not in text
    page = signed_in.get(reverse("alerts:screener-run", args=[run.pk]), {"sort": "symbol"})
    text = page.content.decode()
    assert text.index("NSE:AAA") < text.index("NSE:CCC")


def test_the_screener_refuses_bad_conditions_with_the_column(signed_in):
    response = signed_in.post(
        reverse("alerts:screener"),
        {"universe": "segment", "segment": "NSE", "expression": "close > > 1"},
    )
    assert response.status_code == 422 and "column 9" in response.content.decode()
    response = signed_in.post(
        reverse("alerts:screener"),
        {"universe": "segment", "segment": "XX", "expression": "close > 1"},
    )
    assert response.status_code == 422
    assert not ScreenerRun.objects.exists()


def test_another_users_screener_run_looks_absent(client, user, other_user):
    run = ScreenerRun.objects.create(
        user=other_user, universe="segment", segment="NSE", expression="close > 1"
    )
    client.force_login(user)
    assert client.get(reverse("alerts:screener-run", args=[run.pk])).status_code == 404
    assert client.post(reverse("alerts:screener-rerun", args=[run.pk])).status_code == 404


def test_the_symbol_is_checked_and_stored_under_its_canonical_name(signed_in, user, emulator):
    from marketdata import refresh
    from tests.brokers.peers import connected_account

    connected_account(emulator, user, "angelone", "main")
    refresh.refresh_instruments(broker="angelone")
    response = signed_in.post(reverse("alerts:new"), form_data(symbol="NSE:SBIN-EQ"))
    assert response.status_code == 302
    assert AlertRule.objects.get().symbol == "NSE:SBIN"
    response = signed_in.post(reverse("alerts:new"), form_data(symbol="NSE:NOSUCHTHING"))
    assert response.status_code == 422 and 'data-testid="error-symbol"' in response.content.decode()


def test_a_changed_condition_starts_its_crossings_afresh_and_expiry_is_read_in_ist(signed_in, user):
    from alerts.models import AlertState

    signed_in.post(reverse("alerts:new"), form_data(expires_at="2030-01-02T15:30"))
    r = AlertRule.objects.get()
    assert timezone.localtime(r.expires_at).strftime("%Y-%m-%d %H:%M") == "2030-01-02 15:30"
    assert r.expires_at.utcoffset() is not None
    AlertState.objects.create(rule=r, key="NSE:SBIN", previous={"x": [1, 2]})
    signed_in.post(reverse("alerts:edit", args=[r.pk]), form_data(name="renamed"))
    assert AlertState.objects.filter(rule=r).exists()  # same condition: kept
    signed_in.post(reverse("alerts:edit", args=[r.pk]), form_data(c0_value="120"))
    assert not AlertState.objects.filter(rule=r).exists()


def test_a_stalled_screener_run_stops_polling_and_offers_a_rerun(signed_in, user):
    run = ScreenerRun.objects.create(
        user=user, universe="segment", segment="NSE", expression="close > 1", status="running"
    )
    ScreenerRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    page = signed_in.get(reverse("alerts:screener-run", args=[run.pk])).content.decode()
    assert "stopped answering" in page and 'hx-trigger="every 1s"' not in page
    assert "Run again" in page


def test_a_screener_run_that_breaks_is_failed_not_left_running(user, monkeypatch):
    from alerts import screener

    run = ScreenerRun.objects.create(
        user=user, universe="segment", segment="NSE", expression="close > 1"
    )
    candles("SBIN", [1, 2, 3])

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(screener.data, "load_bars", broken)
    assert screener.run(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "Unexpected error."
    assert screener.run(run.pk) == "not queued"  # a redelivery does not run it again


def test_a_user_keeps_at_most_the_allowed_number_of_rules(signed_in, user, settings):
    settings.ALERTS_MAX_RULES_PER_USER = 2
    for _ in range(2):
        assert signed_in.post(reverse("alerts:new"), form_data()).status_code == 302
    response = signed_in.post(reverse("alerts:new"), form_data())
    assert response.status_code == 422 and "the most one user may keep" in response.content.decode()
    first = AlertRule.objects.first()
    assert signed_in.post(reverse("alerts:edit", args=[first.pk]), form_data()).status_code == 302


def test_the_list_costs_the_same_queries_for_2_or_40_rules_and_events(signed_in, user, emulator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.models import AlertEvent
    from tests.brokers.peers import connected_account

    account, _ = connected_account(emulator, user, "zerodha", "main")

    def add(count):
        for n in range(count):
            r = rule(
                user,
                name=f"r{n}",
                target="holdings",
                symbol="",
                holdings_account=account,
                action="queue",
                action_account=account,
                side="SELL",
                sizing="pct",
                size=50,
            )
            AlertEvent.objects.create(
                rule=r, user=user, symbol="NSE:SBIN", account=account, message="m", outcome="x"
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(reverse("alerts:list")).status_code == 200
        return len(captured)

    add(2)
    few = queries()
    add(38)
    assert queries() == few


@pytest.fixture
def paper_account(user):
    from brokers import accounts

    return accounts.create_account(
        user=user, broker="paper", label="paper", credentials={"starting_cash": "100000"}
    )


@pytest.fixture
def order_form(paper_account):
    """The form of a holdings rule that queues an order on `paper_account`."""

    def make(**overrides):
        values = {
            "target": "holdings",
            "symbol": "",
            "action": "queue",
            "action_account": str(paper_account.pk),
            "side": "SELL",
            "sizing": "qty",
            "size": "1",
        }
        values.update(overrides)
        return form_data(**values)

    return make


def refused(response, field: str) -> str:
    assert response.status_code == 422 and not AlertRule.objects.exists()
    page = response.content.decode()
    assert f'data-testid="error-{field}"' in page, page
    return page


@pytest.mark.parametrize("size", ["1.5", "0.5", "0"])
def test_a_quantity_is_a_whole_number_of_at_least_one(signed_in, order_form, size):
    """Review (issue 17, item 1): 1.5 was accepted, listed as "BUY 2" and queued as 1."""
    response = signed_in.post(reverse("alerts:new"), order_form(size=size))
    assert response.status_code == 422 and not AlertRule.objects.exists()
    assert "size" in response.context["form"].errors


def test_sizes_show_as_entered_in_the_list_and_the_edit_form(signed_in, order_form, user):
    from decimal import Decimal

    assert signed_in.post(reverse("alerts:new"), order_form(size="12")).status_code == 302
    r = AlertRule.objects.get()
    assert r.size == Decimal("12")
    page = signed_in.get(reverse("alerts:list")).content.decode()
    assert "SELL 12 ·" in page
    edit = signed_in.get(reverse("alerts:edit", args=[r.pk])).content.decode()
    assert 'name="size" value="12"' in edit and "12.0000" not in edit
    AlertRule.objects.filter(pk=r.pk).update(sizing="pct", size=Decimal("12.5"))
    assert "SELL 12.5 %" in signed_in.get(reverse("alerts:list")).content.decode()
    AlertRule.objects.filter(pk=r.pk).update(sizing="amount", size=Decimal("25000"))
    assert "SELL ₹25,000 ·" in signed_in.get(reverse("alerts:list")).content.decode()


def test_percent_of_the_holding_sizes_only_a_sell(signed_in, order_form):
    response = signed_in.post(
        reverse("alerts:new"), order_form(side="BUY", sizing="pct", size="10")
    )
    page = refused(response, "sizing")
    assert "sizes a sell only" in page


def test_an_expiry_in_the_past_is_refused(signed_in, order_form):
    past = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = refused(signed_in.post(reverse("alerts:new"), order_form(expires_at=past)), "expires_at")
    assert "has passed" in page


def test_a_holdings_order_names_the_account_that_holds_the_shares(
    signed_in, order_form, user, paper_account
):
    from brokers import accounts

    other = accounts.create_account(
        user=user, broker="paper", label="other", credentials={"starting_cash": "1"}
    )
    response = signed_in.post(reverse("alerts:new"), order_form(holdings_account=str(other.pk)))
    assert "account that holds the shares" in refused(response, "action_account")
    page = signed_in.get(reverse("alerts:new")).content.decode()
    assert "watches only the order account’s holdings" in page
    assert "a holdings or watchlist alert fires once for each symbol" in page
    # "All accounts" with an order: the list says whose holdings are watched.
    assert signed_in.post(reverse("alerts:new"), order_form()).status_code == 302
    page = signed_in.get(reverse("alerts:list")).content.decode()
    assert f"Holdings of {paper_account.display_name}" in page


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"c0_kind": "price_above", "c0_value": "-100", "c1_kind": ""}, "a price is above 0"),
        ({"c0_kind": "cross_below", "c0_value": "0", "c1_kind": ""}, "a price is above 0"),
        ({"mode": "expression", "expression": "close >= -100"}, "A price is never below 0"),
        ({"mode": "expression", "expression": "close / 0 > 1"}, "Division by zero"),
        ({"mode": "expression", "expression": "close / -0.0 > 1"}, "Division by zero"),
    ],
)
def test_conditions_that_can_never_be_meant_are_refused(signed_in, overrides, message):
    response = signed_in.post(reverse("alerts:new"), form_data(**overrides))
    assert response.status_code == 422 and not AlertRule.objects.exists()
    assert message in response.content.decode()


def test_a_watchlist_target_shows_the_lists_name(signed_in, user, other_user):
    """Review (issue 17, item 6): the target read "Watchlist #1"."""
    from watchlists.services import create_list_of_symbols

    mine = create_list_of_symbols(user=user, name="Momentum", symbols=[("NSE", "SBIN")])
    theirs = create_list_of_symbols(user=other_user, name="Secret", symbols=[("NSE", "SBIN")])
    r = rule(user, target=AlertRule.Target.WATCHLIST, symbol="", watchlist_id=mine.pk)
    rule(user, name="forged", target=AlertRule.Target.WATCHLIST, symbol="", watchlist_id=theirs.pk)
    page = signed_in.get(reverse("alerts:list")).content.decode()
    assert "Watchlist Momentum" in page and "Secret" not in page
    assert "A watchlist that no longer exists" in page
    assert (
        "Watchlist Momentum"
        in signed_in.get(reverse("alerts:events", args=[r.pk])).content.decode()
    )


def test_a_notify_only_notification_says_what_made_it_fire(signed_in, user, settings):
    """Review: a notify-only notification carried no text beyond the rule and symbol."""
    settings.MARKET_CLOCK = "always-open"
    instrument("SBIN")
    rule(user, name="Above 100", expression="close > 100")
    price("SBIN", 120)
    engine.run_cycle()
    event = AlertEvent.objects.get()
    assert event.message == "Above 100: NSE:SBIN — close > 100 (close = 120 · price = 120)"
    page = signed_in.get(reverse("alerts:list")).content.decode()
    assert 'data-testid="alert-notification-values">close = 120 · price = 120<' in page


def test_the_symbol_search_and_check_use_the_chosen_order_account(signed_in, user, emulator):
    """Review (issue 17, item 8): the search used the session's current account."""
    from marketdata import refresh
    from tests.brokers.peers import connected_account

    main, _ = connected_account(emulator, user, "zerodha", "main", default=True)
    family, _ = connected_account(emulator, user, "angelone", "family")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    url = reverse("alerts:symbol-search")
    page = signed_in.get(url, {"symbol": "SBI", "action_account": family.pk}).content.decode()
    assert 'data-symbol="SBIN-EQ"' in page  # Angel One's spelling
    page = signed_in.get(url, {"symbol": "SBI", "action_account": main.pk}).content.decode()
    assert 'data-symbol="SBIN"' in page and "SBIN-EQ" not in page
    form = signed_in.get(reverse("alerts:new")).content.decode()
    assert f'hx-get="{url}"' in form
    # The symbol picked from the family account's list is checked against that account.
    response = signed_in.post(
        reverse("alerts:new"),
        form_data(symbol="NSE:SBIN-EQ", action="queue", action_account=str(family.pk), size="1"),
    )
    assert response.status_code == 302 and AlertRule.objects.get().symbol == "NSE:SBIN"
