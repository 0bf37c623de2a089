"""The refresh as a diff of raw records: what is mapped, what is written, and
that the write transaction holds nothing but the apply step."""

import json
import threading

import pytest
from django.db import connection

from brokers import angelone
from brokers.angelone import adapter as angelone_adapter
from brokers.angelone import master as angelone_master
from marketdata import refresh, resolution
from marketdata.models import Instrument, SymbolAlias
from marketdata.resolution import SymbolNotFound, resolve
from tests.marketdata.test_instruments_refresh import SMART_ROW, smart_rows, write_json

KITE_HEADER = (
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
    "tick_size,lot_size,instrument_type,segment,exchange"
)
KITE_LINES = [
    "738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE",
    '779521,3045,SBIN,"STATE BANK, OF INDIA",0,,0,0.05,1,EQ,NSE,NSE',
    "256265,0,NIFTY 50,NIFTY 50,0,,0,0,1,EQ,INDICES,NSE",
    "12345,48,NIFTY26DEC24500CE,NIFTY,0,2026-12-24,24500,0.05,75,CE,NFO-OPT,NFO",
]


@pytest.fixture
def mapped(monkeypatch):
    """Counts the AngelOne records that get mapped (the mapping itself runs)."""
    calls = []
    real = angelone_master.smartapi_record

    def counting(number, item, source):
        calls.append(item["token"])
        return real(number, item, source)

    monkeypatch.setattr(angelone_adapter, "smartapi_record", counting)  # where it is called
    return calls


def refresh_json(tmp_path, rows, name="m.json", **kwargs):
    return refresh.refresh_instruments(
        broker="angelone", source=write_json(tmp_path, rows, name), **kwargs
    )


def test_unchanged_records_are_never_mapped_and_changes_are_exact(db, tmp_path, mapped):
    first = refresh_json(tmp_path, smart_rows())
    assert len(mapped) == first.rows == first.added == 33
    pks = dict(Instrument.objects.values_list("token", "pk"))
    mapped.clear()
    again = refresh_json(tmp_path, smart_rows(), "again.json")
    assert mapped == [] and (again.rows, again.added, again.changed, again.removed) == (33, 0, 0, 0)

    rows = smart_rows()
    rows[3]["lotsize"] = "7"  # changed
    rows[5]["name"] = "RENAMED"  # changed
    del rows[8]  # removed
    rows.append(dict(SMART_ROW, token="77777", symbol="NEWCO-EQ", name="NEWCO"))  # added
    third = refresh_json(tmp_path, rows, "third.json")
    assert sorted(mapped) == ["10003", "10005", "77777"]
    assert (third.rows, third.added, third.changed, third.removed) == (33, 1, 2, 1)
    now = {i.token: i for i in Instrument.objects.filter(broker="angelone")}
    assert now["10003"].lot_size == 7 and now["10003"].pk == pks["10003"]
    assert now["10005"].name == "RENAMED" and now["10005"].pk == pks["10005"]
    assert "10008" not in now and now["77777"].canonical_symbol == "NEWCO"
    assert now["10004"].pk == pks["10004"]


def test_a_new_mapping_version_remaps_every_row_once(db, tmp_path, mapped, monkeypatch):
    refresh_json(tmp_path, smart_rows())
    pks = set(Instrument.objects.values_list("pk", flat=True))
    monkeypatch.setattr(angelone.AngelOneAdapter, "MASTER_VERSION", "test-2")
    mapped.clear()
    run = refresh_json(tmp_path, smart_rows(), "v2.json")
    assert len(mapped) == 33 and (run.added, run.changed, run.removed) == (0, 33, 0)
    assert set(Instrument.objects.values_list("pk", flat=True)) == pks
    mapped.clear()
    refresh_json(tmp_path, smart_rows(), "v2-again.json")
    assert mapped == []


def test_a_symbol_listed_twice_keeps_its_first_row_even_when_that_row_is_unchanged(db, tmp_path):
    refresh_json(tmp_path, smart_rows())
    rows = smart_rows()
    rows.append(dict(rows[0], token="55555", lotsize="9"))  # same symbol, other record
    run = refresh_json(tmp_path, rows, "dup.json")
    assert (run.rows, run.skipped, run.added, run.changed, run.removed) == (33, 1, 0, 0, 0)
    kept = Instrument.objects.get(broker="angelone", trading_symbol=rows[0]["symbol"])
    assert kept.token == "10000" and kept.lot_size == 1


