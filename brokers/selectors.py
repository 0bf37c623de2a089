"""Reads on broker accounts, always scoped to the signed-in user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from sigmatrader.http import AuthedHttpRequest
from sigmatrader.params import object_id

from .models import BrokerAccount

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def accounts_of(user: User) -> QuerySet[BrokerAccount]:
    return BrokerAccount.objects.filter(user=user)


def account_for(user: User, account_id: object) -> BrokerAccount:
    """The user's account with that id, or 404: another user's id looks absent
    (and so does anything that is not an id)."""
    pk = object_id(account_id)
    if pk is None:
        raise Http404("No such account.")
    return get_object_or_404(BrokerAccount, pk=pk, user=user)


def default_account(user: User) -> BrokerAccount | None:
    return accounts_of(user).filter(is_default=True).first()


VIEW_KEY = "brokers:viewing"  # the session's viewed account (the top-bar switcher)


def current_account(request: AuthedHttpRequest) -> BrokerAccount | None:
    """The account this browser session is looking at.

    `?account=<id>` when it names one of the user's accounts (and, on a full page
    load, the session remembers it, so the page stays on it after an action), else the account
    the session last viewed, else the default. Viewing never changes the
    default account, which is where "my default account" strategies send orders.
    Cached on the request: the context processor and the view share one lookup.
    """
    if hasattr(request, "_current_account"):
        return request._current_account
    account = None
    session = getattr(request, "session", None)
    requested = object_id(request.GET.get("account"))
    if requested is not None:
        account = accounts_of(request.user).filter(pk=requested).first()
        # Only a page the user navigated to (a tab, the pager) changes the viewed account;
        # an HTMX fragment asked with ?account= (a form re-rendered for its "Send to"
        # account, a live poll) reads it without changing what the session views.
        htmx = request.headers.get("HX-Request") == "true" if hasattr(request, "headers") else False
        if account is not None and session is not None and not htmx:
            remember_view(request, account)
    if account is None and session is not None:
        viewed = session.get(VIEW_KEY)
        if isinstance(viewed, int):
            account = accounts_of(request.user).filter(pk=viewed).first()
    if account is None:
        account = default_account(request.user)
    request._current_account = account  # type: ignore[attr-defined]  # per-request cache
    return account


def remember_view(request: AuthedHttpRequest, account: BrokerAccount) -> None:
    """Per-session view state: which account this browser looks at."""
    if request.session.get(VIEW_KEY) != account.pk:
        request.session[VIEW_KEY] = account.pk
    request._current_account = account  # type: ignore[attr-defined]  # per-request cache
