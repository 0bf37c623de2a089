"""Writes on watchlists and baskets: plain functions, keyword arguments, one
transaction each, every one handed the signed-in user's own objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max

from marketdata.resolution import SymbolNotFound, resolve

from . import importing
from .models import MAX_MEMBERS, Member, Watchlist

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Refused(ValueError):
    """A write that cannot be done, with a message for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Refused("Give the list a name.")
    if len(name) > 80:
        raise Refused("A name has at most 80 characters.")
    return name


def _name_free(user: User, name: str, *, exclude: int | None = None) -> None:
    taken = Watchlist.objects.filter(user=user, name__iexact=name)
    if exclude:
        taken = taken.exclude(pk=exclude)
    existing = taken.values_list("name", flat=True).first()
    if existing is None:
        return
    if existing == name:
        raise Refused(f"You already have a list named {name}.")
    # Names are unique whatever their case: say so, with both spellings as they are.
    raise Refused(
        f"{name} is taken: you already have a list named {existing} "
        "(names ignore upper and lower case)."
    )


def create_list(
    *, user: User, name: str, kind: str = Watchlist.Kind.WATCHLIST, **fields
) -> Watchlist:
    name = _name(name)
    if kind not in Watchlist.Kind.values:
        raise Refused("Choose a watchlist or a basket.")
    _name_free(user, name)
    try:
        with transaction.atomic():
            return Watchlist.objects.create(user=user, name=name, kind=kind, **fields)
    except IntegrityError:
        raise Refused(f"You already have a list named {name}.") from None


def update_list(*, watchlist: Watchlist, name: str, **fields) -> Watchlist:
    name = _name(name)
    _name_free(watchlist.user, name, exclude=watchlist.pk)
    watchlist.name = name
    for key, value in fields.items():
        setattr(watchlist, key, value)
    try:
        with transaction.atomic():
            watchlist.save()
    except IntegrityError:
        raise Refused(f"You already have a list named {name}.") from None
    return watchlist


def delete_list(*, watchlist: Watchlist) -> None:
    watchlist.delete()


def copy_name(user: User, name: str) -> str:
    base = f"Copy of {name}"[:74]
    taken = set(
        Watchlist.objects.filter(user=user, name__istartswith=base).values_list("name", flat=True)
    )
    taken = {t.lower() for t in taken}
    candidate, n = base, 2
    while candidate.lower() in taken:
        candidate, n = f"{base} ({n})", n + 1
    return candidate


@transaction.atomic
def duplicate_list(*, watchlist: Watchlist, name: str = "") -> Watchlist:
    user = watchlist.user
    copy = create_list(
        user=user,
        name=name or copy_name(user, watchlist.name),
        kind=watchlist.kind,
        description=watchlist.description,
        funds=watchlist.funds,
        mode=watchlist.mode,
        frozen_at=watchlist.frozen_at,
    )
    Member.objects.bulk_create(
        Member(
            watchlist=copy,
            exchange=m.exchange,
            symbol=m.symbol,
            section=m.section,
            position=m.position,
            note=m.note,
            weight=m.weight,
            amount=m.amount,
            quantity=m.quantity,
            locked=m.locked,
            reference_price=m.reference_price,
        )
        for m in watchlist.members.all()
    )
    return copy


# --- Members -----------------------------------------------------------------------


def _next_position(watchlist: Watchlist) -> int:
    top = watchlist.members.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def add_member(
    *, watchlist: Watchlist, symbol: str, broker: str | None, note: str = "", section: str = ""
) -> Member:
    """Add `symbol` (as the autocomplete or a trader writes it), resolved at `broker`
    to its exchange-level name, so the list means the same stock at every broker."""
    text = " ".join((symbol or "").split())
    if not text:
        raise Refused("Type a symbol, e.g. NSE:SBIN.")
    if broker is None:
        raise Refused("Add a broker account first: symbols are checked against its instruments.")
    try:
        instrument = resolve(broker=broker, symbol=text)
    except SymbolNotFound as exc:
        raise Refused(exc.message) from None
    if watchlist.members.count() >= MAX_MEMBERS:
        raise Refused(f"A list holds at most {MAX_MEMBERS:,} symbols.")
    exchange, canonical = instrument.exchange, instrument.canonical_symbol
    if watchlist.members.filter(exchange=exchange, symbol=canonical).exists():
        raise Refused(f"{exchange}:{canonical} is already in {watchlist.name}.")
    try:
        with transaction.atomic():
            return Member.objects.create(
                watchlist=watchlist,
                exchange=exchange,
                symbol=canonical,
                note=note[:200],
                section=section[:80],
                position=_next_position(watchlist),
            )
    except IntegrityError:
        raise Refused(f"{exchange}:{canonical} is already in {watchlist.name}.") from None


