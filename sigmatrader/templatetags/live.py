"""Tags for live pages: the poll interval and stable cell ids for portfolio rows."""

import hashlib

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def live_poll_ms() -> int:
    return int(settings.LIVE_POLL_SECONDS * 1000)


@register.filter
def live_key(row) -> str:
    """An id that survives a portfolio sync (which replaces rows, so not the pk):
    account, exchange, symbol and product; merged rows (no account) get their own."""
    account = getattr(row, "account_id", None) or "all"
    raw = f"{account}|{row.exchange}|{row.symbol}|{getattr(row, 'product', '')}"
    return "k" + hashlib.blake2s(raw.encode(), digest_size=6).hexdigest()
