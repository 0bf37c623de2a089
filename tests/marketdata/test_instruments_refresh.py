"""Instrument master refresh: both formats, from the emulator and from files,
scaling, strict row errors, atomicity guards and the recorded runs."""

import json
import threading
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command

from brokers import accounts
from marketdata import refresh
from marketdata.models import Instrument, InstrumentRefresh
from sigmatrader.models import SystemEvent
from tests.brokers.peers.zerodha import kite_peer

SMART_ROW = {
    "token": "3045",
    "symbol": "SBIN-EQ",
    "name": "SBIN",
    "expiry": "",
    "strike": "-1.000000",
    "lotsize": "1",
    "instrumenttype": "",
    "exch_seg": "NSE",
    "tick_size": "5.000000",
}


def smart_rows(count=30):
    rows = [
        dict(SMART_ROW, token=str(10000 + i), symbol=f"EMU{i:03d}-EQ", name=f"EMU{i:03d}")
        for i in range(count)
    ]
    rows.append(
        {
            "token": "99926000",
            "symbol": "Nifty 50",
            "name": "NIFTY",
            "expiry": "",
            "strike": "0.000000",
            "lotsize": "1",
            "instrumenttype": "AMXIDX",
            "exch_seg": "NSE",
            "tick_size": "-1.000000",
        }
    )
    rows.append(
        {
            "token": "43573",
            "symbol": "NIFTY26DEC2424500CE",
            "name": "NIFTY",
            "expiry": "26DEC2024",
            "strike": "2450000.000000",
            "lotsize": "75",
            "instrumenttype": "OPTIDX",
            "exch_seg": "NFO",
            "tick_size": "5.000000",
        }
    )
    rows.append(
        {
            "token": "14182",
            "symbol": "USDINR21DEC75.25CE",
            "name": "USDINR",
            "expiry": "29DEC2021",
            "strike": "752500000.000000",
            "lotsize": "1",
            "instrumenttype": "OPTCUR",
            "exch_seg": "CDS",
            "tick_size": "25000.000000",
        }
    )
    return rows


def write_json(tmp_path, rows, name="master.json"):
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return str(path)


def count(broker="angelone"):
    return Instrument.objects.filter(broker=broker).count()


def test_smartapi_master_from_the_emulator(db, emulator):
    run = refresh.refresh_instruments(broker="angelone")
    assert run.status == "succeeded" and run.rows == count() > 2000
    assert run.source.endswith("OpenAPIScripMaster.json")
    sbin = Instrument.objects.get(broker="angelone", exchange="NSE", trading_symbol="SBIN-EQ")
    assert sbin.canonical_symbol == "SBIN" and sbin.series == "EQ" and sbin.instrument_type == "EQ"
    assert SystemEvent.objects.filter(category="marketdata", message__contains="refreshed").exists()


def test_kite_master_needs_a_session_and_comes_through_it(db, emulator, user):
    with pytest.raises(refresh.RefreshFailed, match="need a connected Zerodha account"):
        refresh.refresh_instruments(broker="zerodha")
    peer = kite_peer(emulator)
    account = accounts.create_account(
        user=user, broker="zerodha", label="main", credentials=peer.credentials
    )
    _, session = peer.connect()
    accounts.store_session(account=account, session=session, event="connected")
    run = refresh.refresh_instruments(broker="zerodha")
    assert run.rows == count("zerodha") > 2000
    index = Instrument.objects.get(broker="zerodha", trading_symbol="NIFTY 50")
    assert index.instrument_type == "INDEX"
    assert InstrumentRefresh.objects.filter(broker="zerodha", status="failed").count() == 1


def test_files_scale_strikes_and_ticks_from_paise_and_currency_units(db, tmp_path):
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows()))
    option = Instrument.objects.get(trading_symbol="NIFTY26DEC2424500CE")
    assert option.strike == 24500 and option.tick_size == Decimal("0.05")
    assert option.instrument_type == "CE" and option.lot_size == 75
    assert str(option.expiry) == "2024-12-26"
    currency = Instrument.objects.get(trading_symbol="USDINR21DEC75.25CE")
    assert currency.strike == Decimal("75.25") and currency.tick_size == Decimal("0.0025")
    index = Instrument.objects.get(trading_symbol="Nifty 50")
    assert index.canonical_symbol == "NIFTY 50" and index.instrument_type == "INDEX"