def test_a_hand_made_row_hash_is_replaced(db, tmp_path):
    refresh_json(tmp_path, smart_rows())
    Instrument.objects.filter(token="10001").update(row_hash="x", lot_size=99)
    # Another file (one row more): the very same bytes would be skipped whole,
    # and the admin cannot change an instrument, so only SQL by hand could do this.
    rows = smart_rows() + [dict(SMART_ROW, token="77777", symbol="NEWCO-EQ", name="NEWCO")]
    run = refresh_json(tmp_path, rows, "again.json")
    assert (run.changed, run.added, run.removed) == (1, 1, 0)
    assert Instrument.objects.get(token="10001").lot_size == 1


def test_resolution_and_aliases_follow_a_refresh(db, tmp_path):
    refresh_json(tmp_path, smart_rows())
    SymbolAlias.objects.create(broker="", exchange="NSE", source="EMUX", target="EMU002")
    resolution.forget()
    assert resolve(broker="angelone", symbol="NSE:EMU001").token == "10001"
    assert resolve(broker="angelone", symbol="NSE:EMUX").token == "10002"
    rows = smart_rows()
    rows[2]["token"] = "20002"  # the alias target gets a new token
    del rows[1]  # EMU001 leaves the master
    refresh_json(tmp_path, rows, "moved.json")
    assert resolve(broker="angelone", symbol="NSE:EMUX").token == "20002"
    with pytest.raises(SymbolNotFound):
        resolve(broker="angelone", symbol="NSE:EMU001")


def test_kite_csv_lines_are_diffed_too(db, tmp_path):
    path = tmp_path / "kite.csv"
    path.write_bytes(("\ufeff" + "\n".join([KITE_HEADER, *KITE_LINES]) + "\n").encode())
    first = refresh.refresh_instruments(broker="zerodha", source=str(path))
    assert (first.rows, first.added) == (4, 4)
    sbin = Instrument.objects.get(broker="zerodha", trading_symbol="SBIN")
    assert sbin.name == "STATE BANK, OF INDIA"
    assert Instrument.objects.get(trading_symbol="NIFTY 50").instrument_type == "INDEX"
    option = Instrument.objects.get(trading_symbol="NIFTY26DEC24500CE")
    assert option.strike == 24500 and str(option.expiry) == "2026-12-24"
    again = refresh.refresh_instruments(broker="zerodha", source=str(path))
    assert (again.rows, again.added, again.changed, again.removed) == (4, 0, 0, 0)
    lines = [KITE_LINES[0].replace(",1,EQ,NSE,NSE", ",5,EQ,NSE,NSE"), *KITE_LINES[2:]]
    lines.append('500,1,NEWCO,"NEW\nCO LTD",0,,0,0.05,1,EQ,NSE,NSE')  # a quoted line break
    path.write_text("\r\n".join([KITE_HEADER, *lines]) + "\r\n")
    third = refresh.refresh_instruments(broker="zerodha", source=str(path))
    assert (third.rows, third.added, third.changed, third.removed) == (4, 1, 1, 1)
    assert Instrument.objects.get(trading_symbol="RELIANCE").lot_size == 5
    assert Instrument.objects.get(trading_symbol="NEWCO").name == "NEW\nCO LTD"
    assert not Instrument.objects.filter(broker="zerodha", trading_symbol="SBIN").exists()


def test_a_json_master_that_is_not_flat_is_read_all_the_same(db, tmp_path):
    rows = smart_rows()
    rows[4]["name"] = 'BRACE {X}, "Q"'  # a brace inside a string
    rows[9]["extra"] = {"nested": [1, 2]}  # an object inside an object
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(rows, indent=1))
    run = refresh.refresh_instruments(broker="angelone", source=str(path))
    assert run.rows == 33
    assert Instrument.objects.get(token="10004").name == 'BRACE {X}, "Q"'
    again = refresh.refresh_instruments(broker="angelone", source=str(path))
    assert (again.added, again.changed, again.removed) == (0, 0, 0)


def test_an_empty_array_is_refused_as_truncated(db, tmp_path):
    refresh_json(tmp_path, smart_rows())
    with pytest.raises(refresh.RefreshFailed, match="looks truncated"):
        refresh_json(tmp_path, [], "empty.json")
    assert Instrument.objects.count() == 33


