"""Response mapping against the brokers' published shapes, without a network."""

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import angelone, zerodha
from brokers.angelone import mapping as angelone_mapping
from brokers.base import BrokerUnavailable, GttKind, GttLegResult, OrderStatus, Product
from brokers.mapping import dec
from brokers.zerodha import mapping as zerodha_mapping
from brokers.zerodha.master import parse_kite_csv

# Zerodha's published Kite Connect response samples, vendored (see its README).
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "kite"


def kite_sample(name):
    return json.loads((SAMPLES / name).read_text())["data"]


def test_kite_order_book_sample_maps_every_row():
    rows = kite_sample("orders.json")
    mapped = [zerodha.ZerodhaAdapter.map_order(row) for row in rows]
    assert len(mapped) == len(rows)
    by_id = {o.broker_order_id: o for o in mapped}
    first = by_id["100000000000000"]
    assert first.status is OrderStatus.CANCELLED and first.product is Product.NRML
    assert first.price == Decimal("72") and first.instrument.exchange == "CDS"
    assert first.placed_at == datetime(2021, 5, 31, 3, 48, 57, tzinfo=UTC)  # 09:18:57 IST
    assert any(o.status is OrderStatus.EXECUTED for o in mapped)


def test_kite_holdings_sample_counts_t1_into_the_quantity():
    rows = kite_sample("holdings.json")
    holdings = [zerodha.ZerodhaAdapter.map_holding(row) for row in rows]
    first = holdings[0]
    assert first.instrument.symbol == "AARON" and first.quantity == 1 and first.t1_quantity == 0
    assert first.average_price == Decimal("161") and first.last_price == Decimal("352.95")
    for row, holding in zip(rows, holdings, strict=True):
        assert holding.quantity == row["quantity"] + row["t1_quantity"]


def test_kite_holdings_sample_carries_margin_traded_shares_apart():
    rows = kite_sample("holdings.json")
    aaron, other = [zerodha.ZerodhaAdapter.map_holding(row) for row in rows]
    assert aaron.mtf_quantity == 1000 and aaron.quantity == 1  # a separate lot
    assert other.mtf_quantity == 0
    without = {k: v for k, v in rows[0].items() if k != "mtf"}  # older responses: no key
    assert zerodha.ZerodhaAdapter.map_holding(without).mtf_quantity == 0


def test_kite_margins_sample_available_cash_is_net():
    funds = zerodha.ZerodhaAdapter.map_funds(kite_sample("margins.json")["equity"])
    assert funds.available_cash == Decimal(str(kite_sample("margins.json")["equity"]["net"]))


# SmartAPI publishes its shapes only in its documentation (no mock set): these
# rows are the documented examples, numbers as strings.
SMART_RMS = {
    "net": "9999999999999",
    "availablecash": "10000000000000",
    "availableintradaypayin": "0",
    "availablelimitmargin": "0",
    "collateral": "0",
    "m2munrealized": "0",
    "m2mrealized": "0",
    "utiliseddebits": "1",
    "utilisedspan": "0",
    "utilisedoptionpremium": "0",
    "utilisedholdingsales": "0",
    "utilisedexposure": "0",
    "utilisedturnover": "0",
    "utilisedpayout": "0",
}
SMART_POSITION = {
    "exchange": "NSE",
    "symboltoken": "2885",
    "producttype": "DELIVERY",
    "tradingsymbol": "RELIANCE-EQ",
    "symbolname": "RELIANCE",
    "instrumenttype": "",
    "priceden": "1",
    "pricenum": "1",
    "genden": "1",
    "gennum": "1",
    "precision": "2",
    "multiplier": "-1",
    "boardlotsize": "1",
    "buyqty": "1",
    "sellqty": "0",
    "buyamount": "2235.80",
    "sellamount": "0",
    "symbolgroup": "EQ",
    "strikeprice": "-1",
    "optiontype": "",
    "expirydate": "",
    "lotsize": "1",
    "cfbuyqty": "0",
    "cfsellqty": "0",
    "cfbuyamount": "0",
    "cfsellamount": "0",
    "buyavgprice": "2235.80",
    "sellavgprice": "0",
    "avgnetprice": "2235.80",
    "netvalue": "- 2235.80",
    "netqty": "1",
    "totalbuyvalue": "2235.80",
    "totalsellvalue": "0",
    "cfbuyavgprice": "0",
    "cfsellavgprice": "0",
    "totalbuyavgprice": "2235.80",
    "totalsellavgprice": "0",
    "netprice": "2235.80",
}


