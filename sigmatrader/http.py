"""The request a view of a signed-in page receives, for type checking (the pattern of
django-htmx's example/example/views.py: an HttpRequest subclass that only declares).

Nothing constructs it: Django passes its own HttpRequest, and LoginRequiredMiddleware
(settings.MIDDLEWARE) has already turned away anyone not signed in, so `request.user`
is a real User there, and HtmxMiddleware has set `request.htmx`. A view marked
@login_not_required takes a plain HttpRequest instead.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    user: User  # narrower than HttpRequest's (signed in: never AnonymousUser)
    htmx: HtmxDetails
