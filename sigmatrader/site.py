"""Absolute URLs as the outside world reaches this app (webhooks, broker redirects)."""

from urllib.parse import urlsplit

from django.conf import settings


def site_url(request, path: str) -> str:
    """SITE_URL + `path` (e.g. https://trade.example.in behind a reverse proxy),
    else the address of the request."""
    if settings.SITE_URL:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path)


def is_public_https(url: str) -> bool:
    """What TradingView can deliver to: HTTPS on a host that is not loopback."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    return parts.scheme == "https" and not loopback