def test_smartapi_rms_available_cash_is_net_not_availablecash():
    funds = angelone.AngelOneAdapter.map_funds(SMART_RMS)
    assert funds.available_cash == Decimal("9999999999999") == funds.net
    assert funds.used_margin == Decimal(1)


def test_smartapi_documented_position_has_no_pnl_or_ltp_and_is_priced():
    position = angelone.AngelOneAdapter.map_position(SMART_POSITION, ltp=Decimal("2240.00"))
    # netvalue "- 2235.80" (spaced negative) + 1 × 2240.00
    assert position.pnl == Decimal("4.20") == position.m2m == position.unrealised
    assert position.last_price == Decimal("2240.00") and position.realised == 0
    # No price to be had: an error, never a P&L of 0.
    with pytest.raises(BrokerUnavailable):
        angelone.AngelOneAdapter.map_position(SMART_POSITION)
    # A closed position's P&L is its net value; no price needed.
    closed = {**SMART_POSITION, "sellqty": "1", "netqty": "0", "netvalue": "12.50"}
    closed_position = angelone.AngelOneAdapter.map_position(closed)
    assert closed_position.pnl == Decimal("12.50") == closed_position.realised


def test_kite_positions_sample():
    rows = kite_sample("positions.json")["net"]
    positions = [zerodha.ZerodhaAdapter.map_position(row) for row in rows]
    lead = positions[0]
    assert lead.instrument.symbol == "LEADMINI17DECFUT" and lead.product is Product.NRML
    assert lead.quantity == 1 and lead.average_price == Decimal("161.05")
    assert positions[1].overnight_quantity == 3


def test_kite_gtt_sample_carries_each_legs_result():
    single, fired = [
        zerodha.ZerodhaAdapter.map_gtt(row) for row in kite_sample("gtt_get_orders.json")
    ]
    assert single.status == "active" and single.leg_results == (GttLegResult(),)
    assert fired.status == "triggered" and fired.kind is GttKind.OCO
    untouched, failed = fired.leg_results
    assert untouched == GttLegResult() and not untouched.failed
    assert failed.failed and failed.order_id == ""
    assert failed.reason.startswith("Your order price is lower than the current lower circuit")


def test_kite_instrument_csv_sample_parses():
    lines = (SAMPLES / "instruments_nse.csv").read_text().splitlines()
    rows = list(parse_kite_csv(lines))
    assert len(rows) == len(lines) - 1
    first = rows[0]
    assert first.trading_symbol == "CENTRALBK-BE" and first.token == "3813889"
    assert first.tick_size == Decimal("0.05") and first.lot_size == 1


KITE_STATUSES = [
    ("OPEN", OrderStatus.OPEN),
    ("COMPLETE", OrderStatus.EXECUTED),
    ("CANCELLED", OrderStatus.CANCELLED),
    ("REJECTED", OrderStatus.REJECTED),
    ("TRIGGER PENDING", OrderStatus.TRIGGER_PENDING),
    ("AMO REQ RECEIVED", OrderStatus.PENDING),
    ("VALIDATION PENDING", OrderStatus.PENDING),
    ("PUT ORDER REQ RECEIVED", OrderStatus.PENDING),
    ("OPEN PENDING", OrderStatus.PENDING),
    ("MODIFY VALIDATION PENDING", OrderStatus.OPEN),
    ("MODIFY PENDING", OrderStatus.OPEN),
    ("CANCEL PENDING", OrderStatus.OPEN),
]
SMART_STATUSES = [
    ("open", OrderStatus.OPEN),
    ("complete", OrderStatus.EXECUTED),
    ("cancelled", OrderStatus.CANCELLED),
    ("rejected", OrderStatus.REJECTED),
    ("trigger pending", OrderStatus.TRIGGER_PENDING),
    ("after market order req received", OrderStatus.PENDING),
    ("open pending", OrderStatus.PENDING),
    ("validation pending", OrderStatus.PENDING),
    ("put order req received", OrderStatus.PENDING),
    ("modify pending", OrderStatus.OPEN),
    ("cancel pending", OrderStatus.OPEN),
    ("modified", OrderStatus.OPEN),
]


