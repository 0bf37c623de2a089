"""Nothing outside brokers/ may assume which broker it talks to.

Pages and services ask the registry and capabilities; only a broker's own
module (and tests, migrations and the settings' adapter list) names it.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROKER_WORDS = re.compile(
    r"\b(zerodha|kite|kiteconnect|angel\s?one|angelone|smartapi|smartconnect)\b", re.IGNORECASE
)
SCANNED = [
    "sigmatrader",
    "orders",
    "portfolio",
    "marketdata",
    "paper",
    "watchlists",
    "trades",
    "templates",
    "static",
]
ALLOWED = {
    # The adapter list and the brokers' endpoint settings live here by design.
    ROOT / "sigmatrader" / "settings.py",
}


def offending_lines():
    for folder in SCANNED:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".html", ".js", ".css", ".txt"} or path in ALLOWED:
                continue
            if "migrations" in path.parts or path.name.startswith("test_"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if BROKER_WORDS.search(line):
                    yield f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_no_module_or_template_outside_brokers_names_a_broker():
    # A wrong ROOT would scan nothing and pass: the scanned folders must be there.
    assert all((ROOT / folder).is_dir() for folder in SCANNED), ROOT
    found = list(offending_lines())
    assert not found, "broker named outside brokers/:\n" + "\n".join(found)


def test_the_check_does_find_a_broker_name(tmp_path):
    """The pattern is live: it catches the spellings it is meant to catch."""
    for text in [
        "if account.broker == 'zerodha':",
        "Send to Kite",
        "AngelOne holdings",
        "SmartAPI token",
        "Angel One",
    ]:
        assert BROKER_WORDS.search(text), text
    assert not BROKER_WORDS.search("kitesurfing is not a broker")
