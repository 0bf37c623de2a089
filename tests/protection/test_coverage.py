"""Which accounts an all-accounts limit sums: never an account with money at risk
left out as zero. A disconnected account that still holds positions or holdings
makes the sum unknown; only one not connected that holds nothing is left out, and
the card says which accounts the sum covers."""

from decimal import Decimal

import pytest
from django.urls import reverse

from brokers.accounts import disconnect_locally
from brokers.models import BrokerAccount
from orders.models import TradingHalt
from portfolio.sync import portfolio_sync_account
from protection import limits
from protection.models import LossLimit
from tests.brokers.peers import connected_account
from tests.portfolio.helpers import seed

pytestmark = pytest.mark.django_db


def test_a_disconnected_account_still_holding_makes_the_all_accounts_pnl_unknown(
    desk, emulator, settings, client
):
    account, _, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    user = account.user
    other, other_peer = connected_account(emulator, user, "zerodha", "second")
    seed(other_peer, positions=[("TCS", "MIS", 5, "4000")])
    assert portfolio_sync_account(other).ok
    disconnect_locally(account=other)  # disconnected while it still holds the position
    idle = BrokerAccount.objects.create(user=user, broker="zerodha", label="idle")  # never
    LossLimit.objects.create(
        user=user, max_loss=Decimal("5000"), unknown_pnl=LossLimit.UnknownPnl.HALT
    )
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    assert halt.account is None and halt.reason == "unknown_pnl"
    assert "Zerodha · second" in halt.message
    limit = LossLimit.objects.get()
    included, left_out = limits.coverage(limit)
    assert other in included and idle not in included
    assert left_out == [(idle, "not connected, holds nothing")]

    client.force_login(user)
    page = client.get(reverse("dashboard")).content.decode()
    card = page[page.index('id="day-pnl-limits"') :].split("</section>")[0]
    assert (
        "Sum of Zerodha · main, Zerodha · second; not counted: Zerodha · idle (not "
        "connected, holds nothing)." in card
    )


def test_an_account_never_connected_is_left_out_and_the_limit_still_works(desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    BrokerAccount.objects.create(user=account.user, broker="zerodha", label="idle")
    LossLimit.objects.create(user=account.user, max_loss=Decimal("100"))
    peer.server.state.market.set_price("NSE", "SBIN", "580")  # −₹200
    limits.evaluate_limits()
    assert TradingHalt.objects.get().reason == "loss_limit"
