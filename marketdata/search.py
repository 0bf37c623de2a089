"""Instrument search for forms: prefix matches at one broker, best first.

Fetched in tiers (exact symbol, equities and indices, then derivatives), each
a LIMITed index scan without ORDER BY, so a one-letter prefix matching lakhs
of options costs no more than a precise one; ranking happens in Python.
"""

from django.db import connection

from .models import Instrument

KIND_ORDER = {"EQ": 0, "INDEX": 1, "FUT": 2, "CE": 3, "PE": 3}
CASH = ("EQ", "INDEX")
NOT_TRADABLE = ("INDEX",)


def search_instruments(
    *, broker: str, query: str, limit: int = 15, tradable_only: bool = False
) -> list[Instrument]:
    """`tradable_only`: leave out what no order can be placed on (indices), for order forms."""
    text = " ".join(query.strip().upper().split())
    if ":" in text:
        text = text.split(":", 1)[1].strip()
    if not text:
        return []
    base = Instrument.objects.filter(broker=broker)
    if tradable_only:
        base = base.exclude(instrument_type__in=NOT_TRADABLE)
    found = {i.pk: i for i in base.filter(canonical_symbol=text)[:limit]}
    for tier in (base.filter(instrument_type__in=CASH), base.exclude(instrument_type__in=CASH)):
        if len(found) >= limit * 2:
            break
        for instrument in _prefix(tier, text)[: limit * 2]:
            found.setdefault(instrument.pk, instrument)
    if len(found) < limit and len(text) >= 3:
        # Company names ("infosys"): only equities and indices carry useful names.
        for instrument in base.filter(instrument_type__in=CASH, name__icontains=text)[:limit]:
            found.setdefault(instrument.pk, instrument)

    def rank(instrument):
        return (
            instrument.canonical_symbol != text,
            KIND_ORDER.get(instrument.instrument_type, 4),
            instrument.series not in ("EQ", ""),
            len(instrument.trading_symbol),
            instrument.trading_symbol,
        )

    return sorted(found.values(), key=rank)[:limit]


def _prefix(queryset, text: str):
    """Canonical symbols starting with `text`, in a way the index can serve.

    SQLite ignores indexes for LIKE with ESCAPE (which Django emits), but its
    binary collation makes a range scan exact. PostgreSQL's locale collations
    make such a range unsafe; LIKE 'X%' uses the varchar_pattern_ops index.
    """
    if connection.vendor == "sqlite":
        return queryset.filter(canonical_symbol__gte=text, canonical_symbol__lt=text + "\U0010ffff")
    return queryset.filter(canonical_symbol__startswith=text)
