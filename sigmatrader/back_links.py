"""Where a page was opened from, named: "Back to Core" rather than a bare "Back".

A page shared by several others (the order form opened from Holdings or from a
watchlist's row) carries `next`, a path on this site. Core cannot import the apps
above it, so each app registers, in its `AppConfig.ready()`, how to name the pages
it owns (`register(url_name, namer)`); the namer gets the request and the URL's
kwargs and returns a name, or "" when the thing is not the user's (then no back
link is offered: never a name the request could have made up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

from .http import AuthedHttpRequest
from .pages import safe_next

Namer = Callable[[AuthedHttpRequest, dict], str]
_namers: dict[str, Namer] = {}


def register(url_name: str, namer: Namer) -> None:
    """How to name the page `url_name` (namespaced, e.g. "watchlists:detail")."""
    _namers[url_name] = namer


@dataclass(frozen=True)
class BackLink:
    url: str
    name: str


def back_link(request: AuthedHttpRequest) -> BackLink | None:
    """The page this request was opened from (`next`), named, or None."""
    target = safe_next(request)
    if not target:
        return None
    try:
        match = resolve(urlsplit(target).path)
    except Resolver404:
        return None
    namer = _namers.get(match.view_name)
    name = namer(request, match.kwargs) if namer else ""
    return BackLink(target, name) if name else None
