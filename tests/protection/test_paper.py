"""The daily loss limit on a paper account (priced by an AngelOne account on the
emulator): an unrealised loss trips the halt, the intraday position is squared
off once, a new entry is refused in the claim."""

from decimal import Decimal

import pytest

from marketdata import refresh
from orders.execution import create_order, execute
from orders.models import Order, TradingHalt
from orders.sync import order_sync_account
from protection import limits
from protection.models import HaltAction, LossLimit
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account

pytestmark = pytest.mark.django_db


def test_paper_halt_on_an_unrealised_loss(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    paper = connected_paper_account(user, load_instruments=True)
    emulator.state.market.set_price("NSE", "SBIN", "600")

    def new(side, quantity=10, symbol="SBIN"):
        order = create_order(
            user=user,
            account=paper,
            symbol=f"NSE:{symbol}",
            side=side,
            quantity=quantity,
            product="MIS",
            actor="alice",
        )
        return execute(order=order, actor="alice")

    bought = new("BUY")
    order_sync_account(paper)
    bought.refresh_from_db()
    assert bought.status == "EXECUTED", bought.status_message
    LossLimit.objects.create(
        user=user,
        account=paper,
        max_loss=Decimal("300"),
        escalation=LossLimit.Escalation.SQUARE_OFF,
    )
    limits.evaluate_limits()
    assert not TradingHalt.objects.exists()

    emulator.state.market.set_price("NSE", "SBIN", "560")  # −₹400, unrealised
    limits.evaluate_limits()
    halt = TradingHalt.objects.get()
    assert halt.reason == "loss_limit" and halt.figures["pnl"] == "-400.00"
    square = HaltAction.objects.get(halt=halt, kind="square_off")
    assert square.state == "done" and square.order.side == "SELL"
    limits.evaluate_limits()
    sells = Order.objects.filter(account=paper, side="SELL")
    assert sells.count() == 1
    assert new("BUY", 1, "TCS").status == "FAILED"  # an entry, refused in the claim
