"""Daily loss limit, TradingHalt and the kill switch, against the emulator (real
Kite client): trips on an unrealised loss, the claim check, exactly-once actions,
retries, unknown P&L, next-day re-arm, release, webhook AUTO during a halt."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from emulator import Fault
from marketdata import clock
from orders import halts as order_halts
from orders.execution import create_order, execute
from orders.models import Order, Strategy, TradingHalt
from orders.recovery import stranded_auto_orders
from orders.sync import order_sync_account
from portfolio.models import PortfolioSync
from portfolio.sync import portfolio_sync_account
from protection import halt_runners, halts, limits
from protection.day_pnl import read_account
from protection.models import DayReading, HaltAction, LossLimit
from sigmatrader.models import SystemEvent
from tests.protection.helpers import halt_now

pytestmark = pytest.mark.django_db


def book_orders(peer, **match):
    return [
        o
        for o in peer.user.book.orders.values()
        if all(getattr(o, k) == v for k, v in match.items())
    ]


def new(account, symbol="TCS", *, strategy=None, **fields):
    fields.setdefault("side", "BUY")
    fields.setdefault("quantity", 1)
    fields.setdefault("product", "MIS")
    return create_order(
        user=account.user,
        account=account,
        symbol=f"NSE:{symbol}",
        actor="alice",
        strategy=strategy,
        source=Order.Source.TRADINGVIEW if strategy else Order.Source.MANUAL,
        **fields,
    )


def limit(account, **fields):
    fields.setdefault("max_loss", Decimal("500"))
    fields.setdefault("escalation", LossLimit.Escalation.BLOCK)
    return LossLimit.objects.create(user=account.user, account=account, **fields)


def test_halt_trips_on_an_unrealised_loss_and_squares_off_once(desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0  # read afresh every pass in the test
    limit(account, escalation=LossLimit.Escalation.SQUARE_OFF)
    limits.evaluate_limits()
    assert not TradingHalt.objects.exists()  # flat at ₹600: P&L 0, within the limit
    reading = DayReading.objects.get(account=account)
    assert reading.pnl == Decimal("0") and reading.error == ""

    # Nothing was sold: the loss is all unrealised (the earlier app could not see it).
    peer.server.state.market.set_price("NSE", "SBIN", "540")
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    assert (halt.reason, halt.account, halt.trading_day) == (
        "loss_limit",
        account,
        clock.trading_day(),
    )
    assert halt.figures["pnl"] == "-600.00" and halt.figures["max_loss"] == "500.00"
    square = HaltAction.objects.get(halt=halt, kind="square_off")
    assert square.state == "done" and square.order.side == "SELL" and square.order.quantity == 10
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1

    # The next passes find the halt in force: nothing is started or sold again.
    limits.evaluate_limits()
    limits.watch()
    assert TradingHalt.objects.count() == 1
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1
    assert SystemEvent.objects.filter(message__startswith="Trading halted for").count() == 1


def test_profit_target_halts_too(desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    limit(account, max_loss=None, profit_target=Decimal("300"))
    peer.server.state.market.set_price("NSE", "SBIN", "640")
    limits.evaluate_limits()
    assert TradingHalt.objects.get().reason == "profit_target"


def test_a_halt_blocks_entries_in_the_claim_and_lets_exits_go(desk):
    account, peer, strategy = desk
    # The AUTO order was picked up (loaded WAITING) before the trip...
    racing = new(account, strategy=strategy)
    halt_now(account)
    # ...and reaches the claim after it: refused there, never sent.
    racing = execute(order=racing, actor="strategy:Breakout", claim_from=(Order.Status.WAITING,))
    assert (
        racing.status == "FAILED" and "Trading halted for Zerodha · main" in racing.status_message
    )
    assert not book_orders(peer, symbol="TCS")
    assert racing.events.filter(details__halt__isnull=False).exists()

    # Exits: selling the long intraday position, selling delivery holdings.
    sell_position = execute(order=new(account, "SBIN", side="SELL", quantity=10), actor="alice")
    sell_holding = execute(
        order=new(account, "INFY", side="SELL", quantity=20, product="CNC"), actor="alice"
    )
    assert sell_position.status == "SENT" and sell_holding.status == "SENT"
    # Entries: adding to the position, selling more than held (a flip), shorting.
    for order in (
        new(account, "SBIN", side="BUY", quantity=1),
        new(account, "SBIN", side="SELL", quantity=11),
        new(account, "INFY", side="SELL", quantity=21, product="CNC"),
        new(account, "TCS", side="SELL", quantity=1),
    ):
        assert execute(order=order, actor="alice").status == "FAILED", order
    # Once the sales show (delivery holding kept, a -20 delivery position beside it),
    # buying the shares back is a re-entry, and selling them again is refused too.
    order_sync_account(account)
    assert portfolio_sync_account(account).ok
    for order in (
        new(account, "INFY", side="BUY", quantity=20, product="CNC"),
        new(account, "INFY", side="SELL", quantity=1, product="CNC"),
    ):
        assert execute(order=order, actor="alice").status == "FAILED", order


def test_an_all_accounts_halt_covers_every_account(desk):
    account, peer, _ = desk
    halt_now(account, all_accounts=True, reason=TradingHalt.Reason.KILL_SWITCH)
    assert execute(order=new(account), actor="alice").status == "FAILED"


def test_kill_switch_actions_each_exactly_once(desk):
    account, peer, strategy = desk
    queued = new(account, "TCS")
    at_broker = execute(
        order=new(account, "TCS", order_type="LIMIT", price=Decimal("3900")), actor="alice"
    )
    assert at_broker.status == "SENT"
    protective = execute(  # a resting exit of the holding: left alone
        order=new(
            account,
            "INFY",
            side="SELL",
            quantity=20,
            product="CNC",
            order_type="LIMIT",
            price=Decimal("1600"),
        ),
        actor="alice",
    )
    with pytest.raises(halts.ConfirmationMismatch):
        halts.kill_switch(user=account.user, account=account, typed="Main", actor="alice")
    assert not TradingHalt.objects.exists()

    halt = halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    again = halts.kill_switch(
        user=account.user, account=account, typed="Zerodha · main", actor="alice"
    )
    assert again.pk == halt.pk and TradingHalt.objects.count() == 1
    assert HaltAction.objects.filter(halt=halt, kind="press").count() == 1  # the second
    kinds = sorted(
        HaltAction.objects.filter(halt=halt).exclude(kind="press").values_list("kind", "state")
    )
    assert kinds == [
        ("block", "done"),
        ("cancel", "done"),
        ("cancel", "done"),
        ("pause", "done"),
        ("square_off", "done"),
    ]
    queued.refresh_from_db()
    assert queued.status == "CANCELLED"
    assert [o.status for o in book_orders(peer, symbol="TCS")] == ["CANCELLED"]
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1  # squared off once
    assert [o.status for o in book_orders(peer, symbol="INFY")] == ["OPEN"]  # exit kept
    protective.refresh_from_db()
    assert protective.status == "SENT"
    strategy.refresh_from_db()
    assert strategy.mode == Strategy.Mode.MANUAL
    assert all(a.attempts == 1 for a in HaltAction.objects.filter(halt=halt))


def test_an_entry_that_filled_before_its_cancel_is_done_not_failed(desk):
    """Review 8: an entry filled at the broker a moment before the halt, not synced yet:
    its cancel was refused ("cannot be cancelled as it is complete") and the action was
    "Failed — will retry", an error toast, until the next pass. The runner reads the
    order book on such a refusal: already executed, done."""
    account, peer, _ = desk
    entry = execute(order=new(account, "TCS"), actor="alice")  # MARKET: filled at once
    assert entry.status == "SENT"  # what the app knows until its order sync
    halt = halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    cancel = HaltAction.objects.get(halt=halt, kind="cancel")
    assert (cancel.state, cancel.result) == ("done", "Already executed."), cancel.result
    entry.refresh_from_db()
    assert entry.status == "EXECUTED"
    assert not SystemEvent.objects.filter(level="error", details__action_id=cancel.pk).exists()


def test_a_claimed_action_is_not_run_by_a_second_caller(desk):
    account, peer, _ = desk
    halt = halt_now(account, reason=TradingHalt.Reason.KILL_SWITCH)
    square = HaltAction.objects.create(
        halt=halt, kind="square_off", target=f"position:{account.pk}:NSE:SBIN:MIS"
    )
    # Another worker is running it right now: this caller must not.
    HaltAction.objects.filter(pk=square.pk).update(state="running")
    halts.run_action(square)
    assert not book_orders(peer, symbol="SBIN", side="SELL")


def test_a_failed_action_is_shown_and_retried(desk, settings):
    account, peer, _ = desk
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    halt = halts.kill_switch(user=account.user, account=None, typed="ALL", actor="alice")
    square = HaltAction.objects.get(halt=halt, kind="square_off")
    assert square.state == "failed" and square.attempts == 1
    assert square.result.startswith("Market closed")
    assert SystemEvent.objects.filter(
        level="error", details__action_id=square.pk, details__toast=True
    ).exists()
    assert not book_orders(peer, symbol="SBIN", side="SELL")
    settings.MARKET_CLOCK = "always-open"
    assert halts.retry_actions() >= 1
    square.refresh_from_db()
    assert square.state == "done" and square.attempts == 2
    halts.retry_actions()
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1


def test_a_square_off_with_no_clear_answer_is_reconciled_never_resent(desk):
    account, peer, _ = desk
    peer.server.state.inject(peer.wire, "place", Fault("server_error", status=500))
    halt = halts.kill_switch(user=account.user, account=None, typed="ALL", actor="alice")
    square = HaltAction.objects.get(halt=halt, kind="square_off")
    assert square.state == "pending" and square.order.status == "UNKNOWN"
    halts.retry_actions()  # still unknown: waits, sends nothing
    square.refresh_from_db()
    assert square.state == "pending" and not book_orders(peer, symbol="SBIN", side="SELL")
    order_sync_account(account)  # the broker never got it: FAILED, "not received"
    halts.retry_actions()
    square.refresh_from_db()
    assert square.state == "done" and square.order.status == "SENT"
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1


@pytest.mark.parametrize("policy", ["halt", "warn"])
def test_unknown_pnl_is_never_zero(desk, settings, policy):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    limit(account, unknown_pnl=policy)
    peer.server.state.inject(peer.wire, "holdings", Fault("server_error", status=500, times=5))
    limits.evaluate_limits()
    reading = DayReading.objects.get(account=account)
    assert reading.pnl is None and "could not be read" in reading.error
    if policy == "halt":
        assert TradingHalt.objects.get().reason == "unknown_pnl"
    else:
        assert not TradingHalt.objects.exists()
        assert (
            SystemEvent.objects.filter(
                level="warning", message__contains="unknown", details__toast=True
            ).count()
            == 1
        )
        limits.evaluate_limits()  # warned once a day, not every pass
        assert SystemEvent.objects.filter(message__contains="warn only").count() == 1


def test_stale_positions_count_as_unknown(desk, settings):
    account, peer, _ = desk
    limit(account, unknown_pnl="halt")
    PortfolioSync.objects.filter(account=account).update(
        synced_at=timezone.now() - timedelta(minutes=10)
    )
    reading = read_account(account=account, include_holdings=False, sync=False)
    assert reading.pnl is None and "older than" in reading.error


def test_next_trading_day_rearms(desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    limit(account)
    yesterday = TradingHalt.objects.create(
        user=account.user,
        account=account,
        account_name=account.display_name,
        trading_day=clock.trading_day() - timedelta(days=1),
        reason=TradingHalt.Reason.LOSS_LIMIT,
        created_by="loss limit",
    )
    assert order_halts.halt_for(new(account)) is None
    assert execute(order=new(account), actor="alice").status == "SENT"
    # And the limit watches again today: a new loss trips a new halt.
    peer.server.state.market.set_price("NSE", "SBIN", "500")
    limits.evaluate_limits()
    today = TradingHalt.objects.exclude(pk=yesterday.pk).get()
    assert today.trading_day == clock.trading_day()


def test_release_needs_the_typed_confirmation_and_does_not_retrip_today(desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    limit(account)
    peer.server.state.market.set_price("NSE", "SBIN", "500")
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    with pytest.raises(halts.ConfirmationMismatch):
        halts.release(user=account.user, halt=halt, typed="yes", actor="alice")
    assert execute(order=new(account), actor="alice").status == "FAILED"
    halts.release(user=account.user, halt=halt, typed="RELEASE", actor="alice")
    halt.refresh_from_db()
    assert halt.released_by == "alice" and halt.released_at is not None
    assert execute(order=new(account), actor="alice").status == "SENT"
    limits.evaluate_limits()
    assert TradingHalt.objects.count() == 1


@pytest.fixture
def hooked(desk, client):
    from orders import webhook
    from sigmatrader.celery import app as celery_app

    account, peer, strategy = desk
    token = webhook.issue_token(account.user)
    celery_app.conf.task_always_eager = True
    yield account, peer, strategy, token
    celery_app.conf.task_always_eager = False


def _alert(client, token, action="buy", quantity="1", symbol="NSE:TCS"):
    import json

    from django.urls import reverse

    body = {
        "strategy_name": "Breakout",
        "symbol": symbol,
        "trade_details": {"order_action": action, "quantity": quantity, "product": "MIS"},
    }
    response = client.post(
        reverse("tradingview-webhook", args=[token]),
        data=json.dumps(body),
        content_type="text/plain",
    )
    return response.status_code, json.loads(response.content)


@pytest.mark.parametrize("policy", ["queue", "refuse"])
def test_webhook_auto_during_a_halt(hooked, client, policy, django_capture_on_commit_callbacks):
    account, peer, _, token = hooked
    halt_now(account, webhook_policy=policy)
    with django_capture_on_commit_callbacks(execute=True):
        status, body = _alert(client, token)
    if policy == "queue":
        assert status == 202 and body["mode"] == "MANUAL" and "halted" in body
        order = Order.objects.get(pk=body["order_id"])
        assert order.status == "WAITING" and order_halts.QUEUED_AS_MANUAL in order.status_message
        # Not sent behind the trader's back by the sweeper, now or after a release.
        later = order.created_at + timedelta(hours=1)
        assert not stranded_auto_orders(later).filter(pk=order.pk).exists()
    else:
        assert status == 423 and "Trading halted" in body["error"]
        assert not Order.objects.filter(symbol="NSE:TCS").exists()
    assert not book_orders(peer, symbol="TCS")
    # An AUTO alert that only closes the position still goes at once.
    with django_capture_on_commit_callbacks(execute=True):
        status, body = _alert(client, token, action="sell", quantity="10", symbol="NSE:SBIN")
    assert status == 202 and body["mode"] == "AUTO"
    assert Order.objects.get(pk=body["order_id"]).status == "SENT"


def test_a_halt_and_its_actions_become_toasts_for_their_owner_only(desk, other_user):
    from django.contrib.sessions.backends.db import SessionStore

    from orders.toasts import pending_toasts

    account, peer, _ = desk
    mine, theirs = SessionStore(), SessionStore()
    assert pending_toasts(user=account.user, session=mine) == []  # the cursor starts now
    assert pending_toasts(user=other_user, session=theirs) == []
    halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    toasts = pending_toasts(user=account.user, session=mine)
    titles = {(t.title, t.level) for t in toasts}
    # The halt is a warning (amber, stays until dismissed); each action done is "ok".
    assert ("Trading halt", "warn") in titles and ("Trading halt", "ok") in titles
    assert any("Trading halted for Zerodha · main" in t.text for t in toasts)
    assert pending_toasts(user=account.user, session=mine) == []  # each once
    assert pending_toasts(user=other_user, session=theirs) == []


def test_holdings_day_change_counts_only_when_asked(desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    close = peer.server.state.market.close(peer.server.state.market.get("NSE", "INFY"))
    peer.server.state.market.set_price("NSE", "INFY", str(close - 50))  # −₹50 × 20 today
    peer.server.state.market.set_price("NSE", "SBIN", "590")  # −₹100 on the position
    positions_only = read_account(account=account, include_holdings=False)
    assert positions_only.pnl == Decimal("-100.00") and positions_only.holdings_day is None
    with_holdings = read_account(account=account, include_holdings=True)
    assert with_holdings.holdings_day == Decimal("-1000.00")
    assert with_holdings.pnl == Decimal("-1100.00")


def test_an_all_accounts_limit_never_skips_an_expired_account(desk, emulator, settings):
    from brokers.models import BrokerAccount
    from tests.brokers.peers import connected_account

    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    other, _ = connected_account(emulator, account.user, "zerodha", "second")
    BrokerAccount.objects.filter(pk=other.pk).update(status=BrokerAccount.Status.EXPIRED)
    LossLimit.objects.create(
        user=account.user, max_loss=Decimal("5000"), unknown_pnl=LossLimit.UnknownPnl.HALT
    )
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    assert halt.account is None and halt.reason == "unknown_pnl"
    assert "Zerodha · second is expired" in halt.message
    assert DayReading.objects.get(account=other).pnl is None
    assert DayReading.objects.get(account=account).pnl == Decimal("0.00")


def test_a_long_derivative_symbol_keeps_its_whole_target(desk):
    from portfolio.models import Position

    account, _, _ = desk
    symbol = "BANKNIFTY26NOV52000CE"
    Position.objects.create(
        account=account,
        symbol=symbol,
        broker_symbol=symbol,
        exchange="NFO",
        product="MIS",
        quantity=-30,
        average_price=Decimal("210"),
        last_price=Decimal("250"),
        pnl=Decimal("-1200"),
    )
    halt = halt_now(account)
    rows = halts.plan_actions(halt, escalation=LossLimit.Escalation.SQUARE_OFF)
    (row,) = [r for r in rows if symbol in r.target]
    assert row.target == f"position:{account.pk}:NFO:{symbol}:MIS"
    assert halt_runners.position_of(row).symbol == symbol


def test_a_position_opened_just_before_the_trip_is_squared_off_by_the_watch(desk):
    from tests.portfolio.helpers import seed

    account, peer, _ = desk
    halt = halt_now(account, escalation=LossLimit.Escalation.SQUARE_OFF)
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1
    # An entry claimed before the halt fills afterwards: its position shows at the next sync.
    seed(peer, positions=[("SBIN", "MIS", 0, "600"), ("TCS", "MIS", 5, "4000")])
    assert portfolio_sync_account(account).ok
    halts.retry_actions()
    assert [o.quantity for o in book_orders(peer, symbol="TCS", side="SELL")] == [5]
    assert HaltAction.objects.filter(halt=halt, kind="square_off").count() == 2
    halts.retry_actions()
    assert len(book_orders(peer, symbol="TCS", side="SELL")) == 1
    # The kill switch pressed after a limit's block-only halt raises it to every action.
    assert halts.escalation_of(halt) == LossLimit.Escalation.SQUARE_OFF
    halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    halt.refresh_from_db()
    assert halts.escalation_of(halt) == LossLimit.Escalation.PAUSE


def test_a_squared_off_position_that_grew_again_is_squared_off_again_never_twice(desk):
    from tests.portfolio.helpers import seed

    account, peer, _ = desk
    halt = halt_now(account, escalation=LossLimit.Escalation.SQUARE_OFF)
    assert [o.quantity for o in book_orders(peer, symbol="SBIN", side="SELL")] == [10]
    halts.retry_actions()  # the square-off's fill is not synced yet: nothing more is sold
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1
    # An entry that raced the trip filled: the synced position is long 4 again.
    seed(peer, positions=[("SBIN", "MIS", 4, "600")])
    assert portfolio_sync_account(account).ok
    halts.retry_actions()  # the square-off is not known filled yet: it may still take 10
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 1
    order_sync_account(account)  # it filled...
    assert portfolio_sync_account(account).ok  # ...and the position read after says 4
    halts.retry_actions()
    assert [o.quantity for o in book_orders(peer, symbol="SBIN", side="SELL")] == [10, 4]
    halts.retry_actions()
    assert len(book_orders(peer, symbol="SBIN", side="SELL")) == 2
    assert HaltAction.objects.get(halt=halt, kind="square_off").state == "done"
    assert not HaltAction.objects.filter(halt=halt, kind="cancel").exists()  # its own exits


def test_the_watch_runs_in_market_hours_only_and_is_scheduled(desk, settings):
    from django_celery_beat.models import PeriodicTask

    from protection.tasks import watch_limits

    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    limit(account)
    peer.server.state.market.set_price("NSE", "SBIN", "500")
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    assert watch_limits() == {"skipped": "market closed"}
    assert not TradingHalt.objects.exists()
    settings.MARKET_CLOCK = "always-open"
    watch_limits()
    assert TradingHalt.objects.get().reason == "loss_limit"
    task = PeriodicTask.objects.get(task="protection.watch_limits")
    assert task.enabled and 15 <= task.interval.every <= 30 and task.interval.period == "seconds"


def test_entries_queued_after_the_trip_stay_queued_not_cancelled(
    hooked, client, django_capture_on_commit_callbacks
):
    """The review: during a halt that cancels entries, an order the trader had just been
    told is 'in the queue' (and an AUTO alert 'queued as MANUAL') was cancelled a second
    later by the halt's next pass."""
    account, peer, _, token = hooked
    halt = halt_now(account, escalation=LossLimit.Escalation.CANCEL)
    with django_capture_on_commit_callbacks(execute=True):
        status, body = _alert(client, token)
    assert status == 202 and body["mode"] == "MANUAL"
    queued = Order.objects.get(pk=body["order_id"])
    halts.run_halt(halt)  # the watch's next passes re-plan the actions
    halts.retry_actions()
    queued.refresh_from_db()
    assert queued.status == "WAITING"
    assert not HaltAction.objects.filter(order=queued).exists()


