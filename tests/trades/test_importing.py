"""Importing the brokers' own trade exports: preview, duplicates, unreadable rows, the
5 MB cap, one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from brokers import accounts
from tests.brokers.peers import peer_class
from trades import importing
from trades.models import CapturedDay, PendingImport, RoundTrip, Trade

from .helpers import make_trade

pytestmark = pytest.mark.django_db

CONSOLE = """symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2025-03-28,NSE,EQ,EQ,buy,false,10.000000,1500.000000,50001,1100001,2025-03-28T09:20:31
INFY,INE009A01021,2025-04-02,NSE,EQ,EQ,sell,false,4.000000,1600.000000,50002,1100002,2025-04-02T10:01:00
INFY,INE009A01021,2025-04-02,NSE,EQ,EQ,sell,false,6.000000,1610.000000,50003,1100002,2025-04-02T10:01:05
TCS,INE467B01029,2025-04-02,NSE,EQ,EQ,hold,false,1,3000,50004,1100003,2025-04-02T11:00:00
TCS,INE467B01029,2025-04-02,NSE,EQ,EQ,buy,false,1,abc,50005,1100003,2025-04-02T11:00:00
INFY,INE009A01021,2025-04-02,NSE,EQ,EQ,sell,false,6.000000,1610.000000,50003,1100002,2025-04-02T10:01:05
"""

TRADE_REPORT = """Trade Book Report
Client Code,A12345

