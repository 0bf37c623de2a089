"""The second fresh-eye review's findings on trades and P&L (review 6)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from trades import capture, matching, services
from trades.models import OpeningLot, RoundTrip, Trade, UnmatchedSale

from .helpers import make_trade
from .test_capture import place, trading  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_delivery_buy_on_nse_closes_with_its_sale_on_bse(user, account):
    """Shares bought on NSE can be sold on BSE: one delivery book per stock, one STCG
    round trip of +1,000 — not an open NSE long and a phantom BSE short."""
    make_trade(account, 1, "BUY", 10, 2400, "2025-05-05T10:00", symbol="ASIANPAINT-EQ")
    make_trade(
        account, 2, "SELL", 10, 2500, "2025-06-05T10:00", exchange="BSE", symbol="ASIANPAINT"
    )
    services.rebuild(user=user)
    [trip] = RoundTrip.objects.all()
    assert (trip.classification, trip.direction, trip.quantity) == ("STCG", "LONG", 10)
    assert trip.gross == D("1000") and trip.exchange == "NSE→BSE"
    # A partial rebuild of the sale's symbol reads the NSE buy too.
    services.rebuild(user=user, account=account, symbols={"ASIANPAINT"})
    assert RoundTrip.objects.get().gross == D("1000")


def test_intraday_stays_per_exchange(user, account):
    make_trade(account, 1, "BUY", 10, 100, "2025-05-05T10:00", product="MIS")
    make_trade(account, 2, "SELL", 10, 110, "2025-05-05T11:00", exchange="BSE", product="MIS")
    services.rebuild(user=user)
    assert not RoundTrip.objects.exists()  # a MIS long on NSE, a MIS short on BSE: open


def test_selling_more_delivery_shares_than_known_is_unmatched_not_a_short(client, user, account):
    """A delivery short cannot exist at a broker: the 15 shares sold beyond the known
    10 are an unmatched sale (a warning on the page and in the export), never a Short
    round trip with a capital-gain figure. Intraday shorts stay."""
    make_trade(account, 1, "BUY", 10, 100, "2025-05-05T10:00")
    make_trade(account, 2, "SELL", 25, 120, "2025-06-05T10:00")
    make_trade(account, 3, "SELL", 5, 50, "2025-06-05T10:00", symbol="TCS", product="MIS")
    make_trade(account, 4, "BUY", 5, 40, "2025-06-05T11:00", symbol="TCS", product="MIS")
    services.rebuild(user=user)
    trips = {(t.symbol, t.direction): t for t in RoundTrip.objects.all()}
    assert set(trips) == {("INFY", "LONG"), ("TCS", "SHORT")}
    assert trips["INFY", "LONG"].quantity == 10 and trips["INFY", "LONG"].gross == D("200")
    [sale] = UnmatchedSale.objects.all()
    assert (sale.symbol, sale.quantity, sale.price) == ("INFY", 15, D("120"))
    client.force_login(user)
    page = client.get(reverse("trades:pnl")).content.decode()
    assert "Sold 15 INFY on 05 Jun 2025 more than the known history holds" in page
    exported = client.get(reverse("trades:export", args=["csv"])).content.decode("utf-8-sig")
    [row] = [r for r in csv.DictReader(io.StringIO(exported)) if r["Symbol"] == "INFY"][1:]
    assert row["Classification"] == "Unmatched sale (not a round trip)"
    assert row["Gross P&L"] == "" and row["Quantity"] == "15" and "WARNING" in row["Note"]


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_an_opening_lot_is_not_reduced_by_a_buy_on_its_own_day(trading, user):  # noqa: F811
    """The reviewer's path: 40 bought on an earlier day (the day rolled: the emulator's
    trade book no longer lists them, as at a real broker); today 10 more bought, the
    holdings read (40: today's buy is a position) and then the trade book captured
    -> an opening lot of 40 plus the 10 bought: 50 held, not 40."""
    from portfolio.sync import portfolio_sync_account

    account, ref, emulator = trading
    place(account, ref, "BUY", 40, "OLD40")
    emulator.state.settle()  # the next day
    place(account, ref, "BUY", 10, "NEW10")
    portfolio_sync_account(account)
    capture.capture_account(account)
    [lot] = OpeningLot.objects.filter(account=account)
    assert lot.quantity == 40
    assert Trade.objects.filter(account=account).count() == 1  # today's 10 only
    assert services.rebuild(user=user).round_trips == 0
    [held] = matching_open_lots(user)
    assert held == 50


def matching_open_lots(user) -> list[int]:
    """Shares held per open book after matching everything the user has."""
    fills = services.fills_of(user=user)
    canonical = services.canonical_names((f.exchange, f.symbol) for f in fills)
    result = matching.match_fills(fills, canonical=canonical)
    return [sum(lot.quantity for lot in lots) for lots in result.open_lots.values()]


def test_a_second_upload_keeps_the_first_preview_and_a_gone_one_says_so(client, user):
    """Review 6: a second upload (another tab) discarded the first preview, whose
    Import then answered a bare 404; Back after Cancel too."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_importing import CONSOLE, TRADE_REPORT, account_of

    zerodha, angel = account_of(user, "zerodha"), account_of(user, "angelone", "angel")
    client.force_login(user)

    def upload(account, text):
        file = SimpleUploadedFile("f.csv", text.encode(), content_type="text/csv")
        return client.post(reverse("trades:import"), {"account": account.pk, "file": file}).url

    first, second = upload(zerodha, CONSOLE), upload(angel, TRADE_REPORT)
    assert client.post(first, {"step": "confirm"}).status_code == 302
    assert Trade.objects.filter(account=zerodha).count() == 3
    assert client.post(second, {"step": "cancel"}).status_code == 302
    gone = client.get(second)
    assert gone.status_code == 404
    text = gone.content.decode()
    assert "no longer pending" in text and "Nothing from it was written" in text
    assert reverse("trades:import") in text
    assert not Trade.objects.filter(account=angel).exists()


def test_the_filter_form_follows_the_data_it_filters(client, user, account):
    """Review 6: after Back, the selects said "All accounts" over filtered data (htmx's
    history snapshot keeps the attributes rendered with the first page). The fragment
    re-sends the form out of band with the URL's choices selected."""
    make_trade(account, 1, "BUY", 10, 100, "2025-05-05T10:00")
    make_trade(account, 2, "SELL", 10, 110, "2025-05-06T10:00")
    services.rebuild(user=user)
    client.force_login(user)
    for name in ("trades:list", "trades:pnl"):
        page = client.get(reverse(name)).content.decode()
        assert page.count('id="trade-filters"') == 1 and 'autocomplete="off"' in page
        fragment = client.get(
            reverse(name), {"account": account.pk, "fy": 2025}, headers={"HX-Request": "true"}
        ).content.decode()
        assert 'id="trade-filters" autocomplete="off" hx-swap-oob="true"' in fragment
        assert f'<option value="{account.pk}" selected>' in fragment
        assert '<option value="2025" selected>' in fragment


def test_grandfathering_is_noted_as_text_and_only_for_sales_from_april_2018(client, user, account):
    """Review 6: the note was a hover tooltip only (unreadable on a phone); and a sale
    before 1 Apr 2018 (LTCG then exempt, no section 112A) is not grandfathered."""
    make_trade(account, 1, "BUY", 10, 100, "2016-05-05T10:00")
    make_trade(account, 2, "SELL", 5, 150, "2018-03-28T10:00")
    make_trade(account, 3, "SELL", 5, 200, "2019-06-05T10:00")
    services.rebuild(user=user)
    early, late = RoundTrip.objects.order_by("close_date")
    assert early.classification == late.classification == "LTCG"
    assert not early.grandfathered and early.note == ""
    assert late.grandfathered
    client.force_login(user)
    page = client.get(reverse("trades:pnl")).content.decode()
    assert f'<small class="muted trip-note">{late.note}</small>' in page
    assert 'title="Bought on or before' not in page


def test_a_deleted_accounts_history_is_said_kept_and_stays_filterable(client, user):
    """Review 6: the delete page did not say the trade history and P&L are kept, and
    the Trades/P&L filter lost the deleted account (its rows showed only under All)."""
    from .test_importing import account_of

    gone, kept = account_of(user, "zerodha", "old"), account_of(user, "angelone", "new")
    gone_id, gone_name = gone.pk, gone.display_name
    make_trade(gone, 1, "BUY", 10, 100, "2025-05-05T10:00")
    make_trade(gone, 2, "SELL", 10, 130, "2025-05-06T10:00")
    make_trade(kept, 3, "BUY", 5, 200, "2025-05-05T10:00", symbol="TCS")
    make_trade(kept, 4, "SELL", 5, 190, "2025-05-06T10:00", symbol="TCS")
    services.rebuild(user=user)
    client.force_login(user)
    confirm = client.get(reverse("brokers:delete", args=[gone_id])).content.decode()
    assert "trade history and P&amp;L are kept" in confirm
    assert client.post(reverse("brokers:delete", args=[gone_id])).status_code == 302
    for name in ("trades:list", "trades:pnl"):
        page = client.get(reverse(name)).content.decode()
        assert f'<option value="deleted-{gone_id}" >{gone_name} (deleted)</option>' in page
    pnl = client.get(reverse("trades:pnl"), {"account": f"deleted-{gone_id}"}).content.decode()
    assert f'<option value="deleted-{gone_id}" selected>' in pnl
    assert "(deleted account: its history is kept)" in pnl
    assert "₹300.00" in pnl and "TCS" not in pnl  # the old account's +300 only
    listing = client.get(reverse("trades:list"), {"account": f"deleted-{gone_id}"})
    assert "INFY" in listing.content.decode() and "TCS" not in listing.content.decode()
    export = client.get(
        reverse("trades:export", args=["csv"]), {"account": f"deleted-{gone_id}"}
    ).content.decode("utf-8-sig")
    assert "INFY" in export and "TCS" not in export


def test_the_low_findings_wording_and_small_guards(client, user, account, capsys):
    """Review 6 LOW: plurals, dates as "05 May 2025", the missed-days form names its
    fields, Remove asks first, the import page lists the columns before any upload, a
    header-only file says it has no trades, "Round trips" in By strategy, the curve's
    dates, and rebuild_pnl --account takes the label."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from trades.models import Adjustment, CapturedDay

    from .test_importing import CONSOLE, account_of

    client.force_login(user)
    zerodha = account_of(user, "zerodha")
    one = "\n".join(CONSOLE.splitlines()[:2]) + "\n"
    upload = SimpleUploadedFile("one.csv", one.encode(), content_type="text/csv")
    url = client.post(reverse("trades:import"), {"account": zerodha.pk, "file": upload}).url
    assert "Import 1 trade<" in client.get(url).content.decode()
    done = client.post(url, {"step": "confirm"}, follow=True).content.decode()
    assert "Imported 1 trade into" in done and "1 trading day now counts as captured" in done

    header = SimpleUploadedFile("h.csv", CONSOLE.splitlines()[0].encode(), content_type="text/csv")
    refused = client.post(reverse("trades:import"), {"account": zerodha.pk, "file": header})
    assert refused.status_code == 422 and "The file has no trades" in refused.content.decode()
    page = client.get(reverse("trades:import")).content.decode()
    assert 'id="export-columns"' in page and "order_execution_time" in page

    make_trade(account, 1, "BUY", 10, 100, "2025-04-10T10:00")
    make_trade(account, 2, "SELL", 20, 60, "2025-06-10T10:00")
    added = client.post(
        reverse("trades:adjustments"),
        {
            "symbol": "INFY",
            "exchange": "",
            "kind": "split",
            "ex_date": "2025-05-01",
            "old": 1,
            "new": 2,
        },
        follow=True,
    ).content.decode()
    assert "Split INFY 1:2 on 01 May 2025 added" in added
    assert 'data-confirm="Remove the split of INFY (1:2 on 01 May 2025)?' in added
    assert Adjustment.objects.count() == 1

    CapturedDay.objects.create(account=account, day=date(2025, 11, 3))
    marked = client.post(
        reverse("trades:mark-no-trades"),
        {"account": account.pk, "start": "", "end": ""},
        follow=True,
    ).content.decode()
    assert "Give the first day (From)" in marked and "Give the last day (to)" in marked

    pnl = client.get(reverse("trades:pnl")).content.decode()
    assert '<th class="num">Round trips</th><th class="num">Win rate</th>' in pnl
    assert "Across: 10 Jun 2025 → 10 Jun 2025" in pnl

    call_command("rebuild_pnl", user=user.username, account="book")
    assert "book" in capsys.readouterr().out
