"""The dashboard's two day-P&L figures are told apart: the loss-limit card shows what
each limit compares (positions' realised + unrealised, plus holdings' day change only
where that limit counts them) and when the watch read it; the Day P&L tiles say they
are holdings' day change + positions' M2M at live prices."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from protection import limits
from protection.models import DayReading, LossLimit
from sigmatrader.formatting import inr

pytestmark = pytest.mark.django_db


def _row(card: str, first_cell: str) -> str:
    for row in card.split("<tr")[1:]:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        # The cell's name, without its note (an all-accounts row says what it sums).
        if cells and re.sub(r"<small.*?</small>", "", cells[0], flags=re.S).strip() == first_cell:
            return row
    raise AssertionError(f"no row {first_cell!r} in {card[:2000]}")


def test_each_limit_shows_the_figure_it_compares_what_it_counts_and_when(client, desk, settings):
    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    market = peer.server.state.market
    market.set_price("NSE", "SBIN", "570")  # the MIS position: -₹300
    market.set_price("NSE", "INFY", "1550")  # the holding moves too
    user = account.user
    LossLimit.objects.create(user=user, account=account, max_loss=Decimal("1000"))
    LossLimit.objects.create(user=user, max_loss=Decimal("100000"), include_holdings=True)
    limits.evaluate_limits()
    reading = DayReading.objects.get(account=account)
    assert reading.holdings_day  # the two limits' figures differ by it
    client.force_login(user)
    page = client.get(reverse("dashboard")).content.decode()
    card = page[page.index('id="day-pnl-limits"') :].split("</section>")[0]
    at = timezone.localtime(reading.read_at).strftime("%H:%M:%S")

    # A positions-only limit shows positions only, though the account was read with
    # holdings for the other limit (the figure its watch compares, not another).
    mine = _row(card, "Zerodha · main")
    assert inr(Decimal("-300")) in mine
    assert f"positions' realised + unrealised · as of {at} IST" in mine
    assert "holdings" not in mine
    every = _row(card, "All accounts")
    assert inr(Decimal("-300") + reading.holdings_day) in every
    assert f"positions' realised + unrealised + holdings' day change · as of {at} IST" in every
    # Not captioned like the tiles: those are another figure, and say which.
    assert ">Day P&amp;L<" not in card
    tiles = page[page.index('id="overall-tiles"') :]
    assert "holdings' day change + positions' M2M (from the previous close), live prices as of" in (
        tiles
    )


def test_a_percent_limit_with_unknown_capital_is_never_shown_as_zero(client, desk):
    """The review: a 5 % limit whose capital (and P&L) could not be read showed "−₹0.00"."""
    account, _, _ = desk
    user = account.user
    LossLimit.objects.create(
        user=user, account=account, loss_kind=LossLimit.LossKind.PERCENT, max_loss=Decimal("5")
    )
    DayReading.objects.create(
        account=account,
        trading_day=limits.clock.trading_day(),
        pnl=None,
        error="Positions could not be read: Kite is unavailable",
        read_at=timezone.now(),
    )
    figures = limits.figures_for(LossLimit.objects.get(), {})
    assert figures.max_loss is None and figures.capital is None
    client.force_login(user)
    page = client.get(reverse("dashboard")).content.decode()
    card = page[page.index('id="day-pnl-limits"') :].split("</section>")[0]
    row = _row(card, "Zerodha · main")
    assert "5.00 % of capital (unknown)" in row
    assert "₹0.00" not in row
