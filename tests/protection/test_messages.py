"""How the unknown-P&L texts read: each account named once (not "X: X is not
connected"), no nested brackets on the dashboard, and "day P&L" keeps its case in the
webhook's refusal."""

from decimal import Decimal

import pytest
from django.urls import reverse

from brokers.accounts import disconnect_locally
from orders import halts as order_halts
from orders.models import TradingHalt
from protection import limits
from protection.models import LossLimit
from sigmatrader.models import SystemEvent
from tests.protection.helpers import halt_now

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("all_accounts", [False, True])
def test_an_unknown_pnl_names_the_account_once(desk, settings, all_accounts):
    account, _, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    disconnect_locally(account=account)  # it still holds SBIN and INFY: P&L unknown
    LossLimit.objects.create(
        user=account.user, account=None if all_accounts else account, max_loss=Decimal("500")
    )
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    assert halt.reason == "unknown_pnl"
    assert halt.message.count("Zerodha · main") == 1, halt.message
    assert "Zerodha · main is not connected: reconnect it." in halt.message
    assert "(" not in halt.message


def test_warn_only_reads_without_nested_brackets(desk, settings, client):
    account, _, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    disconnect_locally(account=account)
    LossLimit.objects.create(
        user=account.user, account=account, max_loss=Decimal("500"), unknown_pnl="warn"
    )
    limits.evaluate_limits()
    warned = SystemEvent.objects.get(message__contains="warn only")
    assert warned.message.count("Zerodha · main") == 1, warned.message
    client.force_login(account.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "P&amp;L unknown · warn only: trading continues" in page
    assert "(warn only (keep trading))" not in page


def test_the_refusal_keeps_p_and_l_in_capitals(desk):
    account, _, _ = desk
    halt = halt_now(account, reason=TradingHalt.Reason.UNKNOWN_PNL)
    assert "(day P&L unknown)" in order_halts.refusal(halt)
