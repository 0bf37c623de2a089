"""The fresh-eye review's findings on Trades and P&L (issue 20): each test failed
before its fix."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolio.models import Holding
from trades import importing, services
from trades.capture import missed_days
from trades.matching import IST
from trades.models import Adjustment, CapturedDay, OpeningLot, RoundTrip, Trade

from .helpers import make_trade
from .test_importing import CONSOLE, TRADE_REPORT, account_of

pytestmark = pytest.mark.django_db


def _split(user, symbol="INFY", **extra):
    fields = {
        "user": user,
        "symbol": symbol,
        "exchange": "",
        "kind": "split",
        "ex_date": date(2025, 5, 1),
        "old": 1,
        "new": 2,
    }
    fields.update(extra)
    return services.add_adjustment(**fields)


# 1. The same split twice -----------------------------------------------------------


def test_the_same_split_twice_is_refused_not_applied_twice(user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    make_trade(account, 2, "SELL", 20, 600, "2025-06-10T10:00")
    _split(user)
    with pytest.raises(services.Refused, match="already added"):
        _split(user, symbol="infy")
    assert Adjustment.objects.count() == 1
    [trip] = RoundTrip.objects.all()
    assert trip.quantity == 20 and trip.open_average == D("500")  # 1:2, not 1:4


def test_the_same_split_twice_on_the_page_is_a_form_error(client, user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    client.force_login(user)
    form = {"symbol": "INFY", "exchange": "", "kind": "split", "ex_date": "2025-05-01"}
    form.update({"old": 1, "new": 2})
    assert client.post(reverse("trades:adjustments"), form).status_code == 302
    again = client.post(reverse("trades:adjustments"), form)
    assert again.status_code == 422 and "already added" in again.content.decode()
    assert Adjustment.objects.count() == 1


# 2. Adjustments by the exchange-level name; checks on the input --------------------


def test_a_split_of_infy_reaches_fills_stored_as_infy_eq(user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00", symbol="INFY-EQ")
    make_trade(account, 2, "SELL", 20, 600, "2025-06-10T10:00", symbol="INFY-EQ")
    _split(user, symbol="INFY")
    [trip] = RoundTrip.objects.all()
    assert (trip.quantity, trip.open_average, trip.gross) == (20, D("500"), D("2000"))


def test_a_split_typed_with_the_series_suffix_is_stored_by_the_plain_name(user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    assert _split(user, symbol="INFY-EQ").symbol == "INFY"


def test_a_split_of_a_symbol_never_traded_is_refused(user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    with pytest.raises(services.Refused, match="INFI matches nothing in your trades"):
        _split(user, symbol="INFI")
    with pytest.raises(services.Refused, match="matches nothing"):
        _split(user, exchange="BSE")
    assert not Adjustment.objects.exists()


def test_a_split_with_a_future_ex_date_is_refused(user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    with pytest.raises(services.Refused, match="in the future"):
        _split(user, ex_date=date.today() + timedelta(days=30))


@pytest.mark.parametrize("bought", [date(1989, 12, 31), date.today() + timedelta(days=2)])
def test_an_opening_lot_bought_before_1990_or_in_the_future_is_refused(user, account, bought):
    lot = OpeningLot.objects.create(
        user=user,
        account=account,
        exchange="NSE",
        symbol="INFY",
        quantity=10,
        average_price=D("950"),
        as_of=date.today() + timedelta(days=5),
    )
    with pytest.raises(services.Refused):
        services.set_acquired_on(user=user, lot_id=lot.pk, acquired_on=bought)
    lot.refresh_from_db()
    assert lot.acquired_on is None


# 3. Opening lots and the day's fills -----------------------------------------------


def test_holdings_read_after_todays_buy_do_not_include_it(user, account):
    """Updated by review 6. This test first assumed holdings read after today's buy
    include it (holdings 40 after a 40-share buy = 40) — an artifact of the emulator,
    whose trade book kept earlier days' fills after the day rolled over. Real brokers
    (Kite, and now the emulator) show today's delivery buys as positions, not
    holdings, until the day rolls: holdings 40 read at 11:00 after a 40-share buy at
    10:00 are 40 older shares, plus the 40 bought. The same-day sell squares today's
    buy (INTRADAY); the opening lot stays held."""
    day = "2025-06-10"
    make_trade(account, 1, "BUY", 40, 100, f"{day}T10:00")
    Holding.objects.create(
        account=account,
        symbol="INFY",
        broker_symbol="INFY",
        exchange="NSE",
        quantity=40,
        average_price=D("90"),
        last_price=D("101"),
        pnl=D("440"),
        synced_at=datetime.fromisoformat(f"{day}T11:00").replace(tzinfo=IST),
    )
    services.seed_opening_lots(account=account, as_of=date(2025, 6, 10))
    make_trade(account, 2, "SELL", 40, 110, f"{day}T14:00")
    result = services.rebuild(user=user)
    [trip] = RoundTrip.objects.all()
    assert (trip.quantity, trip.classification, trip.from_opening_lot) == (40, "INTRADAY", False)
    assert trip.open_average == D("100") and result.open_lots == 1  # the 40 held before


# 5. The other broker's export is refused -------------------------------------------


def test_a_console_tradebook_is_refused_by_an_angelone_account(user):
    account = account_of(user, "angelone")
    with pytest.raises(importing.ImportRefused) as refused:
        importing.stage(user=user, account=account, data=CONSOLE.encode())
    assert refused.value.message == (
        "This looks like a Zerodha Console tradebook, not AngelOne's trade report."
    )


def test_an_angelone_report_is_refused_by_a_zerodha_account(user):
    account = account_of(user, "zerodha")
    report = TRADE_REPORT.replace("Buy/Sell", "Trade Type")  # the columns Console reads too
    with pytest.raises(importing.ImportRefused, match="looks like AngelOne's trade report"):
        importing.stage(user=user, account=account, data=report.encode())


# 6. Back after confirming ----------------------------------------------------------


def test_back_to_a_confirmed_import_says_so_and_imports_nothing_again(client, user):
    account = account_of(user, "zerodha")
    client.force_login(user)
    upload = SimpleUploadedFile("tradebook.csv", CONSOLE.encode(), content_type="text/csv")
    preview_url = client.post(reverse("trades:import"), {"account": account.pk, "file": upload})
    assert client.post(preview_url.url, {"step": "confirm"}).status_code == 302
    count = Trade.objects.count()
    back = client.get(preview_url.url)
    page = back.content.decode()
    assert back.status_code == 200 and "This import was already confirmed" in page
    assert f"{reverse('trades:list')}?account={account.pk}" in page
    again = client.post(preview_url.url, {"step": "confirm"})
    assert again.status_code == 200 and "already confirmed" in again.content.decode()
    assert Trade.objects.count() == count


# 4. The missed-day warning can be cleared ------------------------------------------


def test_an_import_covers_the_range_the_trader_gives(client, user):
    account = account_of(user, "zerodha")
    client.force_login(user)
    upload = SimpleUploadedFile("tradebook.csv", CONSOLE.encode(), content_type="text/csv")
    url = client.post(reverse("trades:import"), {"account": account.pk, "file": upload}).url
    page = client.get(url).content.decode()
    assert "This file covers" in page and 'value="2025-03-28"' in page
    narrow = client.post(
        url, {"step": "confirm", "covers_from": "2025-03-29", "covers_to": "2025-04-02"}
    )
    assert narrow.status_code == 422 and "must include them" in narrow.content.decode()
    assert not Trade.objects.exists()
    done = client.post(
        url, {"step": "confirm", "covers_from": "2025-03-03", "covers_to": "2025-04-11"}
    )
    assert done.status_code == 302
    assert not missed_days(account, until=date(2025, 4, 11))
    assert captured(account)[0] == date(2025, 3, 3)


def test_missed_days_can_be_marked_as_no_trades_from_the_warning(client, user, account):
    CapturedDay.objects.create(account=account, day=date(2025, 11, 3))
    client.force_login(user)
    page = client.get(reverse("trades:list")).content.decode()
    assert 'action="/trades/missed/no-trades/"' in page and 'value="2025-11-04"' in page
    last = missed_days(account)[-1]
    response = client.post(
        reverse("trades:mark-no-trades"),
        {"account": account.pk, "start": "2025-11-04", "end": last.isoformat()},
    )
    assert response.status_code == 302
    assert missed_days(account) == []
    assert 'id="missed-days"' not in client.get(reverse("trades:list")).content.decode()


def test_marking_no_trades_is_scoped_to_the_user(client, user, account, other_user):
    CapturedDay.objects.create(account=account, day=date(2025, 11, 3))
    client.force_login(other_user)
    response = client.post(
        reverse("trades:mark-no-trades"),
        {"account": account.pk, "start": "2025-11-04", "end": "2025-11-05"},
    )
    assert response.status_code == 404
    assert missed_days(account)[0] == date(2025, 11, 4)


def captured(account):
    return sorted(CapturedDay.objects.filter(account=account).values_list("day", flat=True))


# 7. Small things -------------------------------------------------------------------


def test_no_loss_shows_a_dash_not_zero_rupees(client, user, account):
    make_trade(account, 1, "BUY", 5, 200, "2025-04-01T10:00")
    make_trade(account, 2, "SELL", 5, 230, "2025-04-01T14:00")  # a win only
    services.rebuild(user=user)
    client.force_login(user)
    page = client.get(reverse("trades:pnl")).content.decode()
    assert '<strong id="max-drawdown">—</strong>' in page
    assert '<td data-label="Largest loss" class="num">—</td>' in page


def test_opening_lot_average_is_shown_in_rupees(client, user, account):
    OpeningLot.objects.create(
        user=user,
        account=account,
        exchange="NSE",
        symbol="INFY",
        quantity=10,
        average_price=D("1234.5"),
        as_of=date(2025, 6, 1),
    )
    client.force_login(user)
    page = client.get(reverse("trades:adjustments")).content.decode()
    assert '<td data-label="Average" class="num">₹1,234.50</td>' in page


def test_xlsx_money_is_formatted_in_rupees_and_net_says_estimated(client, user, account):
    from openpyxl import load_workbook

    make_trade(account, 1, "BUY", 5, 200, "2025-04-01T10:00")
    make_trade(account, 2, "SELL", 5, 230, "2025-04-01T14:00")
    services.rebuild(user=user)
    client.force_login(user)
    content = client.get(reverse("trades:export", args=["xlsx"])).content
    book = load_workbook(io.BytesIO(content))
    trips = book["Round trips"]
    header = [c.value for c in trips[1]]
    gross = trips.cell(row=2, column=header.index("Gross P&L") + 1)
    assert gross.value == 150 and "₹" in gross.number_format
    summary = book["By classification"]
    assert summary.cell(row=1, column=5).value == "Net P&L (estimated)"
    assert "₹" in summary.cell(row=2, column=5).number_format


def test_one_skipped_row_is_singular(client, user):
    account = account_of(user, "zerodha")
    client.force_login(user)
    one_bad = "\n".join(CONSOLE.splitlines()[:3] + [CONSOLE.splitlines()[4]]) + "\n"
    upload = SimpleUploadedFile("tradebook.csv", one_bad.encode(), content_type="text/csv")
    url = client.post(reverse("trades:import"), {"account": account.pk, "file": upload}).url
    done = client.post(url, {"step": "confirm"}, follow=True).content.decode()
    assert "(1 row skipped)" in done


def test_an_adjustment_stored_by_the_brokers_spelling_still_applies(user, account):
    """Adjustments entered before the fix by the broker's symbol ("INFY-EQ") keep working."""
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00", symbol="INFY-EQ")
    make_trade(account, 2, "SELL", 20, 600, "2025-06-10T10:00", symbol="INFY-EQ")
    Adjustment.objects.create(
        user=user, symbol="INFY-EQ", kind="split", ex_date=date(2025, 5, 1), old=1, new=2
    )
    services.rebuild(user=user)
    [trip] = RoundTrip.objects.all()
    assert (trip.quantity, trip.open_average) == (20, D("500"))
