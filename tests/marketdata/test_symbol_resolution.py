"""Every input form resolves through one service, per broker, never across brokers."""

from decimal import Decimal

import pytest

from brokers.base import InstrumentRow
from marketdata import refresh, resolution
from marketdata.models import SymbolAlias
from marketdata.resolution import SymbolNotFound, resolve


def eq(symbol, token, exchange="NSE", canonical=None, series="EQ", kind="EQ"):
    return InstrumentRow(
        exchange=exchange,
        trading_symbol=symbol,
        token=token,
        name=symbol,
        instrument_type=kind,
        canonical_symbol=canonical or symbol,
        series=series,
        tick_size=Decimal("0.05"),
    )


ZERODHA = [
    eq("SBIN", "779521"),
    eq("BAJAJ-AUTO", "4267265"),
    eq("M&M", "519937"),
    eq("CENTRALBK-BE", "3813889", canonical="CENTRALBK", series="BE"),
    eq("NIFTY 50", "256265", kind="INDEX", series=""),
    eq("NIFTY BANK", "260105", kind="INDEX", series=""),
    eq("SBIN", "128028676", exchange="BSE"),
]
ANGELONE = [
    eq("SBIN-EQ", "3045", canonical="SBIN"),
    eq("SBIN-BE", "9045", canonical="SBIN", series="BE"),
    eq("BAJAJ-AUTO-EQ", "16669", canonical="BAJAJ-AUTO"),
    eq("M&M-EQ", "2031", canonical="M&M"),
    eq("Nifty 50", "99926000", canonical="NIFTY 50", kind="INDEX", series=""),
    eq("Nifty Bank", "99926009", canonical="NIFTY BANK", kind="INDEX", series=""),
]


@pytest.fixture
def masters(db):
    resolution.forget()
    for broker, rows in (("zerodha", ZERODHA), ("angelone", ANGELONE)):
        refresh.apply_master(broker=broker, rows=rows)
        resolution.bump_version(broker)
    yield
    resolution.forget()


@pytest.mark.parametrize(
    ("broker", "symbol", "exchange", "token"),
    [
        ("zerodha", "NSE:SBIN", None, "779521"),
        ("angelone", "NSE:SBIN", None, "3045"),  # canonical name, EQ series preferred
        ("zerodha", "SBIN", "NSE", "779521"),
        ("zerodha", "SBIN", "BSE", "128028676"),
        ("zerodha", "sbin", None, "779521"),  # case and NSE-first default
        ("angelone", "SBIN-EQ", None, "3045"),  # the broker's own trading symbol
        ("angelone", "NSE:SBIN-BE", None, "9045"),
        ("zerodha", "SBIN-EQ", "NSE", "779521"),  # another broker's spelling, same stock
        ("zerodha", "NSE:BAJAJ_AUTO", None, "4267265"),  # TradingView spellings
        ("angelone", "NSE:BAJAJ_AUTO", None, "16669"),
        ("zerodha", "NSE:M_M", None, "519937"),
        ("angelone", "M_M", "NSE", "2031"),
        ("zerodha", "NIFTY 50", None, "256265"),
        ("angelone", "nifty 50", None, "99926000"),
        ("angelone", "NSE:NIFTY", None, "99926000"),  # built-in alias
        ("zerodha", "NSE:BANKNIFTY", None, "260105"),
        ("zerodha", "CENTRALBK", None, "3813889"),
        ("zerodha", "  NSE : SBIN ", None, "779521"),
    ],
)
def test_resolution_table(masters, broker, symbol, exchange, token):
    found = resolve(broker=broker, symbol=symbol, exchange=exchange)
    assert found.broker == broker and found.token == token


def test_a_broker_specific_alias_applies_to_that_broker_only(masters):
    SymbolAlias.objects.create(broker="zerodha", exchange="NSE", source="STATEBANK", target="SBIN")
    resolution.forget()
    assert resolve(broker="zerodha", symbol="NSE:STATEBANK").token == "779521"
    with pytest.raises(SymbolNotFound):
        resolve(broker="angelone", symbol="NSE:STATEBANK")


def test_the_brokers_own_alias_beats_the_shared_one(masters):
    SymbolAlias.objects.create(broker="", exchange="NSE", source="BANK", target="NIFTY BANK")
    SymbolAlias.objects.create(broker="zerodha", exchange="NSE", source="BANK", target="SBIN")
    resolution.forget()
    assert resolve(broker="zerodha", symbol="NSE:BANK").token == "779521"
    assert resolve(broker="angelone", symbol="NSE:BANK").token == "99926009"


def test_missing_symbol_says_what_was_tried_and_never_uses_another_broker(masters):
    with pytest.raises(SymbolNotFound) as failure:
        resolve(broker="angelone", symbol="NSE:CENTRALBK")  # only Zerodha has it
    message = failure.value.message
    assert message.startswith("CENTRALBK is not in the AngelOne NSE instruments")
    assert "refresh instruments or add an alias" in message


def test_an_exchange_conflict_is_an_error(masters):
    with pytest.raises(SymbolNotFound, match="names NSE, but exchange BSE was asked for"):
        resolve(broker="zerodha", symbol="NSE:SBIN", exchange="BSE")


def test_a_broker_without_a_master_says_to_refresh(db):
    resolution.forget()
    with pytest.raises(SymbolNotFound, match="No AngelOne instruments are loaded yet"):
        resolve(broker="angelone", symbol="SBIN")


def test_blank_input_is_an_error(masters):
    with pytest.raises(SymbolNotFound, match="No symbol given"):
        resolve(broker="zerodha", symbol="  ")


def test_cache_is_dropped_by_a_refresh(masters, django_assert_num_queries):
    resolve(broker="zerodha", symbol="SBIN", exchange="NSE")
    with django_assert_num_queries(0):
        assert resolve(broker="zerodha", symbol="SBIN", exchange="NSE").token == "779521"
    moved = [
        eq("SBIN", "111") if r.trading_symbol == "SBIN" and r.exchange == "NSE" else r
        for r in ZERODHA
    ]
    refresh.apply_master(broker="zerodha", rows=moved)
    resolution.bump_version(broker="zerodha")
    assert resolve(broker="zerodha", symbol="SBIN", exchange="NSE").token == "111"


def test_another_process_refresh_is_noticed_through_the_version(masters, settings):
    from django.core.cache import cache

    settings.RESOLUTION_VERSION_CHECK_SECONDS = 0
    assert resolve(broker="zerodha", symbol="NSE:SBIN").token == "779521"
    moved = [
        eq("SBIN", "222") if r.trading_symbol == "SBIN" and r.exchange == "NSE" else r
        for r in ZERODHA
    ]
    refresh.apply_master(broker="zerodha", rows=moved)
    cache.set(resolution.version_key("zerodha"), "from-another-process", None)  # no local forget()
    assert resolve(broker="zerodha", symbol="NSE:SBIN").token == "222"


def test_import_aliases_command(masters, tmp_path, capsys):
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "aliases.json"
    path.write_text(json.dumps({"*": {"NSE": {"SBI": "SBIN"}}, "angelone": {"NSE": {"MM": "M&M"}}}))
    call_command("import_symbol_aliases", str(path))
    assert "2 created" in capsys.readouterr().out
    assert resolve(broker="zerodha", symbol="NSE:SBI").token == "779521"
    assert resolve(broker="angelone", symbol="NSE:MM").token == "2031"
    path.write_text(json.dumps({"nosuchbroker": {"NSE": {"A": "B"}}}))
    with pytest.raises(CommandError, match="unknown broker 'nosuchbroker'"):
        call_command("import_symbol_aliases", str(path))