def test_a_halt_is_a_warning_to_read_not_an_error_of_the_app(desk):
    account, _, _ = desk
    halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    started = SystemEvent.objects.get(message__startswith="Trading halted for")
    assert started.level == SystemEvent.Level.WARNING


@pytest.mark.parametrize(("started", "changed"), [("queue", "refuse"), ("refuse", "queue")])
def test_changing_the_alert_setting_acts_on_the_halt_in_force(
    hooked, client, started, changed, django_capture_on_commit_callbacks
):
    """The review: switching "AUTO alerts during a halt" had no effect on the halt
    already in force (it kept the policy it was started with)."""
    account, peer, _, token = hooked
    setting = limit(account, webhook_policy=started)
    halt_now(account, webhook_policy=started)
    setting.webhook_policy = changed
    setting.save()
    with django_capture_on_commit_callbacks(execute=True):
        status, body = _alert(client, token)
    if changed == "refuse":
        assert status == 423 and "refused" in body["error"]
        assert not Order.objects.filter(symbol="NSE:TCS").exists()
    else:
        assert status == 202 and body["mode"] == "MANUAL" and "halted" in body
        assert Order.objects.get(pk=body["order_id"]).status == "WAITING"
    assert not book_orders(peer, symbol="TCS")


def test_the_kill_switch_during_a_limits_halt_is_recorded_on_it_and_said_truly(desk, client):
    """The review: pressing the kill switch for ALL during an all-accounts loss-limit halt
    left no visible record, and the event said "pressed again" though it never was."""
    from django.urls import reverse

    account, _, strategy = desk
    halt = halt_now(account, all_accounts=True, escalation=LossLimit.Escalation.BLOCK)
    again = halts.kill_switch(user=account.user, account=None, typed="ALL", actor="alice")
    assert again.pk == halt.pk
    press = HaltAction.objects.get(halt=halt, kind="press")
    assert press.state == "done" and press.label.startswith("by alice at ")
    assert "raised the halt from “Block new entries” to every action" in press.result
    assert "square off a position SBIN MIS +10" in press.result
    assert "pause an auto strategy Breakout" in press.result
    event = SystemEvent.objects.get(message__startswith="Kill switch pressed")
    assert "again" not in event.message
    assert "during the halt already in force (daily loss limit reached)" in event.message
    client.force_login(account.user)
    page = client.get(reverse("protection:halts")).content.decode()
    assert "Kill switch pressed" in page and press.label in page

    # Pressed once more: now it is "again", and it did nothing new.
    halts.kill_switch(user=account.user, account=None, typed="ALL", actor="bob")
    second = HaltAction.objects.filter(halt=halt, kind="press").order_by("pk").last()
    assert "nothing new to do" in second.result and second.label.startswith("by bob")
    assert HaltAction.objects.filter(halt=halt, kind="square_off").count() == 1