Trade Date,Trade Time,Exchange,Symbol,Product Type,Buy/Sell,Quantity,Price,Trade No,Order No
02-04-2025,09:30:00,NSE,SBIN,Intraday,Buy,5,800.50,T9001,O8001
02-04-2025,15:10:00,NSE,SBIN,Intraday,Sell,5,805.50,T9002,O8002
"""


def account_of(user, broker, label="main"):
    return accounts.create_account(
        user=user,
        broker=broker,
        label=label,
        credentials=peer_class(broker).sample_credentials(label),
    )


def test_console_tradebook_preview_marks_new_duplicate_repeated_unreadable(user):
    account = account_of(user, "zerodha")
    make_trade(account, 50001, "BUY", 10, 1500, "2025-03-28T09:20:31")  # captured already
    Trade.objects.filter(broker_trade_id="T50001").update(broker_trade_id="50001")
    result = importing.preview(account=account, text=CONSOLE)
    statuses = [(r.line, r.status) for r in result.rows]
    assert statuses == [
        (2, "duplicate"),
        (3, "new"),
        (4, "new"),
        (5, "unreadable"),
        (6, "unreadable"),
        (7, "repeated"),
    ]
    assert "neither buy nor sell" in result.rows[3].reason
    assert "not a number" in result.rows[4].reason
    assert result.counts == {"new": 2, "duplicate": 1, "unreadable": 2, "repeated": 1}
    assert (result.first_day, result.last_day) == (date(2025, 3, 28), date(2025, 4, 2))
    assert not Trade.objects.filter(origin=Trade.Origin.IMPORTED).exists()  # preview writes nothing


def test_confirm_writes_new_rows_once_marks_days_and_rebuilds(user):
    account = account_of(user, "zerodha")
    pending = importing.stage(user=user, account=account, data=CONSOLE.encode(), filename="tb.csv")
    outcome = importing.confirm(pending=pending)
    assert outcome.added == 3  # 50001, 50002, 50003
    kept = PendingImport.objects.get()  # kept, without its text, so Back says it was done
    assert kept.confirmed_at is not None and kept.text == ""
    sells = Trade.objects.filter(account=account, side="SELL").order_by("traded_at")
    assert [s.broker_order_id for s in sells] == ["1100002", "1100002"]
    assert all(t.origin == "imported" for t in sells)
    # One sell order against one buy, across the financial year's end: FY 2025-26.
    [trip] = RoundTrip.objects.filter(account=account)
    assert trip.quantity == 10 and trip.gross == Decimal("1060")  # 4x100 + 6x110
    assert trip.financial_year == 2025 and trip.classification == "STCG"
    days = set(CapturedDay.objects.filter(account=account).values_list("day", flat=True))
    # The covered trading days; Mon 31 March 2025 was an NSE holiday (Id-ul-Fitr).
    assert days == {date(2025, 3, 28), date(2025, 4, 1), date(2025, 4, 2)}
    # The same file again: everything is a duplicate now.
    again = importing.confirm(
        pending=importing.stage(user=user, account=account, data=CONSOLE.encode())
    )
    assert again.added == 0 and Trade.objects.filter(account=account).count() == 3


def test_trade_report_with_preamble_and_product_column(user):
    account = account_of(user, "angelone")
    result = importing.preview(account=account, text=TRADE_REPORT)
    assert [r.status for r in result.rows] == ["new", "new"]
    trade = result.rows[0].trade
    assert trade.instrument.symbol == "SBIN-EQ" and str(trade.product) == "MIS"
    assert trade.price == Decimal("800.50") and trade.trade_id == "T9001"
    importing.confirm(
        pending=importing.stage(user=user, account=account, data=TRADE_REPORT.encode())
    )
    [trip] = RoundTrip.objects.filter(account=account)
    assert trip.classification == "INTRADAY" and trip.gross == Decimal("25")


def test_a_wrong_file_and_a_too_large_file_are_refused_with_a_reason(user):
    account = account_of(user, "zerodha")
    with pytest.raises(importing.ImportRefused, match="Missing: .*trade_id"):
        importing.stage(user=user, account=account, data=b"symbol,quantity,price\nINFY,1,2\n")
    big = b"x" * (importing.MAX_BYTES + 1)
    with pytest.raises(importing.ImportRefused, match="at most 5 MB"):
        importing.stage(user=user, account=account, data=big)
    with pytest.raises(importing.ImportRefused, match="empty"):
        importing.stage(user=user, account=account, data=b"  ")
    assert not PendingImport.objects.exists()


def test_an_account_without_an_export_is_refused(user):
    paper = accounts.create_account(
        user=user, broker="paper", label="p", credentials={"starting_cash": "1000"}
    )
    with pytest.raises(importing.ImportRefused, match="no trade export"):
        importing.stage(user=user, account=paper, data=CONSOLE.encode())


def test_confirm_is_one_transaction(user, monkeypatch):
    account = account_of(user, "zerodha")
    pending = importing.stage(user=user, account=account, data=CONSOLE.encode())
    pending_id = pending.pk

    def crash(**kwargs):
        raise RuntimeError("died half way")

    monkeypatch.setattr(importing.services, "rebuild", crash)
    with pytest.raises(RuntimeError):
        importing.confirm(pending=pending)
    assert not Trade.objects.exists() and not CapturedDay.objects.exists()
    assert PendingImport.objects.filter(pk=pending_id).exists()  # can be confirmed again


CONSOLE_FNO = """symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time,expiry_date
NIFTY25APR23000CE,,2025-04-03,NSE,FO,,buy,false,75,120.50,F1,FO1,2025-04-03T09:30:00,2025-04-24
NIFTY25APR23000CE,,2025-04-07,NSE,FO,,sell,false,75,140.50,F2,FO2,2025-04-07T10:00:00,2025-04-24
SENSEX25APRFUT,,2025-04-03,BSE,FO,,buy,false,20,76000,F3,FO3,2025-04-03T09:31:00,2025-04-29
USDINR25APRFUT,,2025-04-03,NSE,CDS,,buy,false,1,85.5,F4,FO4,2025-04-03T09:32:00,2025-04-28
CRUDEOIL25APRFUT,,2025-04-03,MCX,COM,,buy,false,1,5600,F5,FO5,2025-04-03T09:33:00,2025-04-21
BANKNIFTY25APRFUT,,2025-04-03,NSE,,,buy,false,30,51000,F6,FO6,2025-04-03T09:34:00,2025-04-24
INFY,INE009A01021,2025-04-03,NSE,EQ,EQ,buy,false,10,1500,F7,FO7,2025-04-03T09:35:00,
"""


def test_console_fno_rows_are_derivatives_not_delivery_equity(user):
    """Review 6: Console names the market by exchange AND segment (NSE + FO): a
    NIFTY option must land on NFO (product NRML) and match as F&O, not NSE CNC."""
    account = account_of(user, "zerodha")
    rows = [r.trade for r in account.adapter_class.read_trade_export(CONSOLE_FNO)]
    assert [(t.instrument.exchange, str(t.product)) for t in rows] == [
        ("NFO", "NRML"),
        ("NFO", "NRML"),
        ("BFO", "NRML"),
        ("CDS", "NRML"),
        ("MCX", "NRML"),
        ("NFO", "NRML"),  # no segment, but an expiry date: a derivative
        ("NSE", "CNC"),
    ]
    pending = importing.stage(user=user, account=account, data=CONSOLE_FNO.encode())
    importing.confirm(pending=pending)
    trip = RoundTrip.objects.get(symbol="NIFTY25APR23000CE")
    assert (trip.exchange, trip.product_class, trip.classification) == ("NFO", "FNO", "FNO")
    assert trip.gross == Decimal("1500")  # 75 x (140.50 - 120.50)


HEADER = CONSOLE.splitlines()[0]


def console(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


OUT_OF_BOUNDS = console(
    "BIGQ,X,2025-05-07,NSE,EQ,EQ,buy,false,99999999999999999999,10,B1,O1,2025-05-07T10:00:00",
    "BIGP,X,2025-05-07,NSE,EQ,EQ,buy,false,1,1e20,B2,O2,2025-05-07T10:00:00",
    "QTY3B,X,2025-05-08,NSE,EQ,EQ,buy,false,3000000000,10,B3,O3,2025-05-08T10:00:00",
    "SMALLP,X,2025-05-07,NSE,EQ,EQ,buy,false,1,0.000001,B4,O4,2025-05-07T10:00:00",
    "PRICE7,X,2025-05-07,NSE,EQ,EQ,buy,false,1,10000000,B5,O5,2025-05-07T10:00:00",
    f"LONGID,X,2025-05-07,NSE,EQ,EQ,buy,false,1,10,{'9' * 200},O6,2025-05-07T10:00:00",
    "FUTURE,X,2099-05-07,NSE,EQ,EQ,buy,false,1,10,B7,O7,2099-05-07T10:00:00",
    "VALUE,X,2025-05-07,NSE,EQ,EQ,buy,false,10000000,9999999.9999,B9,O9,2025-05-07T10:00:00",
    "OK,X,2025-05-07,NSE,EQ,EQ,buy,false,10000000,1000,B8,O8,2025-05-07T10:00:00",
)


def test_rows_the_app_cannot_store_are_unreadable_with_a_reason(user):
    """Review 6: quantity 1e20 / price 1e20 crashed the confirm (OverflowError,
    InvalidOperation), 3,000,000,000 passed (over PostgreSQL's integer) and one
    2099 trade refused the whole file. Each is now an unreadable row, the rest import."""
    account = account_of(user, "zerodha")
    result = importing.preview(account=account, text=OUT_OF_BOUNDS)
    reasons = [(r.status, r.reason) for r in result.rows]
    assert [status for status, _ in reasons] == ["unreadable"] * 8 + ["new"]
    assert "not between 1 and 10,000,000" in reasons[0][1]
    assert "below 10,000,000" in reasons[1][1]
    assert "not between 1 and 10,000,000" in reasons[2][1]
    assert "more than 4 decimals" in reasons[3][1]
    assert "below 10,000,000" in reasons[4][1]
    assert "trade id is longer than 64" in reasons[5][1]
    assert "07 May 2099, in the future" in reasons[6][1]
    # Each part in bounds, the fill worth ~₹10^14: its round trip would overflow PostgreSQL.
    assert "worth more than ₹1,000 crore in one fill" in reasons[7][1]
    assert (result.first_day, result.last_day) == (date(2025, 5, 7), date(2025, 5, 7))
    pending = importing.stage(user=user, account=account, data=OUT_OF_BOUNDS.encode())
    assert importing.confirm(pending=pending).added == 1
    assert Trade.objects.get().quantity == 10_000_000


def test_a_covered_range_reaching_back_to_year_1_is_refused_not_marked(user):
    """Review 6 follow-up: 'covers from 0001-01-01' would mark ~500,000 days captured."""
    account = account_of(user, "zerodha")
    pending = importing.stage(user=user, account=account, data=CONSOLE.encode())
    with pytest.raises(importing.ImportRefused, match="before 1990: check the year"):
        importing.confirm(pending=pending, covers_from=date(1, 1, 1))
    assert not CapturedDay.objects.exists() and not Trade.objects.exists()
