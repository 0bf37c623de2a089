"""The watchlist pages: CRUD, members, export, scoping, bad input never a 5xx."""

import pytest
from django.urls import reverse

from watchlists.models import Member, Watchlist


@pytest.fixture
def kite(masters, user, make_account):
    return make_account(user, "zerodha")


def new_list(user, name="Banks", *symbols, kind=Watchlist.Kind.WATCHLIST):
    watchlist = Watchlist.objects.create(user=user, name=name, kind=kind)
    for n, label in enumerate(symbols):
        exchange, symbol = label.split(":")
        Member.objects.create(watchlist=watchlist, exchange=exchange, symbol=symbol, position=n)
    return watchlist


def order(watchlist):
    return [m.label for m in watchlist.members.order_by("position")]


def test_create_then_a_duplicate_name_is_a_422_with_the_reason(signed_in, user, kite):
    response = signed_in.post(
        reverse("watchlists:create"), {"name": " Banks ", "kind": "WATCHLIST"}
    )
    watchlist = Watchlist.objects.get(user=user)
    assert response.status_code == 302 and response.url.endswith(f"/watchlists/{watchlist.pk}/")
    assert watchlist.name == "Banks"
    response = signed_in.post(
        reverse("watchlists:create"), {"name": "banks", "kind": "BASKET"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    # The name as typed, and the list that has it, as it is spelled.
    assert (
        "banks is taken: you already have a list named Banks "
        "(names ignore upper and lower case)." in response.content.decode()
    )
    assert Watchlist.objects.filter(user=user).count() == 1
    response = signed_in.post(reverse("watchlists:create"), {"name": "x", "kind": "NOPE"})
    assert response.status_code == 422


def test_add_resolves_to_the_exchange_level_name_and_refuses_unknowns(signed_in, user, kite):
    watchlist = new_list(user)
    url = reverse("watchlists:add", args=[watchlist.pk])
    response = signed_in.post(url, {"symbol": "NSE:BAJAJ_AUTO", "account": kite.pk})
    assert response.status_code == 200
    assert order(watchlist) == ["NSE:BAJAJ-AUTO"]
    response = signed_in.post(url, {"symbol": "NSE:BAJAJ-AUTO", "account": kite.pk})
    assert response.status_code == 422
    assert "already in Banks" in response.content.decode()
    response = signed_in.post(url, {"symbol": "NSE:NOSUCH", "account": kite.pk})
    assert response.status_code == 422
    assert "NOSUCH is not in the" in response.content.decode()
    response = signed_in.post(url, {"symbol": "", "account": kite.pk})
    assert response.status_code == 422
    assert order(watchlist) == ["NSE:BAJAJ-AUTO"]


def test_move_remove_duplicate_delete(signed_in, user, kite):
    watchlist = new_list(user, "Banks", "NSE:SBIN", "NSE:INFY", "NSE:M&M")
    sbin, infy, mm = watchlist.members.order_by("position")
    move = reverse("watchlists:move", args=[watchlist.pk, mm.pk])
    assert signed_in.post(move, {"to": "up"}).status_code == 302
    assert order(watchlist) == ["NSE:SBIN", "NSE:M&M", "NSE:INFY"]
    signed_in.post(move, {"to": "top"}, HTTP_HX_REQUEST="true")
    assert order(watchlist) == ["NSE:M&M", "NSE:SBIN", "NSE:INFY"]
    assert signed_in.post(move, {"to": "sideways"}).status_code == 422
    signed_in.post(reverse("watchlists:remove", args=[watchlist.pk, sbin.pk]))
    assert order(watchlist) == ["NSE:M&M", "NSE:INFY"]
    response = signed_in.post(reverse("watchlists:duplicate", args=[watchlist.pk]))
    copy = Watchlist.objects.get(user=user, name="Copy of Banks")
    assert response.status_code == 302 and order(copy) == order(watchlist)
    signed_in.post(reverse("watchlists:duplicate", args=[watchlist.pk]))
    assert Watchlist.objects.filter(user=user, name="Copy of Banks (2)").exists()
    signed_in.post(reverse("watchlists:delete", args=[watchlist.pk]))
    assert not Watchlist.objects.filter(pk=watchlist.pk).exists()
    assert Member.objects.filter(watchlist=copy).count() == 2


def test_rename_to_a_taken_name_is_refused_in_place(signed_in, user, kite):
    new_list(user, "Other")
    watchlist = new_list(user, "Banks")
    response = signed_in.post(
        reverse("watchlists:edit", args=[watchlist.pk]), {"name": "OTHER"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "OTHER is taken: you already have a list named Other" in response.content.decode()
    watchlist.refresh_from_db()
    assert watchlist.name == "Banks"


def test_another_users_list_and_members_are_404(client, user, other_user, kite):
    theirs = new_list(other_user, "Secret", "NSE:SBIN")
    member = theirs.members.get()
    mine = new_list(user, "Mine", "NSE:INFY")
    client.force_login(user)
    urls = [
        ("get", reverse("watchlists:detail", args=[theirs.pk])),
        ("get", reverse("live-watchlist", args=[theirs.pk])),
        ("get", reverse("watchlists:export", args=[theirs.pk, "csv"])),
        ("post", reverse("watchlists:edit", args=[theirs.pk])),
        ("post", reverse("watchlists:delete", args=[theirs.pk])),
        ("post", reverse("watchlists:duplicate", args=[theirs.pk])),
        ("post", reverse("watchlists:add", args=[theirs.pk])),
        ("post", reverse("watchlists:remove", args=[theirs.pk, member.pk])),
        ("post", reverse("watchlists:move", args=[theirs.pk, member.pk])),
        # Their member through my list's id:
        ("post", reverse("watchlists:remove", args=[mine.pk, member.pk])),
        ("post", reverse("watchlists:member-edit", args=[mine.pk, member.pk])),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, url
    assert Member.objects.filter(pk=member.pk).exists()
    assert client.get("/watchlists/99999999999999999999999999/").status_code == 404


def test_the_page_shows_members_for_the_chosen_account(signed_in, user, kite, make_account):
    smart = make_account(user, "angelone")
    watchlist = new_list(user, "Mixed", "NSE:SBIN", "BSE:BSEONLY")
    page = signed_in.get(reverse("watchlists:detail", args=[watchlist.pk]), {"account": smart.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "SBIN-EQ" in html  # the broker's own symbol under the list's name
    assert "1 of 2 symbols is not available at" in html
    assert "symbol=NSE%3ASBIN-EQ&amp;side=BUY" in html
    # Garbage in the query string is ignored, never a 5xx.
    page = signed_in.get(
        reverse("watchlists:detail", args=[watchlist.pk]), {"account": "x" * 40, "sort": "%00"}
    )
    assert page.status_code == 200


def test_member_edit_validates(signed_in, user, kite):
    watchlist = new_list(user, "Basket", "NSE:SBIN", kind=Watchlist.Kind.BASKET)
    member = watchlist.members.get()
    url = reverse("watchlists:member-edit", args=[watchlist.pk, member.pk])
    prefix = f"m{member.pk}-"
    response = signed_in.post(url, {prefix + "weight": "150"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    response = signed_in.post(
        url, {prefix + "weight": "25.5", prefix + "locked": "on", prefix + "note": "core"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (str(member.weight), member.locked, member.note) == ("25.500", True, "core")
    signed_in.post(url, {prefix + "quantity": "4"})  # only the quantity: the rest stays
    member.refresh_from_db()
    assert (member.quantity, member.locked, member.note) == (4, True, "core")
    signed_in.post(url, {prefix + "all": "1", prefix + "weight": "10"})  # the inline form
    member.refresh_from_db()
    assert (member.weight, member.locked, member.note) == (10, False, "")


def test_index_lists_only_mine(signed_in, user, other_user, kite):
    new_list(user, "Mine", "NSE:SBIN")
    new_list(other_user, "Theirs")
    html = signed_in.get(
        reverse("watchlists:index"), {"page": "-3", "kind": "zzz"}
    ).content.decode()
    assert "Mine" in html and "Theirs" not in html


def test_sort_by_change_keeps_unpriced_rows_last(signed_in, user, kite):
    import time
    from decimal import Decimal

    from marketdata import live
    from marketdata.models import Instrument

    watchlist = new_list(user, "Sorted", "NSE:SBIN", "NSE:INFY", "NSE:M&M")
    for symbol, price, close in (("SBIN", "790", "800"), ("INFY", "1530", "1500")):
        instrument = Instrument.objects.get(broker="zerodha", exchange="NSE", trading_symbol=symbol)
        live.store(instrument, price=Decimal(price), close=Decimal(close), at=time.time())
    url = reverse("watchlists:detail", args=[watchlist.pk])

    def symbols(sort):
        html = signed_in.get(url, {"account": kite.pk, "sort": sort}).content.decode()
        names = ("M&amp;M", "INFY", "SBIN")
        return sorted(names, key=lambda s: html.index(f'data-symbol="{s}"'))

    assert symbols("-change_pct") == ["INFY", "SBIN", "M&amp;M"]
    assert symbols("change_pct") == ["SBIN", "INFY", "M&amp;M"]
    assert symbols("") == ["SBIN", "INFY", "M&amp;M"]
    html = signed_in.get(url, {"account": kite.pk}).content.decode()
    assert "+2.00%" in html and "-1.25%" in html  # change % from the previous close


def test_admin_lists_watchlists(client, make_user, kite, user):
    admin = make_user("root", superuser=True)
    new_list(user, "Banks", "NSE:SBIN")
    client.force_login(admin)
    assert client.get("/admin/watchlists/watchlist/").status_code == 200
    watchlist = Watchlist.objects.get(name="Banks")
    page = client.get(f"/admin/watchlists/watchlist/{watchlist.pk}/change/")
    assert page.status_code == 200 and "SBIN" in page.content.decode()


def test_add_with_a_note_and_the_note_shows(signed_in, user, kite):
    watchlist = new_list(user)
    url = reverse("watchlists:add", args=[watchlist.pk])
    response = signed_in.post(
        url, {"symbol": "NSE:SBIN", "note": "breakout \x00 watch", "account": kite.pk}
    )
    assert response.status_code == 200
    assert watchlist.members.get().note == "breakout  watch"  # control characters dropped
    assert "breakout  watch" in response.content.decode()


def test_an_account_without_instruments_says_connect_not_not_at_this_broker(
    signed_in, user, make_account
):
    from decimal import Decimal

    from watchlists import baskets

    account = make_account(user, "angelone", "Family")  # never connected: nothing loaded
    watchlist = new_list(user, "Core", "NSE:SBIN", "NSE:INFY", kind=Watchlist.Kind.BASKET)
    url = reverse("watchlists:detail", args=[watchlist.pk])
    html = signed_in.get(url, {"account": account.pk}).content.decode()
    assert "Not at" not in html
    assert html.count("Connect AngelOne · Family to load its instruments.") >= 2
    assert "Reference prices frozen" not in html
    plan = baskets.preview(
        watchlist=watchlist, account=account, funds=Decimal("1000"), mode="EQUAL"
    )
    assert {leg.problem for leg in plan.legs} == {
        "Connect AngelOne · Family to load its instruments."
    }
    response = signed_in.post(
        reverse("watchlists:basket", args=[watchlist.pk]),
        {
            "account": account.pk,
            "action": "freeze",
            "product": "CNC",
            "order_type": "LIMIT",
            "buffer_pct": "0.5",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 422 and "to load its instruments" in html
    watchlist.refresh_from_db()
    assert watchlist.frozen_at is None
    # A list frozen once with no price kept says nothing about frozen prices.
    from django.utils import timezone

    Watchlist.objects.filter(pk=watchlist.pk).update(frozen_at=timezone.now())
    html = signed_in.get(url, {"account": account.pk}).content.decode()
    assert "Reference prices frozen" not in html


def test_a_member_is_not_said_unavailable_while_the_list_is_loading(signed_in, user, kite):
    from django.core.cache import cache

    from marketdata import readiness

    watchlist = new_list(user, "Mixed", "NSE:SBIN", "NSE:NEWLISTING")
    url = reverse("watchlists:detail", args=[watchlist.pk])
    settled = signed_in.get(url, {"account": kite.pk}).content.decode()
    assert "Not at Zerodha" in settled  # loaded and settled: it lacks the symbol
    readiness.started("zerodha")  # a refresh under way: its rows may be partly in
    try:
        html = signed_in.get(url, {"account": kite.pk}).content.decode()
    finally:
        cache.delete(readiness._progress_key("zerodha"))
    assert "Not at Zerodha" not in html and "not available at" not in html
    assert "Zerodha instruments are loading" in html


def test_a_move_posted_while_sorted_is_refused_and_the_sort_kept(signed_in, user, kite):
    watchlist = new_list(user, "Banks", "NSE:SBIN", "NSE:INFY")
    sbin = watchlist.members.get(symbol="SBIN")
    url = reverse("watchlists:move", args=[watchlist.pk, sbin.pk])
    response = signed_in.post(url, {"to": "down", "sort": "symbol"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "The list is sorted: set Sort to “List order” to move symbols." in (
        response.content.decode()
    )
    assert order(watchlist) == ["NSE:SBIN", "NSE:INFY"]
    plain = signed_in.post(
        reverse("watchlists:remove", args=[watchlist.pk, sbin.pk]),
        {"account": kite.pk, "sort": "symbol"},
    )
    assert plain["Location"].endswith(f"?account={kite.pk}&sort=symbol")


def test_an_index_row_is_watched_not_traded(signed_in, user, kite):
    watchlist = Watchlist.objects.create(user=user, name="Indices")
    Member.objects.create(watchlist=watchlist, exchange="NSE", symbol="NIFTY 50", position=0)
    Member.objects.create(watchlist=watchlist, exchange="NSE", symbol="SBIN", position=1)
    html = signed_in.get(
        reverse("watchlists:detail", args=[watchlist.pk]), {"account": kite.pk}
    ).content.decode()
    assert html.count(">Index</small>") == 1
    assert "symbol=NSE%3ASBIN&amp;side=BUY" in html
    assert "symbol=NSE%3ANIFTY+50" not in html  # no Buy/Sell for the index
