"""The protection pages: errors at the field, typed confirmations, the user's own only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import TradingHalt
from protection.models import LossLimit

pytestmark = pytest.mark.django_db


def test_limit_form_errors_at_the_field_then_saved(client, desk):
    account, _, _ = desk
    client.force_login(account.user)
    url = reverse("protection:save-limit")
    base = {
        "scope": str(account.pk),
        "enabled": "on",
        "loss_kind": "percent",
        "escalation": "2",
        "unknown_pnl": "halt",
        "webhook_policy": "queue",
    }
    for bad, message in (
        ({"max_loss": "abc"}, "Enter a number."),
        ({"max_loss": "0"}, "more than 0"),
        ({"max_loss": "150"}, "at most 100"),
        ({"max_loss": "", "profit_target": ""}, "Set a max loss or a profit target"),
    ):
        response = client.post(url, {**base, **bad})
        assert response.status_code == 422
        page = response.content.decode()
        field = page[page.index('class="field field-max_loss') :][:900]
        assert message in field, (bad, field)
    assert not LossLimit.objects.exists()
    response = client.post(url, {**base, "max_loss": "2.5", "profit_target": "5000"})
    assert response.status_code == 302
    limit = LossLimit.objects.get()
    assert (limit.account, limit.max_loss, limit.loss_kind) == (account, Decimal("2.5"), "percent")
    # Saved again for the same scope: the one limit is changed, not a second made.
    client.post(url, {**base, "max_loss": "3"})
    assert LossLimit.objects.get().max_loss == Decimal("3")
    page = client.get(reverse("settings")).content.decode()
    assert "Daily loss limit and profit target" in page and "3.00%" in page
    # A limit with only a profit target is said as one (the final check's wording finding).
    client.post(url, {**base, "max_loss": "", "profit_target": "500"})
    page = client.get(reverse("settings")).content.decode()
    assert f"Profit target for {account.display_name} saved" in page


def test_another_users_account_or_halt_is_not_found(client, desk, other_user):
    account, _, _ = desk
    client.force_login(other_user)
    response = client.post(
        reverse("protection:save-limit"), {"scope": str(account.pk), "max_loss": "100"}
    )
    assert response.status_code == 422 and not LossLimit.objects.exists()
    response = client.post(
        reverse("protection:kill-switch"), {"scope": str(account.pk), "typed": "Zerodha · main"}
    )
    assert response.status_code == 422 and not TradingHalt.objects.exists()
    client.force_login(account.user)
    client.post(reverse("protection:kill-switch"), {"scope": "all", "typed": "ALL"})
    halt = TradingHalt.objects.get()
    client.force_login(other_user)
    response = client.post(reverse("protection:release", args=[halt.pk]), {"typed": "RELEASE"})
    assert response.status_code == 404
    halt.refresh_from_db()
    assert halt.released_at is None


def test_kill_switch_page_needs_the_typed_name(client, desk):
    account, _, _ = desk
    client.force_login(account.user)
    url = reverse("protection:kill-switch")
    assert "Stop trading now" in client.get(url).content.decode()
    response = client.post(url, {"scope": "all", "typed": "all"})
    assert response.status_code == 422 and "Type ALL exactly" in response.content.decode()
    assert not TradingHalt.objects.exists()
    response = client.post(url, {"scope": "all", "typed": "ALL"})
    assert response.status_code == 302
    page = client.get(reverse("dashboard")).content.decode()
    assert "Trading halted — All accounts" in page


def test_edit_link_fills_the_form_with_that_limit(client, desk):
    account, _, _ = desk
    LossLimit.objects.create(user=account.user, account=None, max_loss=Decimal("900"))
    mine = LossLimit.objects.create(user=account.user, account=account, max_loss=Decimal("250"))
    client.force_login(account.user)
    page = client.get(reverse("settings")).content.decode()
    assert 'value="900.00"' in page
    page = client.get(reverse("settings") + f"?limit={mine.pk}").content.decode()
    assert 'value="250.00"' in page
    assert f'<option value="{account.pk}" selected>' in page


def test_live_banner_and_card_follow_the_halt(client, desk, django_assert_max_num_queries):
    account, _, _ = desk
    LossLimit.objects.create(user=account.user, account=account, max_loss=Decimal("500"))
    client.force_login(account.user)
    htmx = {"HX-Request": "true"}
    banner = client.get(reverse("live-halts"), headers=htmx).content.decode()
    assert "Trading halted" not in banner
    client.post(reverse("protection:kill-switch"), {"scope": "all", "typed": "ALL"})
    with django_assert_max_num_queries(6):
        banner = client.get(reverse("live-halts"), headers=htmx).content.decode()
    assert "Trading halted — All accounts" in banner
    card = client.get(reverse("live-day-pnl"), headers=htmx).content.decode()
    assert 'id="day-pnl-limits"' in card and "Halted" in card


def test_dashboard_shows_each_accounts_pnl_under_an_all_accounts_limit(client, desk, settings):
    from protection import limits

    account, peer, _ = desk
    settings.PROTECTION_MIN_SYNC_SECONDS = 0
    LossLimit.objects.create(user=account.user, max_loss=Decimal("1000"))
    peer.server.state.market.set_price("NSE", "SBIN", "570")
    limits.evaluate_limits()
    client.force_login(account.user)
    page = client.get(reverse("dashboard")).content.decode()
    card = page[page.index('id="day-pnl-limits"') :]
    assert "All accounts" in card and "Zerodha · main" in card
    assert card.count("-₹300.00") == 2  # the total, and the account's own line
    assert "30%" in card  # of the ₹1,000 limit used


def test_the_halts_page_says_what_each_step_found_even_nothing(client, desk):
    """The review: a halt that escalated to square-off listed only 'Block new entries',
    with nothing saying the cancel and square-off steps ran and found nothing."""
    from tests.protection.helpers import halt_now

    account, _, _ = desk
    halt_now(account, escalation=LossLimit.Escalation.SQUARE_OFF)
    client.force_login(account.user)
    page = client.get(reverse("protection:halts")).content.decode()
    muted = '<span class="muted">none were open at the trip'
    assert f"Cancel open and queued entries: {muted}" in page
    assert "Square off intraday positions: 1 listed below" in page  # the SBIN MIS position
    assert "Pause AUTO strategies" not in page.split('class="halt-steps"')[1].split("</ul>")[0]
    assert "the list can grow" in page
    # The second review (L7): it must not promise to cancel entries queued after the trip.
    assert "Entries queued after the trip are not cancelled" in page


def test_the_urls_forms_post_to_answer_a_get_with_their_page_not_405(client, desk):
    """The review: after an error the URL was the POST-only one; reload or Enter gave 405."""
    from django.urls import reverse

    from protection import halts

    account, _, _ = desk
    client.force_login(account.user)
    response = client.get(reverse("protection:save-limit"))
    assert response.status_code == 302 and response["Location"] == "/settings/#risk-limits"
    halt = halts.kill_switch(user=account.user, account=account, typed="main", actor="alice")
    response = client.get(reverse("protection:release", args=[halt.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/protection/halts/#halt-{halt.pk}"


def test_retry_button_retries_what_failed_even_given_up_and_only_then_shows(client, desk, settings):
    """The retry button showed with nothing failed, and pressed after the watch gave up
    it tried nothing ("0 action(s) tried again") although the card said to act."""
    from protection import halts
    from protection.models import HaltAction

    account, peer, _ = desk
    client.force_login(account.user)
    page_url = reverse("protection:halts")
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    halt = halts.kill_switch(user=account.user, account=None, typed="ALL", actor="alice")
    square = HaltAction.objects.get(halt=halt, kind="square_off")
    for _ in range(halts.MAX_ATTEMPTS):
        halts.retry_actions()
    square.refresh_from_db()
    assert square.state == "gave_up"
    assert "Retry failed actions now (1)" in client.get(page_url).content.decode()

    settings.MARKET_CLOCK = "always-open"
    response = client.post(reverse("protection:retry", args=[halt.pk]), follow=True)
    square.refresh_from_db()
    assert square.state == "done"
    sells = [o for o in peer.user.book.orders.values() if o.side == "SELL" and o.symbol == "SBIN"]
    assert len(sells) == 1  # sent once
    page = response.content.decode()
    assert "1 action tried again: 1 done." in page
    assert "Retry failed actions now" not in page  # nothing left to retry

    halts.release(user=account.user, halt=halt, typed="RELEASE", actor="alice")
    response = client.post(reverse("protection:retry", args=[halt.pk]), follow=True)
    assert "was released: nothing to retry" in response.content.decode()


def test_each_halt_banner_counts_its_own_failures(client, desk):
    """Review 8: every banner said "1 action(s) failed: retrying." when one action of one
    halt had failed — and even when that action had been given up, not retrying."""
    from protection.models import HaltAction
    from tests.protection.helpers import halt_now

    account, _, _ = desk
    client.force_login(account.user)
    own = halt_now(account)
    every = halt_now(account, all_accounts=True)
    for state in ("failed", "gave_up", "gave_up"):
        HaltAction.objects.create(
            halt=own,
            kind="cancel",
            target=f"order:{state}{HaltAction.objects.count()}",
            state=state,
        )
    banner = client.get(reverse("live-halts"), headers={"HX-Request": "true"}).content.decode()
    mine = banner.split(f'data-halt="{own.pk}"')[1].split("</details>")[0]
    assert "1 action failed: retrying." in mine
    assert "2 actions gave up: act on them yourself." in mine
    others = banner.split(f'data-halt="{every.pk}"')[1].split("</details>")[0]
    assert "failed" not in others and "gave up" not in others
