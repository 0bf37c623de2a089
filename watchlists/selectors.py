"""Reads on watchlists and baskets, always scoped to the signed-in user.

`list_instruments` is the universe other features (alerts, screeners) ask for:
a list's members resolved, at use time, for the broker of the account that
will act on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from marketdata.models import Instrument
from marketdata.resolution import SymbolNotFound, resolve
from sigmatrader.params import object_id

from .models import Member, Watchlist

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from brokers.models import BrokerAccount


def lists_of(user: User, *, kind: str | None = None) -> QuerySet[Watchlist]:
    lists = Watchlist.objects.filter(user=user).annotate(member_count=Count("members"))
    if kind:
        lists = lists.filter(kind=kind)
    return lists.order_by("name")


def list_name(user: User, watchlist_id: object) -> str:
    """The name of the user's list with that id, or "" (none, or not the user's)."""
    pk = object_id(watchlist_id)
    if pk is None:
        return ""
    return Watchlist.objects.filter(user=user, pk=pk).values_list("name", flat=True).first() or ""


def watchlist_for(user: User, watchlist_id: object) -> Watchlist:
    """The user's list with that id, or 404 (another user's id looks absent)."""
    pk = object_id(watchlist_id)
    if pk is None:
        raise Http404("No such list.")
    return get_object_or_404(Watchlist, pk=pk, user=user)


def member_for(user: User, watchlist: Watchlist, member_id: object) -> Member:
    pk = object_id(member_id)
    if pk is None or watchlist.user_id != user.pk:
        raise Http404("No such member.")
    return get_object_or_404(Member, pk=pk, watchlist=watchlist)


def members_of(watchlist: Watchlist) -> list[Member]:
    return list(watchlist.members.order_by("position", "pk"))


@dataclass
class Resolved:
    """A member and what it means at one broker: an instrument, or why not."""

    member: Member
    instrument: Instrument | None
    problem: str = ""


def resolve_members(members: list[Member], *, broker: str) -> list[Resolved]:
    out = []
    for member in members:
        try:
            instrument = resolve(broker=broker, symbol=member.symbol, exchange=member.exchange)
        except SymbolNotFound as exc:
            out.append(Resolved(member, None, exc.message))
        else:
            out.append(Resolved(member, instrument))
    return out


def list_instruments(
    *, user: User, watchlist_id: object, account: BrokerAccount
) -> list[Instrument]:
    """The list's members as `account`'s broker instruments, in list order; members
    that do not resolve at that broker are left out (never another broker's).
    Another user's list or account is a 404."""
    watchlist = watchlist_for(user, watchlist_id)
    if account.user_id != user.pk:
        raise Http404("No such account.")
    seen = set()
    instruments = []
    for row in resolve_members(members_of(watchlist), broker=account.broker):
        if row.instrument is not None and row.instrument.pk not in seen:
            seen.add(row.instrument.pk)
            instruments.append(row.instrument)
    return instruments
