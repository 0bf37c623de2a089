"""Evaluation: crossings and trigger modes on scripted price paths, missing and stale
data, market hours, expiry, the atomic claim, holdings targets per account."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import engine
from alerts.models import AlertEvent, AlertRule, AlertState
from tests.alerts.helpers import candles, instrument, price, rule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _open_market(settings):
    settings.MARKET_CLOCK = "always-open"
    instrument("SBIN")


def cycle(**kwargs):
    return engine.run_cycle(**kwargs)


def test_crosses_above_fires_on_each_crossing_of_the_scripted_path(user):
    r = rule(user, expression="crosses_above(close, 100)")
    fired = []
    for value in [99, 101, 102, 99, 100, 101, 103]:
        price("SBIN", value)
        fired.append(cycle()["fired"])
    assert fired == [0, 1, 0, 0, 0, 1, 0]
    events = list(AlertEvent.objects.filter(rule=r).order_by("at", "id"))
    assert [e.values["close"] for e in events] == [101, 101]
    r.refresh_from_db()
    assert r.fired_count == 2 and r.last_fired_at is not None and r.status_ok


def test_the_first_look_never_fires_a_crossing(user):
    rule(user, expression="crosses_above(close, 100)")
    price("SBIN", 105)
    assert cycle()["fired"] == 0  # it was above already: nothing crossed
    price("SBIN", 106)
    assert cycle()["fired"] == 0


def test_crosses_below(user):
    rule(user, expression="crosses_below(close, 100)")
    for value, expected in [(101, 0), (99, 1), (98, 0), (101, 0), (99.5, 1)]:
        price("SBIN", value)
        assert cycle()["fired"] == expected, value


def test_once_fires_once_and_disables_the_rule(user):
    r = rule(user, expression="close >= 100", trigger=AlertRule.Trigger.ONCE)
    price("SBIN", 100)
    assert cycle()["fired"] == 1
    price("SBIN", 120)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert not r.enabled and r.status_message == "Fired once; disabled."
    assert AlertEvent.objects.filter(rule=r).count() == 1


def test_every_time_waits_out_the_cooldown(user):
    r = rule(user, expression="close >= 100", cooldown_seconds=600)
    now = timezone.now()
    price("SBIN", 101)
    assert cycle(now=now)["fired"] == 1
    assert cycle(now=now + timedelta(seconds=300))["fired"] == 0
    assert cycle(now=now + timedelta(seconds=601))["fired"] == 1
    assert AlertEvent.objects.filter(rule=r).count() == 2


def test_once_per_bar_with_price_ticks_is_once_a_day(user):
    r = rule(user, expression="close >= 100", trigger=AlertRule.Trigger.ONCE_PER_BAR)
    now = timezone.now()
    price("SBIN", 101)
    assert cycle(now=now)["fired"] == 1
    assert cycle(now=now + timedelta(seconds=30))["fired"] == 0
    assert cycle(now=now + timedelta(days=1))["fired"] == 1
    assert AlertEvent.objects.filter(rule=r).count() == 2


def test_bar_cadence_evaluates_each_new_bar_once(user):
    r = rule(
        user,
        expression="close > sma(close, 3)",
        cadence=AlertRule.Cadence.M5,
        trigger=AlertRule.Trigger.ONCE_PER_BAR,
    )
    end = timezone.now() - timedelta(minutes=5, seconds=30)  # the newest bar has closed
    candles("SBIN", [10, 10, 10, 12], interval="5m", end=end)
    assert cycle()["fired"] == 1
    assert cycle()["fired"] == 0  # same bar
    candles("SBIN", [13], interval="5m", end=end + timedelta(minutes=5))
    assert cycle(now=end + timedelta(minutes=10, seconds=10))["fired"] == 1
    assert AlertEvent.objects.filter(rule=r).count() == 2
    event = AlertEvent.objects.filter(rule=r).first()
    assert event.values["sma(close, 3)"] == pytest.approx(11.6667, abs=0.001)


def test_a_missing_price_never_fires_and_the_rule_says_so(user):
    r = rule(user, expression="close > 1")
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert not r.status_ok and "NSE:SBIN: no live price" in r.status_message
    assert r.last_evaluated_at is not None


def test_a_stale_price_never_fires(user, settings):
    settings.LIVE_STALE_SECONDS = 30
    r = rule(user, expression="close > 1")
    price("SBIN", 50, age=120)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert "the live price is 1" in r.status_message and not r.status_ok


def test_stale_candles_never_fire(user):
    r = rule(user, expression="close > sma(close, 3)")
    candles("SBIN", [1, 1, 1, 1], end=timezone.now() - timedelta(days=8))
    price("SBIN", 100)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert "1d candles are stale (newest" in r.status_message
    AlertRule.objects.filter(pk=r.pk).update(expression="close > sma(close, 3) and rsi(2) > 0")
    candles("SBIN", [1, 1, 1, 1], end=timezone.now() - timedelta(days=60))
    cycle()
    r.refresh_from_db()
    assert "1d candles are stale" in r.status_message  # the 8-day-old bars are newest


def test_too_little_history_never_fires(user):
    r = rule(user, expression="close > sma(close, 50)")
    candles("SBIN", [1, 1, 1])
    price("SBIN", 100)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert "not enough history for sma(close, 50)" in r.status_message


def test_a_tick_rule_with_indicators_uses_daily_bars_with_the_live_price(user):
    rule(user, expression="close > sma(close, 3) and change_pct > 5")
    candles("SBIN", [100, 100, 100], end=timezone.now() - timedelta(days=1))
    price("SBIN", 110, close=100)
    assert cycle()["fired"] == 1
    event = AlertEvent.objects.get()
    assert event.values["close"] == 110
    assert event.values["sma(close, 3)"] == pytest.approx(103.3333, abs=0.001)
    assert event.values["change_pct"] == pytest.approx(10)


def test_market_hours_only_waits_when_the_market_is_closed(user, settings):
    settings.MARKET_CLOCK = "always-closed"
    r = rule(user, expression="close > 1", market_hours_only=True)
    other = rule(user, expression="close > 1", market_hours_only=False)
    price("SBIN", 10)
    assert cycle()["fired"] == 1
    r.refresh_from_db()
    assert r.status_message == "Waiting for market hours."
    assert AlertEvent.objects.get().rule == other


def test_an_expired_rule_is_disabled_and_never_fires(user):
    r = rule(user, expression="close > 1", expires_at=timezone.now() - timedelta(minutes=1))
    price("SBIN", 10)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert not r.enabled and r.status_message == "Expired."


def test_a_disabled_rule_is_not_evaluated(user):
    r = rule(user, expression="close > 1", enabled=False)
    price("SBIN", 10)
    assert cycle()["rules"] == 0
    r.refresh_from_db()
    assert r.last_evaluated_at is None


def test_a_broken_expression_in_the_database_says_so_and_never_fires(user):
    r = rule(user, expression="close >")
    price("SBIN", 10)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert not r.status_ok and r.status_message.startswith("Condition:")


def test_the_claim_lets_one_of_two_evaluators_fire(user):
    now = timezone.now()
    for trigger in AlertRule.Trigger.values:
        r = rule(user, trigger=trigger, cooldown_seconds=60)
        state = AlertState.objects.create(rule=r, key="NSE:SBIN")
        # Both evaluators loaded the same rule and state before either claimed: each
        # has its own copies, so only the database can tell the second it lost.
        copies = [
            (AlertRule.objects.get(pk=r.pk), AlertState.objects.get(pk=state.pk)) for _ in range(2)
        ]
        taken = [engine.claim(rule=a, state=b, bar_at=now, now=now) for a, b in copies]
        assert taken == [True, False], trigger


def test_two_cycles_that_both_saw_the_condition_fire_once(user):
    """The second evaluator loaded its rules before the first fired."""
    r = rule(user, expression="close >= 100", trigger=AlertRule.Trigger.ONCE)
    price("SBIN", 100)
    loaded_by_second = list(engine.due_rules(timezone.now()))
    assert cycle()["fired"] == 1
    assert cycle(rules=loaded_by_second)["fired"] == 0
    assert AlertEvent.objects.filter(rule=r).count() == 1
    r.refresh_from_db()
    assert not r.enabled and r.status_message == "Fired once; disabled."


def test_rules_are_evaluated_per_user_data_only(user, other_user):
    mine = rule(user, expression="close > 1")
    theirs = rule(other_user, expression="close > 1")
    price("SBIN", 10)
    cycle()
    assert AlertEvent.objects.get(rule=mine).user == user
    assert AlertEvent.objects.get(rule=theirs).user == other_user


def test_a_watchlist_target_that_is_gone_says_so_and_a_present_one_is_evaluated(user):
    from watchlists.services import create_list_of_symbols

    r = rule(user, target=AlertRule.Target.WATCHLIST, symbol="", watchlist_id=999999)
    cycle()
    r.refresh_from_db()
    assert not r.status_ok and "no longer exists" in r.status_message
    banks = create_list_of_symbols(user=user, name="Banks", symbols=[("NSE", "SBIN")])
    AlertRule.objects.filter(pk=r.pk).update(watchlist_id=banks.pk)
    price("SBIN", 10)
    cycle()
    r.refresh_from_db()
    assert r.status_ok, r.status_message


def test_holding_fields_on_a_symbol_target_are_refused(user):
    r = rule(user, expression="pnl_pct > 1")
    price("SBIN", 10)
    cycle()
    r.refresh_from_db()
    assert "holdings target" in r.status_message


def test_a_bar_rule_never_reads_the_bar_still_forming(user):
    """A broker's history includes the current interval's bar: per bar close means the
    closed ones only."""
    r = rule(
        user,
        expression="close > 100",
        cadence=AlertRule.Cadence.M5,
        trigger=AlertRule.Trigger.ONCE_PER_BAR,
    )
    now = timezone.now()
    candles("SBIN", [90, 90, 150], interval="5m", end=now - timedelta(minutes=2))
    assert cycle(now=now)["fired"] == 0  # the 150 bar closes in 3 minutes
    assert cycle(now=now + timedelta(minutes=3, seconds=5))["fired"] == 1
    assert AlertEvent.objects.get(rule=r).values["close"] == 150


def test_one_rule_failing_to_fire_does_not_stop_the_others(user, monkeypatch):
    from alerts import actions

    broken = rule(user, name="broken", expression="close > 1")
    fine = rule(user, name="fine", expression="close > 1")
    real_fire = actions.fire

    def fire(*, rule, look, now):
        if rule.pk == broken.pk:
            raise RuntimeError("disk full")
        return real_fire(rule=rule, look=look, now=now)

    monkeypatch.setattr(actions, "fire", fire)
    price("SBIN", 10)
    assert cycle()["fired"] == 1
    assert AlertEvent.objects.get().rule == fine
    broken.refresh_from_db()
    assert "firing failed" in broken.status_message and not broken.status_ok
    # Nothing of the failed firing was kept: its claim rolled back with it.
    assert AlertState.objects.get(rule=broken).last_fired_at is None


def test_a_runtime_division_by_zero_is_not_evaluable_with_a_reason_and_clears(user):
    """Review (issue 17, item 5): a division by zero left the rule "Needs attention"."""
    r = rule(user, expression="close / (close - 100) > 1")
    price("SBIN", 100)
    assert cycle()["fired"] == 0
    r.refresh_from_db()
    assert not r.status_ok
    assert "NSE:SBIN: a division by zero (its divisor is 0 now)" in r.status_message
    price("SBIN", 150)  # 150 / 50 = 3
    assert cycle()["fired"] == 1
    r.refresh_from_db()
    assert r.status_ok and r.status_message == ""
