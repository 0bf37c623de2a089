"""The page patterns every view uses: fragment or full page, and safe redirects.

- `page_or_fragment`: an HTMX request gets the fragment, anything else the full
  page. An HTMX *history restore* (the back button after htmx's history cache
  missed) sends `HX-Request: true` too, but wants the whole page, so it gets the
  page. Both answers carry `Vary: HX-Request`, so no cache hands a fragment to a
  plain navigation (or the reverse).
- `paginate`: one page of a list, tolerant of any `?page=` (garbage is page 1,
  past the end is the last page), carrying the other query parameters for the
  one pager partial, `templates/_pager.html`.
- `redirect_back`: follow `next` only to this site; anything else (another host,
  `//evil.example`, a scheme) goes to the default instead.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme


def wants_fragment(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def page_or_fragment(request, page: str, fragment: str, context: dict, *, status: int = 200):
    template = fragment if wants_fragment(request) else page
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def safe_next(request, default: str = "") -> str:
    """The `next` of this request if it points at this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only ("/orders/?x=1"): not a bare word, which redirect()
    # would try as a URL name, and not a host, a scheme or "//evil.example".
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def redirect_back(request, default: str = "dashboard", *args, **kwargs):
    """Redirect to a safe `next`, or to the named URL `default`."""
    target = safe_next(request)
    return HttpResponseRedirect(target) if target else redirect(default, *args, **kwargs)


def paginate(request, items, per_page: int) -> Page:
    """The requested page of `items`; `page.querystring` keeps the request's filters."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring = params.urlencode()
    return page