@pytest.mark.parametrize(("raw", "expected"), KITE_STATUSES)
def test_every_documented_kite_status(raw, expected):
    assert zerodha_mapping.map_status(raw, filled=0, quantity=10) is expected


@pytest.mark.parametrize(("raw", "expected"), SMART_STATUSES)
def test_every_documented_smartapi_status(raw, expected):
    assert angelone_mapping.map_status(raw, filled=0, quantity=10) is expected


@pytest.mark.parametrize("mapper", [zerodha_mapping.map_status, angelone_mapping.map_status])
def test_partial_fill_of_an_open_order(mapper):
    assert mapper("OPEN", filled=4, quantity=10) is OrderStatus.PARTIALLY_FILLED


def test_unknown_status_is_in_flight_logged_and_not_borrowed_from_the_previous_row(caplog):
    rows = [
        {
            "order_id": "1",
            "status": "COMPLETE",
            "quantity": 1,
            "filled_quantity": 1,
            "transaction_type": "BUY",
            "exchange": "NSE",
            "tradingsymbol": "SBIN",
        },
        {
            "order_id": "2",
            "status": "SOMETHING NEW",
            "quantity": 1,
            "filled_quantity": 0,
            "transaction_type": "BUY",
            "exchange": "NSE",
            "tradingsymbol": "SBIN",
        },
    ]
    with caplog.at_level(logging.WARNING):
        mapped = [zerodha.ZerodhaAdapter.map_order(row) for row in rows]
    assert mapped[0].status is OrderStatus.EXECUTED
    assert mapped[1].status is OrderStatus.PENDING and mapped[1].broker_status == "SOMETHING NEW"
    assert "SOMETHING NEW" in caplog.text


def test_smartapi_numbers_as_strings_are_parsed():
    row = {
        "orderid": "9",
        "orderstatus": "complete",
        "quantity": "5",
        "filledshares": "5",
        "averageprice": "812.40",
        "price": "0.00",
        "triggerprice": "0",
        "transactiontype": "SELL",
        "exchange": "NSE",
        "tradingsymbol": "SBIN-EQ",
        "symboltoken": "3045",
        "producttype": "INTRADAY",
        "ordertype": "STOPLOSS_LIMIT",
        "ordertag": "X1",
        "text": "",
    }
    mapped = angelone.AngelOneAdapter.map_order(row)
    assert mapped.quantity == 5 and mapped.average_price == Decimal("812.40")
    assert mapped.product is Product.MIS and mapped.order_type.value == "SL"
    position = angelone.AngelOneAdapter.map_position(
        {
            "exchange": "NSE",
            "tradingsymbol": "SBIN-EQ",
            "producttype": "CARRYFORWARD",
            "netqty": "-2",
            "buyqty": "0",
            "sellqty": "2",
            "avgnetprice": "810.5",
            "ltp": "800",
            "pnl": "21.00",
            "cfbuyqty": "0",
            "cfsellqty": "0",
        }
    )
    assert position.quantity == -2 and position.product is Product.NRML
    assert position.pnl == Decimal("21.00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", Decimal("12.5")),
        ("", Decimal(0)),
        (None, Decimal(0)),
        ("1,234.5", Decimal("1234.5")),
        ("- 2235.80", Decimal("-2235.80")),
        ("n/a", Decimal(0)),
        ("NaN", Decimal(0)),
        (7, Decimal(7)),
    ],
)
def test_dec_never_crashes(raw, expected):
    assert dec(raw) == expected


