"""An all-accounts loss limit sums the live (real-money) accounts: a paper account's
simulated loss never trips it (the paper account keeps its own limit), as Available
cash keeps paper apart. With only paper accounts, all accounts are the paper ones."""

from decimal import Decimal

import pytest
from django.urls import reverse

from brokers.models import BrokerAccount
from marketdata import refresh
from orders.execution import create_order, execute
from orders.models import TradingHalt
from orders.sync import order_sync_account
from protection import limits
from protection.models import LossLimit
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account

pytestmark = pytest.mark.django_db


def test_the_all_accounts_limit_sums_live_accounts_not_paper(emulator, user, settings, client):
    settings.MARKET_ALWAYS_OPEN = True
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    live, _ = connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    paper = connected_paper_account(user, load_instruments=True)
    emulator.state.market.set_price("NSE", "SBIN", "600")
    order = create_order(
        user=user,
        account=paper,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=10,
        product="MIS",
        actor="alice",
    )
    assert execute(order=order, actor="alice").status in ("SENT", "EXECUTED")
    order_sync_account(paper)
    LossLimit.objects.create(user=user, max_loss=Decimal("300"))
    emulator.state.market.set_price("NSE", "SBIN", "560")  # −₹400 on paper, simulated
    limits.evaluate_limits()
    assert not TradingHalt.objects.exists()
    figures = limits.figures_for(LossLimit.objects.get(), {})
    assert figures.accounts == [live]
    assert [a for a, _ in figures.left_out] == [paper]

    # Its own limit still trips on it.
    LossLimit.objects.create(user=user, account=paper, max_loss=Decimal("300"))
    limits.evaluate_limits()
    assert TradingHalt.objects.get().account == paper

    client.force_login(user)
    page = client.get(reverse("settings")).content.decode()
    assert "All live accounts (their sum)" in page
    assert "Paper accounts are not in that sum" in page


def test_with_only_paper_accounts_all_accounts_are_the_paper_ones(user):
    paper = BrokerAccount.objects.create(
        user=user, broker="paper", label="practice", status=BrokerAccount.Status.CONNECTED
    )
    limit = LossLimit.objects.create(user=user, max_loss=Decimal("300"))
    assert limits.coverage(limit) == ([paper], [])
    covers = limits.figures_for(limit, {}).covers
    assert covers == (
        "Sum of Paper trading · practice (paper: you have no live account, so all accounts "
        "are your paper ones)."
    )
