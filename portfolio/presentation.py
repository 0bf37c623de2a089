"""Holding rows formatted in Python (as orders.presentation does for the queue).

"All accounts" may list a thousand rows; flat, preformatted values render several
times faster than filters, attribute chains and property sums in a template. The
page's cells and the live poll's out-of-band blocks both read `row.cells`, so the
two never disagree.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString

from sigmatrader.formatting import inr, inr_number, pnl_class
from sigmatrader.templatetags.live import live_key


def holding_cells(row, *, part: bool = False) -> dict:
    """What a holding row shows (a model row, or a merged row of several accounts);
    `part`: an account's line under a merged row (no P&L percent there)."""
    shown = row.shown
    pnl, day_pnl, percent = row.pnl, row.day_pnl, row.pnl_percent
    account_id = getattr(row, "account_id", None)
    return {
        "key": _safe(live_key(row)),
        "stale": shown.stale,
        "title": _safe(shown.title),
        "ltp": _safe(inr(row.last_price)),
        "invested": _safe(inr(row.invested)),
        "value": _safe(inr(row.current_value)),
        "pnl": _safe(inr(pnl)),
        "pnl_class": _safe(pnl_class(pnl)),
        "pnl_percent": "" if percent is None or part else floatformat(percent, 2),
        "day": _safe(inr(day_pnl) or "—"),
        "day_class": _safe(pnl_class(day_pnl)),
        "quantity": _safe(inr_number(row.quantity)),
        "t1": _safe(inr_number(row.t1_quantity)) if row.t1_quantity else "",
        "mtf": _safe(inr_number(row.mtf_quantity)) if row.mtf_quantity else "",
        "average": _safe(inr(row.average_price)),
        # The Buy / Sell links' query (an account's row only; a merged row has none).
        # (format_html's output, built directly: it is a tenth of this page's time.)
        "trade": SafeString(
            f"account={account_id}&symbol={escape(row.exchange)}:"
            f"{escape(quote(row.symbol, safe='/'))}"
        )
        if account_id
        else "",
        "raw_quantity": row.quantity,
    }


def _safe(text: str) -> SafeString:
    """Our own figures (digits, separators, ₹, a class name, a hex key, an age): nothing
    to escape, so the template need not scan each of the thousands of them again."""
    if "<" in text or "&" in text or '"' in text or "'" in text or ">" in text:
        return SafeString(escape(text))  # never expected; escaped all the same
    return SafeString(text)


def format_holdings(items, *, merged: bool) -> None:
    """Give each row (and, merged, each account's part) its `cells`."""
    for item in items:
        item.cells = holding_cells(item)
        if merged:
            item.account_label = _account_label(item.parts)
            item.single = item.parts[0] if len(item.parts) == 1 else None
            for part in item.parts:
                part.cells = holding_cells(part, part=True)


def _account_label(parts) -> str:
    return f"{len(parts)} accounts" if len(parts) > 1 else parts[0].account.display_name
