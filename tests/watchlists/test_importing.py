"""Reading TradingView and CSV lists, and what each row means at one broker."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from watchlists import importing
from watchlists.importing import ImportRefused
from watchlists.models import Member, Watchlist


def test_tradingview_sections_commas_newlines_bom_and_blank_lines():
    text = "\ufeff###Banks,NSE:SBIN, nse:hdfcbank\n\n\n###Autos\nNSE:BAJAJ_AUTO\r\nM_M,,\n"
    rows = importing.parse_tradingview(text)
    assert [(r.exchange, r.symbol, r.section) for r in rows] == [
        ("NSE", "SBIN", "Banks"),
        ("NSE", "HDFCBANK", "Banks"),
        ("NSE", "BAJAJ_AUTO", "Autos"),
        ("", "M_M", "Autos"),
    ]
    assert [r.line for r in rows] == [1, 1, 5, 6]


def test_rubbish_is_a_row_problem_not_a_crash():
    rows = importing.parse_tradingview("NSE:<script>,NSE:,:SBIN,N5E:SBIN")
    assert [bool(r.problem) for r in rows] == [True, True, False, True]


def test_size_limit_is_stated():
    with pytest.raises(ImportRefused, match=r"The file is 5\.0 MB; the limit is 1 MB"):
        importing.decode(b"NSE:SBIN," * (5 * 1024 * 1024 // 9 + 1))


def test_latin1_and_nul_bytes_decode():
    assert importing.decode(b"NSE:SBIN\x00,\xe9") == "NSE:SBIN,é"


def test_csv_guessed_mapping_and_values():
    text = '\ufeffTicker,Exch,Weight %,Qty,Notes\nSBIN,NSE,25%,10,core\nINFY,,"1,000",x,\n\n'
    header, sample = importing.csv_header(text)
    mapping = importing.guess_mapping(header)
    assert mapping == {"symbol": "Ticker", "exchange": "Exch", "quantity": "Qty", "note": "Notes"}
    mapping["weight"] = "Weight %"
    rows = importing.parse_csv(text, mapping)
    assert (rows[0].symbol, rows[0].exchange, rows[0].weight, rows[0].quantity, rows[0].note) == (
        "SBIN",
        "NSE",
        Decimal("25"),
        10,
        "core",
    )
    assert rows[1].weight == Decimal("1000") and rows[1].problem == "Quantity 'x' is not a number."
    with pytest.raises(ImportRefused, match="No column named 'Nope'"):
        importing.parse_csv(text, {"symbol": "Nope"})
    with pytest.raises(ImportRefused, match="Choose the column"):
        importing.parse_csv(text, {})


def test_format_detection():
    assert importing.looks_like_csv("symbol,exchange\nSBIN,NSE")
    assert not importing.looks_like_csv("NSE:SBIN,NSE:INFY")
    assert not importing.looks_like_csv("###Symbol,NSE:SBIN")


def statuses(items):
    return [(i.row.raw, i.status, i.exchange, i.symbol, i.broker_symbol) for i in items]


def test_preview_per_broker(masters):
    text = "NSE:SBIN,NSE:BAJAJ_AUTO,NSE:M_M,NSE:SBIN,BSE:BSEONLY,NSE:NOSUCH,SBIN,NSE:@@"
    rows = importing.parse_tradingview(text)
    smart = statuses(importing.preview(rows, broker="angelone"))
    assert smart == [
        ("NSE:SBIN", "resolved", "NSE", "SBIN", "SBIN-EQ"),
        ("NSE:BAJAJ_AUTO", "resolved", "NSE", "BAJAJ-AUTO", "BAJAJ-AUTO-EQ"),
        ("NSE:M_M", "resolved", "NSE", "M&M", "M&M-EQ"),
        ("NSE:SBIN", "duplicate", "NSE", "SBIN", ""),
        ("BSE:BSEONLY", "unavailable", "BSE", "BSEONLY", ""),  # listed at another broker
        ("NSE:NOSUCH", "unknown", "NSE", "NOSUCH", ""),
        ("SBIN", "duplicate", "NSE", "SBIN", ""),  # only NSE at this broker: not ambiguous
        ("NSE:@@", "invalid", "", "", ""),
    ]
    kite = importing.preview(rows, broker="zerodha")
    assert importing.counts(kite)["imported"] == 4  # BSEONLY is at this broker
    assert kite[6].status == "duplicate"  # NSE:SBIN, as NSE is the first pick
    bare = importing.preview(importing.parse_tradingview("SBIN"), broker="zerodha")[0]
    assert (bare.status, bare.choices) == ("ambiguous", ["NSE", "BSE"])  # SBIN on both
    assert bare.message == "Listed on NSE and BSE: pick one."
    picked = importing.preview(rows, broker="zerodha", picks={6: "BSE"})[6]
    assert (picked.status, picked.exchange, picked.broker_symbol) == ("resolved", "BSE", "SBIN")


def test_export_round_trips_in_tradingview_spelling(masters, user):
    watchlist = Watchlist.objects.create(user=user, name="X")
    for n, (exchange, symbol, section) in enumerate(
        [("NSE", "BAJAJ-AUTO", "Autos"), ("NSE", "M&M", "Autos"), ("NSE", "SBIN", "Banks")]
    ):
        Member.objects.create(
            watchlist=watchlist, exchange=exchange, symbol=symbol, section=section, position=n
        )
    members = list(watchlist.members.all())
    text = importing.export_tradingview(members)
    assert text == "###Autos,NSE:BAJAJ_AUTO,NSE:M_M,###Banks,NSE:SBIN\n"
    back = importing.preview(importing.parse_tradingview(text), broker="zerodha")
    assert [(i.exchange, i.symbol, i.row.section) for i in back] == [
        (m.exchange, m.symbol, m.section) for m in members
    ]
    csv_text = importing.export_csv(members)
    header, _ = importing.csv_header(csv_text)
    rows = importing.parse_csv(csv_text, importing.guess_mapping(header))
    assert [(r.exchange, r.symbol, r.section) for r in rows] == [
        (m.exchange, m.symbol, m.section) for m in members
    ]


# --- The page: read → preview → confirm -------------------------------------------------


@pytest.fixture
def smart(masters, user, make_account):
    return make_account(user, "angelone")


def post(client, **data):
    return client.post(reverse("watchlists:import"), data)


def test_preview_saves_nothing_and_confirm_saves_the_accepted_rows(signed_in, user, smart):
    data = dict(
        text="###Banks\nNSE:SBIN\nBSE:BSEONLY\nNSE:NOSUCH\nNSE:SBIN\n",
        format="auto",
        account=smart.pk,
        into=0,
        name="Imported",
        kind="WATCHLIST",
    )
    response = post(signed_in, step="read", **data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 to import: 1 resolved, 1 not available at" in html
    assert "Skipped: 1 unknown and 1 duplicate." in html
    assert not Watchlist.objects.filter(user=user).exists()  # nothing before the confirm
    response = post(signed_in, step="confirm", **data)
    watchlist = Watchlist.objects.get(user=user, name="Imported")
    assert response.status_code == 302
    assert response.url == f"/watchlists/{watchlist.pk}/?account={smart.pk}"
    assert [(m.label, m.section) for m in watchlist.members.all()] == [
        ("NSE:SBIN", "Banks"),
        ("BSE:BSEONLY", "Banks"),
    ]
    # Again into the same list: the preview names it and marks what it already holds.
    data.update(into=watchlist.pk, text="NSE:INFY,NSE:SBIN,BSE:BSEONLY")
    html = post(signed_in, step="read", **data).content.decode()
    assert "1 to import into Imported: 1 resolved." in html
    assert "2 already in Imported (left as they are)." in html
    assert html.count(">already in Imported</span>") == 2
    assert 'data-testid="target-list">Imported<' in html
    response = post(signed_in, step="confirm", **data)
    assert response.status_code == 302
    assert [m.label for m in watchlist.members.all()] == ["NSE:SBIN", "BSE:BSEONLY", "NSE:INFY"]


def test_csv_upload_maps_columns_then_imports_a_basket(signed_in, user, smart):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("b.csv", b"\xef\xbb\xbfcode,w\nSBIN,60\nINFY,40\n")
    # No header says "symbol": read as CSV only when asked to.
    data = dict(format="csv", account=smart.pk, into=0, name="Core", kind="BASKET")
    response = signed_in.post(
        reverse("watchlists:import"), {**data, "file": upload, "step": "read"}
    )
    html = response.content.decode()
    assert response.status_code == 422 and "Choose the column that holds the symbol." in html
    text = "code,w\nSBIN,60\nINFY,40\n"
    response = post(signed_in, step="preview", text=text, map_symbol="code", map_weight="w", **data)
    assert "2 to import: 2 resolved" in response.content.decode()
    post(signed_in, step="confirm", text=text, map_symbol="code", map_weight="w", **data)
    basket = Watchlist.objects.get(user=user, name="Core")
    assert basket.kind == "BASKET"
    assert [(m.symbol, m.weight) for m in basket.members.all()] == [
        ("SBIN", Decimal("60")),
        ("INFY", Decimal("40")),
    ]


def test_import_refusals_are_422_with_a_reason(signed_in, user, smart, other_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    base = dict(format="auto", account=smart.pk, into=0, kind="WATCHLIST", step="read")
    big = SimpleUploadedFile("big.txt", b"NSE:SBIN," * (600_000))
    response = signed_in.post(reverse("watchlists:import"), {**base, "name": "x", "file": big})
    assert response.status_code == 422
    assert "the limit is 1 MB" in response.content.decode()
    response = post(signed_in, **base, name="", text="NSE:SBIN")
    assert response.status_code == 422 and "Name the new list" in response.content.decode()
    response = post(signed_in, **base, name="x", text="  ")
    assert (
        response.status_code == 422
        and "Paste a list or choose a file." in response.content.decode()
    )
    response = post(signed_in, **{**base, "step": "confirm"}, name="x", text="NSE:NOSUCH")
    assert response.status_code == 422 and "Nothing to import" in response.content.decode()
    theirs = Watchlist.objects.create(user=other_user, name="Theirs")
    response = post(signed_in, **{**base, "into": theirs.pk}, name="", text="NSE:SBIN")
    assert response.status_code == 422  # not one of my lists: not a choice
    assert not theirs.members.exists()
    assert not Watchlist.objects.filter(user=user).exists()


def test_a_thousand_rows_import_in_file_order(signed_in, user, smart):
    from marketdata.models import Instrument

    Instrument.objects.bulk_create(
        Instrument(
            broker="angelone",
            exchange="NSE",
            trading_symbol=f"S{n}-EQ",
            canonical_symbol=f"S{n}",
            token=str(100000 + n),
            instrument_type="EQ",
            series="EQ",
            tick_size="0.05",
            row_hash="x",
        )
        for n in range(1000)
    )
    text = ",".join(f"NSE:S{n}" for n in range(1000))
    data = dict(format="auto", account=smart.pk, into=0, name="Big", kind="WATCHLIST", text=text)
    post(signed_in, step="confirm", **data)
    watchlist = Watchlist.objects.get(user=user, name="Big")
    assert watchlist.members.count() == 1000
    assert list(watchlist.members.values_list("position", flat=True)) == list(range(1000))


def test_management_command(masters, user, make_account, tmp_path):
    make_account(user, "zerodha")
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbf###Autos\nNSE:BAJAJ_AUTO,NSE:NOSUCH\n")
    call_command("import_watchlist", user="alice", file=str(path), name="Cmd")
    watchlist = Watchlist.objects.get(user=user, name="Cmd")
    assert [(m.label, m.section) for m in watchlist.members.all()] == [("NSE:BAJAJ-AUTO", "Autos")]
    with pytest.raises(CommandError, match="already have a list named Cmd"):
        call_command("import_watchlist", user="alice", file=str(path), name="Cmd")
    with pytest.raises(CommandError, match="No user"):
        call_command("import_watchlist", user="nobody", file=str(path), name="Cmd")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_watchlist", user="alice", file=str(tmp_path / "none"), name="Z")


def test_an_ambiguous_row_is_imported_at_the_picked_exchange(
    signed_in, user, masters, make_account
):
    kite = make_account(user, "zerodha")
    data = dict(
        format="auto", account=kite.pk, into=0, name="Picked", kind="WATCHLIST", text="SBIN"
    )
    html = post(signed_in, step="read", **data).content.decode()
    assert 'name="pick_0"' in html and "Listed on NSE and BSE: pick one." in html
    post(signed_in, step="confirm", pick_0="BSE", **data)
    watchlist = Watchlist.objects.get(user=user, name="Picked")
    assert [m.label for m in watchlist.members.all()] == ["BSE:SBIN"]


def test_a_big_file_is_refused_even_when_the_name_is_missing(signed_in, user, smart):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.txt", b"NSE:SBIN\n" * (5 * 1024 * 1024 // 9))
    response = post(
        signed_in,
        step="read",
        format="auto",
        account=smart.pk,
        into=0,
        name="",
        kind="WATCHLIST",
        file=upload,
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Name the new list" in html
    assert "the limit is 1 MB" in html
    assert not Watchlist.objects.filter(user=user).exists()


def test_a_negative_weight_or_quantity_says_zero_or_more_not_a_number():
    text = "symbol,weight,amount,quantity\nSBIN,-5,10,1\nINFY,5,-1,2\nTCS,1,1,-3\nHDFC,1,1,2.5\n"
    mapping = {"symbol": "symbol", "weight": "weight", "amount": "amount", "quantity": "quantity"}
    problems = [r.problem for r in importing.parse_csv(text, mapping)]
    assert problems == [
        "Weight '-5' must be zero or more.",
        "Amount '-1' must be zero or more.",
        "Quantity '-3' must be zero or more.",
        "Quantity '2.5' is not a whole number.",
    ]


def test_a_pasted_list_over_the_limit_is_called_a_pasted_list():
    with pytest.raises(ImportRefused, match=r"^The pasted list is 1\.0 MB; the limit is 1 MB"):
        importing.check_size("NSE:SBIN," * (1024 * 1024 // 9 + 1))


def test_skipped_rows_are_said_in_plain_english():
    counts = {s: 0 for s in ("unknown", "duplicate", "invalid")}
    assert importing.skipped_text(counts) == ""
    assert importing.skipped_text({**counts, "unknown": 1, "duplicate": 1}) == (
        "1 unknown and 1 duplicate"
    )
    assert importing.skipped_text({"unknown": 2, "duplicate": 3, "invalid": 1}) == (
        "2 unknown, 3 duplicates and 1 unreadable"
    )


def test_not_available_when_the_own_loaded_list_lacks_it_and_no_other_knows_it(masters):
    from marketdata import resolution
    from marketdata.models import Instrument

    Instrument.objects.filter(broker="zerodha").delete()  # only AngelOne's list is loaded
    resolution.bump_version("zerodha")
    rows = importing.parse_tradingview("NSE:SBIN,BSE:BSEONLY")
    items = importing.preview(rows, broker="angelone")
    assert [i.status for i in items] == ["resolved", "unknown"]
    assert items[1].message.startswith("Not available at this broker: ")
    assert "not imported" in items[1].message


def test_never_not_available_while_the_own_list_is_loading(masters):
    from django.core.cache import cache

    from marketdata import readiness, resolution
    from marketdata.models import Instrument

    rows = importing.parse_tradingview("NSE:SBIN,BSE:BSEONLY")  # BSEONLY: at Zerodha only
    readiness.started("angelone")  # a refresh of AngelOne's list under way
    try:
        items = importing.preview(rows, broker="angelone")
    finally:
        cache.delete(readiness._progress_key("angelone"))
    assert items[0].status == "resolved"
    assert items[1].status == "unknown" and "still loading" in items[1].message
    assert "Not available" not in items[1].message
    # Its list not loaded at all: the same (never "not available" from another's list).
    Instrument.objects.filter(broker="angelone").delete()
    resolution.bump_version("angelone")
    items = importing.preview(rows, broker="angelone")
    assert [i.status for i in items] == ["unknown", "unknown"]
    assert all(i.message.startswith("Not checked: ") for i in items)


def test_a_pasted_list_and_a_file_together_are_refused_not_one_dropped(signed_in, user, smart):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("list.txt", b"NSE:SBIN,NSE:INFY")
    data = dict(format="auto", account=smart.pk, into=0, name="Both", kind="WATCHLIST")
    response = signed_in.post(
        reverse("watchlists:import"), {**data, "file": upload, "text": "NSE:TCS", "step": "read"}
    )
    assert response.status_code == 422
    assert "Paste a list or upload a file, not both" in response.content.decode()
    assert not Watchlist.objects.filter(user=user, name="Both").exists()


def test_an_index_exports_under_tradingview_name_and_comes_back(masters, user):
    from marketdata.models import SymbolAlias

    # The shared aliases a migration installs: TradingView's NSE:NIFTY is NIFTY 50.
    assert SymbolAlias.objects.filter(source="NIFTY", target="NIFTY 50").exists()
    watchlist = Watchlist.objects.create(user=user, name="Indices")
    Member.objects.create(watchlist=watchlist, exchange="NSE", symbol="NIFTY 50", position=0)
    Member.objects.create(watchlist=watchlist, exchange="NSE", symbol="SBIN", position=1)
    text = importing.export_tradingview(watchlist.members.all())
    assert text == "NSE:NIFTY,NSE:SBIN\n"  # not "NSE:NIFTY 50", which TradingView cannot read
