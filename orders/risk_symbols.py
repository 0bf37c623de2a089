"""Allow and deny lists of a risk policy: parsed, normalised and checked against
the loaded instrument lists, so a typo cannot silently block every order."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from marketdata.models import Instrument

ENTRY = re.compile(r"^(?:(?P<exchange>[A-Z]{2,5}):)?(?P<symbol>[A-Z0-9][A-Z0-9&_.\-]{0,39})$")
SHOWN = 5  # unknown or malformed entries named in the error, at most


def parse(text: str) -> list[tuple[str, str]]:
    """[(exchange or "", symbol)] from one-per-line or comma-separated text, upper-cased;
    raises ValidationError naming the entries that are not EXCH:SYMBOL or SYMBOL."""
    entries, bad = [], []
    for raw in (text or "").replace(",", "\n").splitlines():
        entry = raw.strip().upper()
        if not entry:
            continue
        match = ENTRY.match(entry)
        if match is None:
            bad.append(raw.strip())
        elif (match["exchange"] or "", match["symbol"]) not in entries:
            entries.append((match["exchange"] or "", match["symbol"]))
    if bad:
        raise ValidationError(
            "Not a symbol (write SYMBOL or EXCHANGE:SYMBOL, e.g. SBIN or NSE:SBIN): "
            + ", ".join(repr(b[:40]) for b in bad[:SHOWN])
            + (f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else "")
        )
    return entries


def clean_symbols(text: str) -> str:
    """The list as stored: one normalised entry a line, each known to at least one
    loaded instrument list; raises ValidationError naming the unknown ones."""
    entries = parse(text)
    if not entries:
        return ""
    known = set(
        Instrument.objects.filter(canonical_symbol__in={s for _, s in entries})
        .values_list("exchange", "canonical_symbol")
        .distinct()
    )
    symbols = {s for _, s in known}
    unknown = [
        f"{e}:{s}" if e else s
        for e, s in entries
        if ((e, s) not in known if e else s not in symbols)
    ]
    if unknown:
        raise ValidationError(
            "Not in any loaded instrument list: "
            + ", ".join(unknown[:SHOWN])
            + (f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else "")
            + ". Check the spelling (or refresh the broker's instruments)."
        )
    return "\n".join(f"{e}:{s}" if e else s for e, s in entries)
