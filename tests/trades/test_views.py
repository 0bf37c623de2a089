"""The trades, P&L, export, import and adjustment pages through the Django client."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from trades import importing, services
from trades.models import Adjustment, CapturedDay, PendingImport, Trade

from .helpers import make_trade
from .test_importing import CONSOLE, account_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(user, account):
    make_trade(account, 1, "BUY", 10, 100, "2025-03-20T10:00")
    make_trade(account, 2, "SELL", 10, 90, "2025-03-31T10:00")  # FY 2024-25, a loss
    make_trade(account, 3, "BUY", 5, 200, "2025-04-01T10:00", symbol="TCS")
    make_trade(account, 4, "SELL", 5, 230, "2025-04-01T14:00", symbol="TCS")  # FY 2025-26
    services.rebuild(user=user)
    return account


def test_trades_page_lists_fills_with_filters(client, user, book):
    client.force_login(user)
    page = client.get(reverse("trades:list")).content.decode()
    assert page.count('class="trade-row"') == 4
    page = client.get(reverse("trades:list"), {"fy": 2025}).content.decode()
    assert page.count('class="trade-row"') == 2 and "FY 2025-26" in page
    fragment = client.get(reverse("trades:list"), {"fy": 2024}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert body.startswith('<div id="trades-body">') and body.count('class="trade-row"') == 2


def test_another_users_trades_and_accounts_are_invisible(client, other_user, book):
    client.force_login(other_user)
    page = client.get(reverse("trades:list"), {"account": book.pk}).content.decode()
    assert 'class="trade-row"' not in page and "No trades yet" in page
    assert "No closed round trips" in client.get(reverse("trades:pnl")).content.decode()
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("trades:export", args=["csv"])).content.decode("utf-8-sig")
            )
        )
    )
    assert len(rows) == 1  # the header only


def test_pnl_page_totals_strategy_table_and_chart(client, user, book):
    client.force_login(user)
    page = client.get(reverse("trades:pnl")).content.decode()
    assert "<polyline" in page and 'id="equity-curve"' in page
    assert 'data-class="STCG"' in page and 'data-class="INTRADAY"' in page
    assert "Placed outside the app" in page and "estimate" in page
    fy = client.get(reverse("trades:pnl"), {"fy": 2025}).content.decode()
    assert 'data-class="STCG"' not in fy and 'data-class="INTRADAY"' in fy


def test_csv_and_xlsx_exports(client, user, book):
    client.force_login(user)
    response = client.get(reverse("trades:export", args=["csv"]), {"fy": 2024})
    assert response["Content-Disposition"] == 'attachment; filename="pnl-fy2024.csv"'
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert "Charges (estimated)" in header
    record = dict(zip(header, row, strict=True))
    assert record["Financial year"] == "FY 2024-25" and record["Gross P&L"] == "-100.0000"
    assert record["Classification"] == "Short-term capital gain"
    assert (record["Buy value"], record["Sell value"]) == ("1000.00", "900.00")

    response = client.get(reverse("trades:export", args=["xlsx"]))
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook["Round trips"]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3 and values[0][0] == "Financial year"
    assert {v[3] for v in values[1:]} == {"INFY", "TCS"}
    assert client.get(reverse("trades:export", args=["pdf"])).status_code == 404


def test_a_formula_in_a_strategy_name_is_defused_in_the_csv(client, user, account):
    from orders.models import Order, Strategy

    strategy = Strategy.objects.create(user=user, name='=HYPERLINK("x")')
    entry = Order.objects.create(
        user=user,
        account=account,
        account_name="a",
        symbol="INFY",
        side="BUY",
        quantity=1,
        strategy=strategy,
    )
    make_trade(account, 1, "BUY", 1, 100, "2025-06-02T10:00", order=entry)
    make_trade(account, 2, "SELL", 1, 110, "2025-06-02T11:00")
    services.rebuild(user=user)
    client.force_login(user)
    text = client.get(reverse("trades:export", args=["csv"])).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_missed_days_are_shown(client, user, account):
    CapturedDay.objects.create(account=account, day=date(2025, 11, 3))
    client.force_login(user)
    page = client.get(reverse("trades:list")).content.decode()
    assert 'id="missed-days"' in page and "Tue 04 Nov 2025" in page


def test_import_upload_preview_confirm(client, user):
    account = account_of(user, "zerodha")
    client.force_login(user)
    upload = SimpleUploadedFile("tradebook.csv", CONSOLE.encode(), content_type="text/csv")
    response = client.post(reverse("trades:import"), {"account": account.pk, "file": upload})
    pending = PendingImport.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "trades:import-preview", args=[pending.pk]
    )
    page = client.get(response.url).content.decode()
    assert page.count('data-status="new"') == 3
    assert 'data-status="unreadable"' in page and "Import 3 trades" in page
    assert not Trade.objects.exists()
    done = client.post(response.url, {"step": "confirm"})
    assert done.status_code == 302 and Trade.objects.count() == 3


def test_import_refusals_are_form_errors_not_5xx(client, user, other_user):
    account = account_of(user, "zerodha")
    client.force_login(user)
    bad = SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")
    response = client.post(reverse("trades:import"), {"account": account.pk, "file": bad})
    assert response.status_code == 422 and "Missing:" in response.content.decode()
    pending = importing.stage(user=user, account=account, data=CONSOLE.encode())
    client.force_login(other_user)
    assert client.get(reverse("trades:import-preview", args=[pending.pk])).status_code == 404
    assert (
        client.post(
            reverse("trades:import-preview", args=[pending.pk]), {"step": "confirm"}
        ).status_code
        == 404
    )
    other = SimpleUploadedFile("x.csv", CONSOLE.encode(), content_type="text/csv")
    refused = client.post(reverse("trades:import"), {"account": account.pk, "file": other})
    assert refused.status_code == 422  # not one of their accounts: not a choice
    assert not Trade.objects.exists()


def test_too_large_an_upload_says_so(client, user, settings):
    account = account_of(user, "zerodha")
    client.force_login(user)
    big = SimpleUploadedFile("big.csv", b"x" * (importing.MAX_BYTES + 10), content_type="text/csv")
    response = client.post(reverse("trades:import"), {"account": account.pk, "file": big})
    assert response.status_code == 422 and "at most 5 MB" in response.content.decode()


def test_adjustment_form_rematches_and_refuses_nonsense(client, user, account, other_user):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    make_trade(account, 2, "SELL", 50, 210, "2025-06-10T10:00")
    client.force_login(user)
    bad = client.post(
        reverse("trades:adjustments"),
        {"symbol": "INFY", "kind": "bonus", "ex_date": "2025-05-01", "old": 2, "new": 1},
    )
    assert bad.status_code == 422 and "larger" in bad.content.decode()
    ok = client.post(
        reverse("trades:adjustments"),
        {"symbol": "INFY", "kind": "split", "ex_date": "2025-05-01", "old": 1, "new": 5},
    )
    assert ok.status_code == 302
    page = client.get(reverse("trades:pnl")).content.decode()
    assert page.count('class="trip-row"') == 1
    adjustment = Adjustment.objects.get()
    client.force_login(other_user)
    delete = reverse("trades:adjustment-delete", args=[adjustment.pk])
    assert client.post(delete).status_code == 404
    assert Adjustment.objects.exists()


def test_an_opening_lots_purchase_date_reclassifies_it(client, user, account, other_user):
    from trades.models import OpeningLot, RoundTrip

    lot = OpeningLot.objects.create(
        user=user,
        account=account,
        exchange="NSE",
        symbol="INFY",
        quantity=5,
        average_price=100,
        as_of=date(2025, 6, 1),
    )
    make_trade(account, 1, "SELL", 5, 150, "2025-07-01T10:00")
    services.rebuild(user=user)
    assert RoundTrip.objects.get().classification == "STCG"
    client.force_login(user)
    url = reverse("trades:opening-lot", args=[lot.pk])
    late = client.post(url, {"acquired_on": "2025-06-20"})
    assert late.status_code == 422 and "already held" in late.content.decode()
    assert client.post(url, {"acquired_on": "2023-01-02"}).status_code == 302
    assert RoundTrip.objects.get().classification == "LTCG"
    client.force_login(other_user)
    assert client.post(url, {"acquired_on": "2020-01-01"}).status_code == 404


@pytest.mark.parametrize(
    "rows",
    [
        ["A,X,2025-05-07,NSE,EQ,EQ,buy,false,99999999999999999999,10,B1,O1,2025-05-07T10:00:00"],
        ["A,X,2025-05-07,NSE,EQ,EQ,buy,false,1,1e20,B1,O1,2025-05-07T10:00:00"],
        ["A,X,2025-05-08,NSE,EQ,EQ,buy,false,3000000000,10,B1,O1,2025-05-08T10:00:00"],
        ["A,X,2025-05-08,NSE,EQ,EQ,buy,false,1,NaN,B1,O1,2025-05-08T10:00:00"],
        ["A,X,2025-05-08,NSE,EQ,EQ,buy,false,1,-Infinity,B1,O1,2025-05-08T10:00:00"],
        ["A,X,9999-12-31,NSE,EQ,EQ,buy,false,1,10,B1,O1,9999-12-31T23:59:59"],
        ["A,X,0001-01-01,NSE,EQ,EQ,buy,false,1,10,B1,O1,0001-01-01T00:00:00"],
        ["A,X,9999-12-31,NSE,EQ,EQ,buy,false,1,10,B1,O1,9999-12-31T23:00:00-05:00"],
        [f"{'A' * 300},X,2025-05-08,{'N' * 50},EQ,EQ,buy,false,1,10,B1,{'O' * 300},"],
        [
            "A,X,2025-05-07,NSE,EQ,EQ,buy,false,9999999,9999999.9999,B1,O1,2025-05-07T10:00:00",
            "A,X,2025-05-08,NSE,EQ,EQ,sell,false,9999999,0.0001,B2,O2,2025-05-08T10:00:00",
        ],
        [
            "A,X,2099-05-07,NSE,EQ,EQ,buy,false,1,10,B1,O1,2099-05-07T10:00:00",
            "A,X,2025-05-07,NSE,EQ,EQ,buy,false,1,10,B2,O2,2025-05-07T10:00:00",
        ],
    ],
)
def test_no_import_input_gives_a_5xx(client, user, rows):
    """Review 6: preview and confirm of any row answer a page, never a server error."""
    account = account_of(user, "zerodha")
    client.force_login(user)
    text = "\n".join([CONSOLE.splitlines()[0], *rows]) + "\n"
    upload = SimpleUploadedFile("tb.csv", text.encode(), content_type="text/csv")
    response = client.post(reverse("trades:import"), {"account": account.pk, "file": upload})
    assert response.status_code in (302, 422)
    if response.status_code == 302:
        assert client.get(response.url).status_code == 200
        done = client.post(response.url, {"step": "confirm"})
        assert done.status_code in (200, 302, 422)