def test_kite_csv_file(db, tmp_path, emulator, user):
    peer = kite_peer(emulator)
    adapter, _ = peer.connect()
    raw = requests.get(
        f"{emulator.url}/instruments",
        timeout=5,
        headers={
            "X-Kite-Version": "3",
            "Authorization": f"token {peer.credentials['api_key']}:{adapter.session['access_token']}",
        },
    )
    path = tmp_path / "instruments.csv"
    path.write_bytes(raw.content)
    run = refresh.refresh_instruments(broker="zerodha", source=str(path))
    assert run.rows == len(raw.text.strip().splitlines()) - 1
    option = Instrument.objects.filter(broker="zerodha", instrument_type="PE").first()
    assert option.strike is not None and option.lot_size == 75


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (lambda rows: rows[2].pop("lotsize"), "row 3 (token 10002): missing field 'lotsize'"),
        (
            lambda rows: rows[1].update(lotsize="ten"),
            "row 2 (token 10001): lotsize 'ten' is not a number",
        ),
        (
            lambda rows: rows[4].update(exch_seg="XYZ"),
            "row 5 (token 10004): exch_seg 'XYZ' is not a known",
        ),
        (
            lambda rows: rows[0].update(token="ABC"),
            "row 1 (token ABC): token 'ABC' is not a numeric token",
        ),
    ],
)
def test_a_bad_row_is_named_and_the_previous_master_stays(db, tmp_path, broken, message):
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows()))
    before = set(Instrument.objects.values_list("pk", "row_hash"))
    rows = smart_rows(40)
    broken(rows)
    with pytest.raises(refresh.RefreshFailed) as failure:
        refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, rows, "b.json"))
    assert message in str(failure.value)
    assert set(Instrument.objects.values_list("pk", "row_hash")) == before
    latest = InstrumentRefresh.objects.latest()
    assert latest.status == "failed" and message in latest.error
    assert SystemEvent.objects.filter(level="error", message__contains="previous master is kept")


def test_broken_json_download_keeps_the_previous_master(db, tmp_path):
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows()))
    truncated = tmp_path / "cut.json"
    truncated.write_text(json.dumps(smart_rows(40))[:-300])
    with pytest.raises(refresh.RefreshFailed, match="not valid JSON"):
        refresh.refresh_instruments(broker="angelone", source=str(truncated))
    assert count() == len(smart_rows())


def test_csv_with_a_changed_column_order_names_the_row(db, tmp_path):
    header = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange"
    good = "738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE"
    shifted = "779521,3045,SBIN,STATE BANK OF INDIA,0,,0,EQ,1,0.05,NSE,NSE"  # tick/type swapped
    path = tmp_path / "kite.csv"
    path.write_text("\n".join([header, good, shifted]) + "\n")
    with pytest.raises(
        refresh.RefreshFailed, match=r"row 3 \(token 779521\): instrument_type '0.05' is not one of"
    ):
        refresh.refresh_instruments(broker="zerodha", source=str(path))
    assert count("zerodha") == 0
    path.write_text("tradingsymbol,exchange\nSBIN,NSE\n")
    with pytest.raises(refresh.RefreshFailed, match="header: missing columns instrument_token"):
        refresh.refresh_instruments(broker="zerodha", source=str(path))


def test_a_master_that_looks_truncated_is_refused(db, tmp_path):
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows(100)))
    with pytest.raises(refresh.RefreshFailed, match="looks truncated"):
        refresh.refresh_instruments(
            broker="angelone", source=write_json(tmp_path, smart_rows(10), "s.json")
        )
    assert count() == 103


def test_second_refresh_counts_only_real_changes_and_keeps_primary_keys(db, tmp_path):
    first = refresh.refresh_instruments(
        broker="angelone", source=write_json(tmp_path, smart_rows())
    )
    assert (first.added, first.changed, first.removed) == (33, 0, 0)
    pks = dict(Instrument.objects.values_list("token", "pk"))
    again = refresh.refresh_instruments(
        broker="angelone", source=write_json(tmp_path, smart_rows())
    )
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    rows = smart_rows()
    rows[0]["lotsize"] = "5"  # changed
    del rows[1]  # removed
    rows.append(dict(SMART_ROW, token="77777", symbol="NEWCO-EQ", name="NEWCO"))  # added
    third = refresh.refresh_instruments(
        broker="angelone", source=write_json(tmp_path, rows, "t.json")
    )
    assert (third.added, third.changed, third.removed) == (1, 1, 1)
    changed = Instrument.objects.get(token="10000")
    assert changed.lot_size == 5 and changed.pk == pks["10000"]


def test_duplicate_rows_are_skipped_and_counted(db, tmp_path):
    rows = smart_rows()
    rows.append(dict(rows[0]))
    run = refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, rows))
    assert run.skipped == 1 and run.rows == 33


def test_exchange_filter_leaves_other_exchanges_alone(db, tmp_path):
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows()))
    nfo_before = list(Instrument.objects.filter(exchange="NFO").values_list("pk", flat=True))
    rows = [r for r in smart_rows() if r["exch_seg"] == "NSE"]
    run = refresh.refresh_instruments(
        broker="angelone", source=write_json(tmp_path, rows, "n.json"), exchanges=["NSE"]
    )
    assert run.removed == 0
    assert (
        list(Instrument.objects.filter(exchange="NFO").values_list("pk", flat=True)) == nfo_before
    )


