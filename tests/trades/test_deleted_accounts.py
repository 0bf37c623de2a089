"""History outlives an account: after two accounts are deleted, a rebuild keeps each
one's fills a book of its own, closing against its own opening lots (trades/history.py).
Before, every deleted account's fills fell into one book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from brokers import accounts as broker_accounts
from trades import services
from trades.models import OpeningLot, RoundTrip, Trade

from .helpers import make_trade
from .test_importing import account_of

pytestmark = pytest.mark.django_db


def test_each_deleted_accounts_fills_stay_a_book_of_their_own(user):
    first, second = account_of(user, "zerodha", "first"), account_of(user, "angelone", "second")
    first_id, second_id = first.pk, second.pk  # delete() forgets them
    names = {first_id: first.display_name, second_id: second.display_name}
    # first: bought 10 INFY at 100 before tracking, sells 10 at 120.
    OpeningLot.objects.create(
        user=user,
        account=first,
        exchange="NSE",
        symbol="INFY",
        quantity=10,
        average_price=D("100"),
        as_of=date(2025, 6, 2),
    )
    make_trade(first, 1, "SELL", 10, 120, "2025-06-10T10:00")
    # second: buys 10 at 200, sells 10 at 190 (its own book, a loss).
    make_trade(second, 2, "BUY", 10, 200, "2025-06-03T10:00")
    make_trade(second, 3, "SELL", 10, 190, "2025-06-11T10:00")
    services.rebuild(user=user)
    before = sorted(RoundTrip.objects.values_list("account_name", "direction", "gross"))

    broker_accounts.delete_account(account=first)
    broker_accounts.delete_account(account=second)
    assert set(Trade.objects.values_list("account_id", flat=True)) == {None}
    assert set(Trade.objects.values_list("account_ref", flat=True)) == set(names)
    assert OpeningLot.objects.get().account_ref == first_id  # the lot stays

    result = services.rebuild(user=user)
    after = sorted(RoundTrip.objects.values_list("account_name", "direction", "gross"))
    assert (
        after
        == before
        == sorted(
            [
                (names[first_id], "LONG", D("200")),  # 10 x (120 - 100), from the opening lot
                (names[second_id], "LONG", D("-100")),
            ]
        )
    )
    assert result.open_lots == 0  # nothing left open, no short invented
    assert set(RoundTrip.objects.values_list("account_id", flat=True)) == {None}
