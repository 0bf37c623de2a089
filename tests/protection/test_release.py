"""Releasing a halt silences only THAT trip (the loss that tripped it is still there),
never the other checks: a kill switch's release silences no limit, a loss-limit
release leaves the profit target watching (and vice versa), a limit saved after the
release is watched again, and warn-only warnings are never silenced. The dashboard and
the Risk card say what a released limit is doing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import TradingHalt
from protection import halts, limits
from protection.models import LossLimit
from sigmatrader.models import SystemEvent
from tests.portfolio.helpers import seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(desk, settings):
    settings.PROTECTION_MIN_SYNC_SECONDS = 0  # read afresh every pass
    return desk


def _release(halt, actor="alice"):
    halts.release(user=halt.user, halt=halt, typed="RELEASE", actor=actor)


def test_a_kill_switch_release_silences_no_limit(fresh):
    account, peer, _ = fresh
    limit = LossLimit.objects.create(
        user=account.user,
        account=account,
        max_loss=Decimal("1"),
        profit_target=Decimal("1"),
        escalation=LossLimit.Escalation.BLOCK,
    )
    kill = halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    _release(kill)
    # A limit that existed before the press is not silenced by its release...
    seed(peer, positions=[("SBIN", "MIS", 10, "600")])  # (the press squared it off)
    peer.server.state.market.set_price("NSE", "SBIN", "610")  # +₹100 on the MIS position
    limits.evaluate_limits()
    trip = TradingHalt.objects.get(released_at__isnull=True)
    assert trip.reason == "profit_target"
    _release(trip)
    # ...nor one saved after it (the review's steps: kill switch, release, then a limit).
    limit.save()
    TradingHalt.objects.all().delete()
    kill = halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    _release(kill)
    seed(peer, positions=[("SBIN", "MIS", 10, "600")])
    limits.evaluate_limits()
    assert TradingHalt.objects.get(released_at__isnull=True).reason == "profit_target"


def test_a_loss_limit_release_leaves_the_target_watching_until_saved_again(fresh):
    account, peer, _ = fresh
    market = peer.server.state.market
    limit = LossLimit.objects.create(
        user=account.user,
        account=account,
        max_loss=Decimal("100"),
        profit_target=Decimal("300"),
        escalation=LossLimit.Escalation.BLOCK,
    )
    market.set_price("NSE", "SBIN", "580")  # −₹200
    limits.evaluate_limits()
    loss = TradingHalt.objects.get()
    assert loss.reason == "loss_limit"
    _release(loss)
    limits.evaluate_limits()  # the loss that tripped it is still there: not again at once
    assert not TradingHalt.objects.filter(released_at__isnull=True).exists()

    market.set_price("NSE", "SBIN", "640")  # +₹400: the target is not silenced by it
    limits.evaluate_limits()
    target = TradingHalt.objects.get(released_at__isnull=True)
    assert target.reason == "profit_target"
    _release(target)
    limits.evaluate_limits()
    assert not TradingHalt.objects.filter(released_at__isnull=True).exists()

    # Saving the limit again re-arms both now.
    market.set_price("NSE", "SBIN", "580")
    limit.save()
    limits.evaluate_limits()
    assert TradingHalt.objects.get(released_at__isnull=True).reason == "loss_limit"


def test_warn_only_warnings_are_not_silenced_by_a_release(fresh):
    from django.core.cache import cache

    from emulator import Fault

    account, peer, _ = fresh
    LossLimit.objects.create(
        user=account.user,
        account=account,
        max_loss=Decimal("100"),
        unknown_pnl=LossLimit.UnknownPnl.WARN,
        escalation=LossLimit.Escalation.BLOCK,
    )
    peer.server.state.market.set_price("NSE", "SBIN", "580")
    limits.evaluate_limits()
    _release(TradingHalt.objects.get())
    cache.clear()
    peer.server.state.inject(peer.wire, "holdings", Fault("server_error", status=500, times=5))
    limits.evaluate_limits()
    assert SystemEvent.objects.filter(level="warning", message__contains="warn only").count() == 1


def test_the_dashboard_and_risk_card_say_what_a_released_limit_is_doing(fresh, client):
    account, peer, _ = fresh
    LossLimit.objects.create(
        user=account.user,
        account=account,
        max_loss=Decimal("100"),
        escalation=LossLimit.Escalation.BLOCK,
    )
    peer.server.state.market.set_price("NSE", "SBIN", "580")
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    _release(halt)
    halt.refresh_from_db()
    from django.utils import timezone

    from marketdata import clock

    when = timezone.localtime(halt.released_at, clock.IST).strftime("%H:%M")
    note = (
        f"Loss limit released at {when} IST by alice — re-arms tomorrow, or save the limit "
        "again to re-arm now."
    )
    client.force_login(account.user)
    dashboard = client.get(reverse("dashboard")).content.decode()
    card = dashboard[dashboard.index('id="day-pnl-limits"') :].split("</section>")[0]
    assert note in card and "Released" in card and "Watching" not in card
    risk = client.get(reverse("settings")).content.decode()
    assert note in risk[risk.index('id="risk-limits"') :]
