"""An OpenAlgo-style AngelOne master refresh, re-created for comparison (bench only).

From OpenAlgo's public description of its AngelOne master contract download
(broker/angel/database/master_contract_db.py): the whole JSON file read with
`pandas.read_json`, columns renamed and transformed with vectorised pandas
operations (broker symbol/exchange copies, index exchanges, series suffixes
stripped, expiry reformatted row by row, strike and tick size from paise,
currency and commodity symbols rebuilt, common index names), then the whole
symbol table deleted and the frame inserted in bulk (`to_dict("records")` and
an executemany, as SQLAlchemy's `bulk_insert_mappings` does), one commit.

Written here from that description; the app never imports pandas. Its own
SQLite file (WAL, synchronous=NORMAL, like ours), the same indexes OpenAlgo's
`symtoken` table declares.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS symtoken (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL, brsymbol TEXT NOT NULL, name TEXT,
    exchange TEXT, brexchange TEXT, token TEXT, expiry TEXT,
    strike REAL, lotsize INTEGER, instrumenttype TEXT, tick_size REAL
);
CREATE INDEX IF NOT EXISTS idx_symbol_exchange ON symtoken (symbol, exchange);
CREATE INDEX IF NOT EXISTS idx_symbol_name ON symtoken (symbol, name);
CREATE INDEX IF NOT EXISTS idx_brsymbol_exchange ON symtoken (brsymbol, exchange);
"""
COLUMNS = (
    "symbol",
    "brsymbol",
    "name",
    "exchange",
    "brexchange",
    "token",
    "expiry",
    "strike",
    "lotsize",
    "instrumenttype",
    "tick_size",
)
INDEX_NAMES = {
    "Nifty 50": "NIFTY",
    "Nifty Next 50": "NIFTYNXT50",
    "Nifty Fin Service": "FINNIFTY",
    "Nifty Bank": "BANKNIFTY",
    "NIFTY MID SELECT": "MIDCPNIFTY",
    "India VIX": "INDIAVIX",
    "SNSX50": "SENSEX50",
}


def _expiry(text):
    try:
        return datetime.strptime(text, "%d%b%Y").strftime("%d-%b-%y")
    except (TypeError, ValueError):
        return text


def frame(path) -> pd.DataFrame:
    df = pd.read_json(path, dtype=False)
    df = df.rename(columns={"exch_seg": "exchange"})
    df["brsymbol"] = df["symbol"]
    df["brexchange"] = df["exchange"]
    index = df["instrumenttype"] == "AMXIDX"
    for exchange in ("NSE", "BSE", "MCX"):
        df.loc[index & (df["exchange"] == exchange), "exchange"] = f"{exchange}_INDEX"
    df["symbol"] = df["symbol"].str.replace("-EQ|-BE|-MF|-SG", "", regex=True)
    df["expiry"] = df["expiry"].apply(_expiry).str.upper()
    df["strike"] = df["strike"].astype(float) / 100
    for kind in ("OPTCUR", "OPTIRC"):
        rows = (df["instrumenttype"] == kind) & (df["exchange"] == "CDS")
        df.loc[rows, "strike"] = df["strike"] / 100000
    df["lotsize"] = df["lotsize"].astype(int)
    df["tick_size"] = df["tick_size"].astype(float) / 100
    plain_expiry = df["expiry"].str.replace("-", "", regex=False)
    for kind, exchange in (("FUTCUR", "CDS"), ("FUTIRC", "CDS"), ("FUTCOM", "MCX")):
        rows = (df["instrumenttype"] == kind) & (df["exchange"] == exchange)
        df.loc[rows, "symbol"] = df["name"] + plain_expiry + "FUT"
    strike_text = df["strike"].astype(str).str.replace(r"\.0", "", regex=True)
    for kind, exchange in (("OPTCUR", "CDS"), ("OPTIRC", "CDS"), ("OPTFUT", "MCX")):
        rows = (df["instrumenttype"] == kind) & (df["exchange"] == exchange)
        df.loc[rows, "symbol"] = df["name"] + plain_expiry + strike_text + df["symbol"].str[-2:]
    df["symbol"] = df["symbol"].replace(INDEX_NAMES)
    return df


def connect(path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


def refresh(db: sqlite3.Connection, path) -> int:
    """Delete all, insert all: what the pandas path does on every run."""
    df = frame(path)
    records = df[list(COLUMNS)].to_dict("records")
    db.execute("DELETE FROM symtoken")  # committed alone: readers see 0 rows from here
    db.execute("BEGIN")
    existing = {token for (token,) in db.execute("SELECT token FROM symtoken")}
    fresh = [r for r in records if r["token"] not in existing]
    db.executemany(
        f"INSERT INTO symtoken ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        [tuple(r[c] for c in COLUMNS) for r in fresh],
    )
    db.execute("COMMIT")
    return len(fresh)
