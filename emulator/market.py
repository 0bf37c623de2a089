"""The emulator's instrument universe and prices that move."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

TICK = Decimal("0.05")

# (exchange-level symbol, company name, base price, Kite symbol if different)
NAMED_EQUITIES = [
    ("SBIN", "STATE BANK OF INDIA", "812.40"),
    ("INFY", "INFOSYS", "1502.15"),
    ("RELIANCE", "RELIANCE INDUSTRIES", "2890.50"),
    ("TCS", "TATA CONSULTANCY SERV LT", "3987.00"),
    ("HDFCBANK", "HDFC BANK", "1611.75"),
    ("ICICIBANK", "ICICI BANK.", "1104.30"),
    ("ITC", "ITC", "438.65"),
    ("BAJAJ-AUTO", "BAJAJ AUTO", "9120.00"),
    ("M&M", "MAHINDRA & MAHINDRA", "2760.20"),
    ("TATAMOTORS", "TATA MOTORS", "980.55"),
    ("LT", "LARSEN & TOUBRO.", "3540.10"),
    ("AXISBANK", "AXIS BANK", "1150.25"),
    ("WIPRO", "WIPRO", "512.80"),
    ("ONGC", "OIL AND NATURAL GAS CORP.", "270.35"),
    ("NTPC", "NTPC", "355.90"),
    ("IDEA", "VODAFONE IDEA", "14.25"),
]
INDICES = [("NIFTY 50", "Nifty 50", "24350.00"), ("NIFTY BANK", "Nifty Bank", "52100.00")]
SYNTHETIC_EQUITIES = 1200  # "a few thousand rows" once both exchanges and F&O are counted


def to_tick(value: Decimal) -> Decimal:
    return (value / TICK).quantize(Decimal(1), rounding=ROUND_HALF_UP) * TICK


@dataclass
class Instrument:
    exchange: str  # NSE, BSE, NFO
    symbol: str  # exchange-level symbol (SBIN, NIFTY24DEC24500CE)
    name: str
    kite_token: int
    smart_token: str
    instrument_type: str  # EQ, INDEX, FUT, CE, PE
    segment: str
    lot_size: int = 1
    tick_size: Decimal = TICK
    expiry: date | None = None
    strike: Decimal | None = None
    underlying: str = ""

    @property
    def smart_symbol(self) -> str:
        """AngelOne's trading symbol: NSE equities carry the series (SBIN-EQ)."""
        if self.exchange == "NSE" and self.instrument_type == "EQ":
            return f"{self.symbol}-EQ"
        if self.instrument_type == "INDEX":
            return self.name
        return self.symbol

    @property
    def key(self) -> tuple[str, str]:
        return (self.exchange, self.symbol)


def _monthly_expiries(today: date, count: int) -> list[date]:
    """Last Thursday of this and the next months."""
    expiries, year, month = [], today.year, today.month
    while len(expiries) < count:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        last = nxt - timedelta(days=1)
        last -= timedelta(days=(last.weekday() - 3) % 7)
        if last >= today:
            expiries.append(last)
        year, month = nxt.year, nxt.month
    return expiries


class Market:
    """Instruments by exchange and symbol, with prices that take a small random step
    every time they are read (seeded, so runs repeat)."""

    def __init__(self, *, seed: int = 7, today: date | None = None):
        self._rng = random.Random(seed)  # noqa: S311 (repeatable prices, not crypto)
        self._lock = threading.Lock()
        self.instruments: dict[tuple[str, str], Instrument] = {}
        self.by_kite_token: dict[int, Instrument] = {}
        self.by_smart_token: dict[tuple[str, str], Instrument] = {}
        self.prices: dict[tuple[str, str], Decimal] = {}
        self.closes: dict[tuple[str, str], Decimal] = {}
        self.frozen: set[tuple[str, str]] = set()
        self._build(today or date.today())

    def _add(self, inst: Instrument, price: Decimal) -> None:
        self.instruments[inst.key] = inst
        self.by_kite_token[inst.kite_token] = inst
        self.by_smart_token[(inst.exchange, inst.smart_token)] = inst
        self.prices[inst.key] = price
        self.closes[inst.key] = price

    def _build(self, today: date) -> None:
        token = 100_000
        equities = [(s, n, Decimal(p)) for s, n, p in NAMED_EQUITIES]
        for i in range(SYNTHETIC_EQUITIES):
            price = to_tick(Decimal(self._rng.randint(2000, 500000)) / 100)
            equities.append((f"EMU{i:04d}", f"EMULATED COMPANY {i:04d}", price))
        for exchange in ("NSE", "BSE"):
            for symbol, name, price in equities:
                token += 1
                self._add(
                    Instrument(exchange, symbol, name, token * 256 + 1, str(token), "EQ", exchange),
                    price,
                )
        for symbol, name, price in INDICES:
            token += 1
            self._add(
                Instrument("NSE", symbol, name, token * 256 + 9, str(token), "INDEX", "INDICES"),
                Decimal(price),
            )
        spot = Decimal(INDICES[0][2])
        for expiry in _monthly_expiries(today, 2):
            stamp = expiry.strftime("%y%b").upper()
            token += 1
            fut = f"NIFTY{stamp}FUT"
            self._add(
                Instrument(
                    "NFO",
                    fut,
                    "NIFTY",
                    token * 256 + 3,
                    str(token),
                    "FUT",
                    "NFO-FUT",
                    lot_size=75,
                    expiry=expiry,
                    underlying="NIFTY",
                ),
                spot + 50,
            )
            for step in range(-10, 11):
                strike = spot + 100 * step
                for kind in ("CE", "PE"):
                    token += 1
                    intrinsic = max(
                        Decimal(0), (spot - strike) if kind == "CE" else (strike - spot)
                    )
                    self._add(
                        Instrument(
                            "NFO",
                            f"NIFTY{stamp}{int(strike)}{kind}",
                            "NIFTY",
                            token * 256 + 3,
                            str(token),
                            kind,
                            "NFO-OPT",
                            lot_size=75,
                            expiry=expiry,
                            strike=strike,
                            underlying="NIFTY",
                        ),
                        to_tick(intrinsic + 40),
                    )

    def get(self, exchange: str, symbol: str) -> Instrument | None:
        return self.instruments.get((exchange, symbol))

    def by_smart_symbol(self, exchange: str, smart_symbol: str) -> Instrument | None:
        if exchange == "NSE" and smart_symbol.endswith("-EQ"):
            return self.get(exchange, smart_symbol[:-3])
        return self.get(exchange, smart_symbol)

    def last_price(self, inst: Instrument) -> Decimal:
        """Read a price; unless frozen, it takes a random step of up to 0.2 %."""
        with self._lock:
            price = self.prices[inst.key]
            if inst.key not in self.frozen:
                step = Decimal(self._rng.randint(-20, 20)) / 10000
                price = max(TICK, to_tick(price * (1 + step)))
                self.prices[inst.key] = price
            return price

    def peek(self, inst: Instrument) -> Decimal:
        return self.prices[inst.key]

    def close(self, inst: Instrument) -> Decimal:
        return self.closes[inst.key]

    def set_price(self, exchange: str, symbol: str, price, *, freeze: bool = True) -> None:
        with self._lock:
            self.prices[(exchange, symbol)] = Decimal(str(price))
            if freeze:
                self.frozen.add((exchange, symbol))

    def release(self, exchange: str, symbol: str) -> None:
        """Let a held price drift again from where it is."""
        with self._lock:
            self.frozen.discard((exchange, symbol))