def test_the_write_transaction_holds_only_the_apply_step(transactional_db, tmp_path):
    """SQLite has one writer: everything slow (reading the file, mapping, staging)
    runs before the transaction; inside it, a handful of set-based statements."""
    refresh_json(tmp_path, smart_rows(300))
    rows = smart_rows(300)
    for row in rows[:50]:
        row["lotsize"] = "3"
    del rows[60:80]
    rows += [dict(SMART_ROW, token=str(70000 + i), symbol=f"NEW{i}-EQ") for i in range(30)]
    source = write_json(tmp_path, rows, "churn.json")
    table = Instrument._meta.db_table
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append((sql, many, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        run = refresh.refresh_instruments(broker="angelone", source=source)
    assert (run.added, run.changed, run.removed) == (30, 50, 20)
    writes = [
        s for s in statements if s[0].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    master_writes = [s for s in writes if f" {table} " in f" {s[0]} " or f'"{table}"' in s[0]]
    assert master_writes and all(in_atomic for _, _, in_atomic in master_writes)
    inside = [s for s in statements if s[2]]
    assert not any(many for _, many, _ in inside), "no row-by-row writes under the lock"
    assert not any(sql.startswith(f"INSERT INTO {refresh.STAGE}") for sql, _, _ in inside)
    assert len(inside) <= 8, inside  # update, delete (+ its set-null), insert
    staged = [s for s in writes if s[0].startswith(f"INSERT INTO {refresh.STAGE}")]
    if connection.vendor == "sqlite":  # PostgreSQL stages with COPY, not INSERT statements
        assert staged and not any(in_atomic for _, _, in_atomic in staged)


def test_readers_see_old_or_new_through_adds_removals_and_changes(transactional_db, tmp_path):
    refresh_json(tmp_path, smart_rows(2000))
    rows = [dict(r, lotsize="2") if r["exch_seg"] == "NSE" else r for r in smart_rows(2000)]
    del rows[100:400]
    rows += [dict(SMART_ROW, token=str(80000 + i), symbol=f"ADD{i}-EQ") for i in range(500)]
    source = write_json(tmp_path, rows, "r.json")
    old = (2003, 0)
    new = (len(rows), sum(1 for r in rows if r["exch_seg"] == "NSE" and r["lotsize"] == "2"))
    seen, stop = set(), threading.Event()

    def reader():
        from django.db import connections

        try:
            while not stop.is_set():
                with connections["default"].cursor() as cursor:  # one snapshot per read
                    cursor.execute(
                        f"SELECT COUNT(*), SUM(CASE WHEN lot_size = 2 THEN 1 ELSE 0 END) "  # noqa: S608
                        f"FROM {Instrument._meta.db_table} WHERE broker = 'angelone'"
                    )
                    total, doubled = cursor.fetchone()
                seen.add((total, doubled or 0))
        finally:
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        refresh.refresh_instruments(broker="angelone", source=source)
    finally:
        stop.set()
        thread.join()
    assert seen <= {old, new}, seen
    assert old in seen


@pytest.mark.parametrize("chunk", [7, 64, 301, 1 << 20])
@pytest.mark.parametrize("odd", ["flat", "brace", "bracket", "nested"])
def test_json_records_read_the_same_at_any_chunk_boundary(monkeypatch, chunk, odd):
    import io

    from brokers import records

    monkeypatch.setattr(records, "CHUNK_BYTES", chunk)
    rows = smart_rows(12)
    if odd == "brace":
        rows[6]["name"] = "A}B{C"
    elif odd == "bracket":
        rows[9]["name"] = "X [Y]"
    elif odd == "nested":
        rows[3]["more"] = {"a": [1, {"b": 2}]}
    text = json.dumps(rows, indent=1 if chunk == 7 else None)
    parsed = list(angelone.AngelOneAdapter.parse_instrument_master(io.BytesIO(text.encode())))
    expected = [angelone_master.smartapi_record(n, r, "x") for n, r in enumerate(rows, start=1)]
    assert parsed == expected
    with pytest.raises(Exception, match="not valid JSON"):
        list(angelone.AngelOneAdapter.parse_instrument_master(io.BytesIO(text[:-40].encode())))


def test_statistics_on_a_busy_database_never_fail_a_committed_refresh(transactional_db, tmp_path):
    """ANALYZE needs the write lock; SQLite may answer "database is locked" at once."""
    from django.db import OperationalError

    def busy(execute, sql, params, many, context):
        if sql.startswith(("PRAGMA optimize", "ANALYZE marketdata")):
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(busy):
        run = refresh_json(tmp_path, smart_rows())
    assert run.status == "succeeded" and Instrument.objects.count() == run.rows == 33
