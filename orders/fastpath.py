"""A short middleware chain for the TradingView webhook URL only.

The webhook is a machine-to-machine POST authenticated by the secret token in
its URL: it has no session, no signed-in user, no CSRF token (TradingView
cannot send one), no messages, renders no HTML (no CSP, no frame options, no
htmx) and is not a sign-in (django-axes). Running the whole stack for it cost
CPU on every alert for nothing, and the session/auth layers could touch the
database.

`WebhookFastPath` sits right after SecurityMiddleware (HTTPS redirect, HSTS
and the other security headers still apply) and, for a request whose path is
exactly the webhook route, calls that view directly. Every other URL goes
down the full chain unchanged: sign-in, CSRF, sessions and the rest are not
weakened anywhere else (tests/orders/test_webhook_fastpath.py checks both sides).
"""

from __future__ import annotations

import re

from django.urls import Resolver404, resolve

from .webhook_views import tradingview

# Only this exact shape: one path segment of token, nothing before or after.
WEBHOOK_PATH = re.compile(r"/webhooks/tradingview/[^/]+/")


class WebhookFastPath:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if WEBHOOK_PATH.fullmatch(request.path_info):
            # ALLOWED_HOSTS still applies (CommonMiddleware would have checked it):
            # DisallowedHost here becomes a 400 like on every other URL.
            request.get_host()

            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            # Only when the URL really routes to the webhook view (never a
            # prefix of some other page).
            if match is not None and match.func is tradingview:
                request.resolver_match = match
                return tradingview(request, *match.args, **match.kwargs)
        return self.get_response(request)