def test_kite_session_ends_at_six_the_next_morning():
    from zoneinfo import ZoneInfo

    ist = ZoneInfo("Asia/Kolkata")
    assert zerodha_mapping.session_expiry(datetime(2026, 11, 24, 9, 30, tzinfo=ist)) == datetime(
        2026, 11, 25, 6, 0, tzinfo=ist
    )
    assert zerodha_mapping.session_expiry(datetime(2026, 11, 24, 5, 0, tzinfo=ist)) == datetime(
        2026, 11, 24, 6, 0, tzinfo=ist
    )


def test_jwt_expiry_is_read_from_the_exp_claim():
    import base64

    payload = (
        base64.urlsafe_b64encode(json.dumps({"exp": 1800000000}).encode()).decode().rstrip("=")
    )
    assert angelone_mapping.jwt_expiry(
        f"eyJhbGciOiJIUzUxMiJ9.{payload}.sig"
    ) == datetime.fromtimestamp(1800000000, tz=UTC)
    assert angelone_mapping.jwt_expiry("not-a-jwt") is None


CONTAINMENT_PROBE = """
import os, socket, sys
looked_up = []
real = socket.getaddrinfo
def spy(host, *a, **k):
    looked_up.append(host)
    return real(host, *a, **k)
socket.getaddrinfo = spy
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")
import django; django.setup()
from brokers.angelone import AngelOneAdapter
from brokers.angelone.client import _smart_connect
client = _smart_connect()(api_key="k", root="http://127.0.0.1:9", timeout=0.5)
import logzero
print("LOOKUPS", looked_up)
print("LOGS", os.path.exists("logs"))
print("LOGZERO_DISABLED", logzero.logger.disabled)
"""


def test_smartapi_client_is_contained(tmp_path):
    """No IP-echo lookup at import, no logs/ folder, logzero silenced."""
    import os

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "SECRET_KEY": "x" * 60,
            "SIGMATRADER_VAR_DIR": str(tmp_path / "var"),
            "SIGMATRADER_ENV_FILE": str(tmp_path / "none"),
            "PYTHONPATH": str(ROOT),
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", CONTAINMENT_PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "LOOKUPS []" in result.stdout
    assert "LOGS False" in result.stdout and not (tmp_path / "logs").exists()
    assert "LOGZERO_DISABLED True" in result.stdout


def test_smartapi_holding_and_position_rows_with_strings_and_product_names():
    holding = angelone.AngelOneAdapter.map_holding(
        {
            "tradingsymbol": "TATASTEEL-EQ",
            "exchange": "NSE",
            "isin": "INE081A01020",
            "t1quantity": "3",
            "realisedquantity": "2",
            "quantity": "2",
            "product": "DELIVERY",
            "averageprice": "111.87",
            "ltp": "130.15",
            "symboltoken": "3499",
            "close": "129.6",
            "profitandloss": "36.56",
        }
    )
    assert holding.quantity == 5 and holding.t1_quantity == 3
    assert holding.average_price == Decimal("111.87") and holding.close_price == Decimal("129.6")
    assert holding.instrument.token == "3499"
    for name, product in (("INTRADAY", "MIS"), ("DELIVERY", "CNC"), ("CARRYFORWARD", "NRML")):
        position = angelone.AngelOneAdapter.map_position(
            {
                "exchange": "NSE",
                "symboltoken": "2885",
                "producttype": name,
                "tradingsymbol": "RELIANCE-EQ",
                "buyqty": "10",
                "sellqty": "4",
                "cfbuyqty": "0",
                "cfsellqty": "0",
                "netqty": "6",
                "avgnetprice": "2400.50",
                "buyavgprice": "2400.50",
                "sellavgprice": "2410.00",
                "ltp": "2420.00",
                "pnl": "155.00",
                "realised": "38.00",
                "unrealised": "117.00",
            }
        )
        assert str(position.product) == product
        assert position.quantity == 6 and position.day_buy_quantity == 10
        assert position.pnl == Decimal("155.00") and position.sell_average == Decimal("2410.00")
