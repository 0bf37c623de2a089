"""Instrument search for forms: prefix matches at one broker, best first."""

from django.db.models import Q

from .models import Instrument

KIND_ORDER = {"EQ": 0, "INDEX": 1, "FUT": 2, "CE": 3, "PE": 3}


def search_instruments(*, broker: str, query: str, limit: int = 15) -> list[Instrument]:
    text = " ".join(query.strip().upper().split())
    if ":" in text:
        text = text.split(":", 1)[1].strip()
    if not text:
        return []
    base = Instrument.objects.filter(broker=broker)
    found = list(
        base.filter(
            Q(canonical_symbol__startswith=text) | Q(trading_symbol__startswith=text)
        ).order_by("canonical_symbol")[: limit * 4]
    )
    if len(found) < limit and len(text) >= 3:
        found += list(
            base.filter(name__icontains=text).exclude(pk__in=[i.pk for i in found])[
                : limit - len(found)
            ]
        )

    def rank(instrument):
        return (
            instrument.canonical_symbol != text,
            KIND_ORDER.get(instrument.instrument_type, 4),
            instrument.series not in ("EQ", ""),
            len(instrument.trading_symbol),
            instrument.trading_symbol,
        )

    return sorted(found, key=rank)[:limit]