def create_list_of_symbols(*, user: User, name: str, symbols: list[tuple[str, str]]) -> Watchlist:
    """A new watchlist of exchange-level symbols already known (a screener's matches),
    in order, duplicates once; all of it or nothing."""
    unique = list(dict.fromkeys((exchange.upper(), symbol.upper()) for exchange, symbol in symbols))
    if not unique:
        raise Refused("There is nothing to save: the run matched no symbol.")
    if len(unique) > MAX_MEMBERS:
        raise Refused(f"A list holds at most {MAX_MEMBERS:,} symbols; this has {len(unique):,}.")
    with transaction.atomic():
        watchlist = create_list(user=user, name=name)
        Member.objects.bulk_create(
            Member(watchlist=watchlist, exchange=exchange, symbol=symbol, position=position)
            for position, (exchange, symbol) in enumerate(unique, start=1)
        )
    return watchlist


def remove_member(*, member: Member) -> None:
    member.delete()


@transaction.atomic
def move_member(*, member: Member, to: str) -> None:
    """`to`: up, down, top or bottom. Positions are renumbered 0..n-1 on the way."""
    members = list(
        Member.objects.select_for_update()
        .filter(watchlist_id=member.watchlist_id)
        .order_by("position", "pk")
    )
    index = next((i for i, m in enumerate(members) if m.pk == member.pk), None)
    if index is None:
        return
    moving = members.pop(index)
    target = {"up": index - 1, "down": index + 1, "top": 0, "bottom": len(members)}.get(to)
    if target is None:
        raise Refused("Move up, down, to the top or to the bottom.")
    members.insert(max(0, min(target, len(members))), moving)
    _renumber(members)


@transaction.atomic
def reorder(*, watchlist: Watchlist, member_ids: list[int]) -> None:
    """Put the members in the order of `member_ids` (ids not in the list are ignored;
    members not named keep their relative order, after the named ones)."""
    members = list(
        Member.objects.select_for_update().filter(watchlist=watchlist).order_by("position", "pk")
    )
    rank = {pk: i for i, pk in enumerate(member_ids)}
    members.sort(key=lambda m: (rank.get(m.pk, len(rank)), m.position, m.pk))
    _renumber(members)


def _renumber(members: list[Member]) -> None:
    changed = []
    for position, m in enumerate(members):
        if m.position != position:
            m.position = position
            changed.append(m)
    Member.objects.bulk_update(changed, ["position"])


# --- Import ------------------------------------------------------------------------


@dataclass
class Imported:
    watchlist: Watchlist
    added: int
    already: int
    skipped: int


@transaction.atomic
def import_rows(
    *,
    user: User,
    items: list[importing.Previewed],
    watchlist: Watchlist | None = None,
    name: str = "",
    kind: str = Watchlist.Kind.WATCHLIST,
) -> Imported:
    """Save a confirmed preview in one transaction: into `watchlist`, or a new list
    called `name`. Rows the preview did not accept are skipped; members already in
    the list are left as they are."""
    if watchlist is None:
        watchlist = create_list(user=user, name=name, kind=kind)
    elif watchlist.user_id != user.pk:
        raise Refused("No such list.")
    accepted = [item for item in items if item.imported]
    existing = set(watchlist.members.values_list("exchange", "symbol"))
    fresh = [item for item in accepted if item.key not in existing]
    if len(existing) + len(fresh) > MAX_MEMBERS:
        raise Refused(
            f"A list holds at most {MAX_MEMBERS:,} symbols; "
            f"this would make {len(existing) + len(fresh):,}."
        )
    start = _next_position(watchlist)
    Member.objects.bulk_create(
        [
            Member(
                watchlist=watchlist,
                exchange=item.exchange,
                symbol=item.symbol,
                section=item.row.section,
                note=item.row.note,
                weight=item.row.weight,
                amount=item.row.amount,
                quantity=item.row.quantity,
                position=start + n,
            )
            for n, item in enumerate(fresh)
        ],
        batch_size=500,
    )
    watchlist.save(update_fields=["updated_at"])
    marked = sum(1 for item in items if item.status == importing.ALREADY)
    return Imported(
        watchlist,
        added=len(fresh),
        already=len(accepted) - len(fresh) + marked,
        skipped=len(items) - len(accepted) - marked,
    )