def test_command_prints_a_summary_and_fails_clearly(db, tmp_path, capsys):
    call_command(
        "refresh_instruments",
        "--broker",
        "angelone",
        "--source",
        write_json(tmp_path, smart_rows()),
    )
    assert "angelone: 33 rows (+33 added" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="refresh failed for: angelone"):
        call_command(
            "refresh_instruments", "--broker", "angelone", "--source", str(tmp_path / "nope")
        )


def test_a_reader_never_sees_a_half_written_master(transactional_db, tmp_path):
    """Concurrent reader on another connection while a refresh replaces everything:
    PostgreSQL's MVCC snapshots and SQLite's WAL both give it old or new, never between."""
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows(3000)))
    replacement = [
        dict(r, name=r["name"] + " NEW", lotsize="2") if r["exch_seg"] == "NSE" else r
        for r in smart_rows(3000)
    ]
    source = write_json(tmp_path, replacement, "r.json")
    seen, stop = set(), threading.Event()

    def reader():
        from django.db import connections

        try:
            while not stop.is_set():
                total = Instrument.objects.filter(broker="angelone").count()
                doubled = Instrument.objects.filter(
                    broker="angelone", exchange="NSE", lot_size=2
                ).count()
                seen.add((total, doubled))
        finally:
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        refresh.refresh_instruments(broker="angelone", source=source)
    finally:
        stop.set()
        thread.join()
    nse = sum(1 for r in replacement if r["exch_seg"] == "NSE")
    assert seen <= {(3003, 0), (3003, nse)}, seen  # old or new, never between
    assert (3003, 0) in seen


# --- The same file again: nothing parsed, nothing written -------------------------------


@pytest.fixture
def parses(monkeypatch):
    """How many times a master's records were read (its chunks iterated)."""
    from brokers import registry

    adapter_class = registry.get_adapter_class("angelone")
    real = adapter_class.master_records.__func__
    seen = []

    def counting(cls, stream):
        records = real(cls, stream)
        chunks = records.chunks

        def counted():
            seen.append(1)
            return chunks()

        records.chunks = counted
        return records

    monkeypatch.setattr(adapter_class, "master_records", classmethod(counting))
    return seen


def test_the_same_file_again_is_recorded_unchanged_without_parsing_it(db, tmp_path, parses):
    source = write_json(tmp_path, smart_rows())
    first = refresh.refresh_instruments(broker="angelone", source=source)
    again = refresh.refresh_instruments(broker="angelone", source=source)
    assert len(parses) == 1
    assert again.status == "succeeded" and again.rows == first.rows == count() == 33
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert again.content_digest == first.content_digest != ""
    event = SystemEvent.objects.filter(details__refresh_id=again.pk).get()
    assert "unchanged" in event.message and "33 rows kept" in event.message


def test_one_changed_byte_means_a_full_refresh(db, tmp_path, parses):
    refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, smart_rows()))
    rows = smart_rows()
    rows[0]["lotsize"] = "5"
    run = refresh.refresh_instruments(broker="angelone", source=write_json(tmp_path, rows, "b"))
    assert len(parses) == 2 and run.changed == 1
    assert Instrument.objects.get(token="10000").lot_size == 5


def test_a_hand_deleted_row_is_restored_by_the_same_file(db, tmp_path, parses):
    source = write_json(tmp_path, smart_rows())
    refresh.refresh_instruments(broker="angelone", source=source)
    Instrument.objects.filter(token="10000").delete()
    run = refresh.refresh_instruments(broker="angelone", source=source)
    assert len(parses) == 2 and run.added == 1
    assert Instrument.objects.filter(token="10000").exists()


def test_the_same_file_for_other_exchanges_is_a_full_refresh(db, tmp_path, parses):
    source = write_json(tmp_path, smart_rows())
    refresh.refresh_instruments(broker="angelone", source=source, exchanges=["NSE"])
    refresh.refresh_instruments(broker="angelone", source=source)
    assert len(parses) == 2


def test_a_failed_run_is_never_the_reference(db, tmp_path, parses):
    source = write_json(tmp_path, smart_rows())
    refresh.refresh_instruments(broker="angelone", source=source)
    InstrumentRefresh.objects.update(status=InstrumentRefresh.Status.FAILED)
    refresh.refresh_instruments(broker="angelone", source=source)
    assert len(parses) == 2


def test_a_download_is_hashed_too(db, emulator, parses):
    first = refresh.refresh_instruments(broker="angelone")
    again = refresh.refresh_instruments(broker="angelone")
    assert len(parses) == 1 and again.rows == first.rows > 2000
