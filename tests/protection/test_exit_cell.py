"""What the Orders page says of an entry's protection and of its legs (review 5 of issue 18):
the badge tells the truth of the position, a change to a refused plan is seen at once, a
leg's row leads with its trigger, and a leg's status detail is readable and current."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from orders.models import ExitPlan
from protection.exits import sweep
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import entry, legs, send, sync

HX = {"HX-Request": "true"}


def badge(body: str, order) -> str:
    """The exit cell's badge: its classes and its text."""
    cell = body.split(f'id="exit-plan-{order.pk}"', 1)[1]
    tag = cell.split('<span class="badge exit-state-', 1)[1]
    classes, text = tag.split('">', 1)
    return f"{classes.strip()}|{text.split('</span>', 1)[0]}"


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_a_refused_plan_says_not_protected_and_a_change_is_seen_until_armed(
    trading,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    client.force_login(account.user)
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="900"))  # a MARKET BUY: the stop above the fill
    sync(account, django_capture_on_commit_callbacks)
    assert ExitPlan.objects.get(entry=order).note.startswith("NOT protected")
    body = client.get(reverse("orders:orders")).content.decode()
    assert badge(body, order) == "waiting badge-error|Not protected"
    assert "Waiting for the fill" not in body

    changed = client.post(
        reverse("protection:change", args=[order.pk]), {"stop_loss": "780"}, headers=HX
    ).content.decode()
    assert "Changed — arming at the next check (within 15 s)." in changed
    assert "NOT protected" not in changed
    assert badge(changed, order) == "waiting badge-warning|Not protected yet"

    sweep.sweep()
    (stop,) = legs(order)
    assert stop.status == "ARMED" and stop.trigger_value == D("780")
    body = client.get(reverse("orders:orders")).content.decode()
    assert badge(body, order) == "active|Protecting"
    assert "Changed — arming" not in body


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_a_change_never_hides_an_arming_that_happened_meanwhile(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from protection.exits import plan_state

    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%"))
    sync(account, django_capture_on_commit_callbacks)
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "active" and plan.note.startswith("Armed for 10")
    plan_state.plan_changed(entry=order)
    assert ExitPlan.objects.get(entry=order).note == plan.note


def status_box(body: str, order) -> str:
    return body.split(f'id="status-{order.pk}"', 1)[1].split("</div>", 1)[0]


def price_cell(body: str, order) -> str:
    return body.split(f'id="price-{order.pk}"', 1)[1].split("avg", 1)[0]


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_a_legs_row_leads_with_its_trigger_and_says_its_state_in_full(
    trading,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    from django.utils import timezone

    from orders.models import Order
    from tests.protection.helpers import by_condition, triggers

    account, peer = trading
    client.force_login(account.user)
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    stop, target = by_condition(order)["ltp_lte"], by_condition(order)["ltp_gte"]
    body = client.get(reverse("orders:orders")).content.decode()
    native = bool(stop.gtt_id)
    # The entry's cell says "Stop ₹784.00"; the leg's row leads with the same figure.
    assert 'Stop <strong class="exit-stop">₹784.00</strong>' in body
    shown = price_cell(body, stop)
    assert '<span class="leg-figure">Stop ₹784.00</span>' in shown
    assert ("→ limit ₹776.15" if native else "→ market") in shown
    assert '<span class="leg-figure">Target ₹824.00</span>' in price_cell(body, target)
    # The armed leg's state is said in full, not folded behind a click.
    box = status_box(body, stop)
    assert "Armed" in box and stop.status_message in box
    assert 'class="reason' in box and "<details" not in box
    if native:
        return
    # An expired managed leg keeps no "armed … sends when" detail.
    Order.objects.filter(pk__in=[stop.pk, target.pk]).update(expires_at=timezone.now())
    triggers(django_capture_on_commit_callbacks)
    stop.refresh_from_db()
    assert stop.status == "EXPIRED"
    box = status_box(client.get(reverse("orders:orders")).content.decode(), stop)
    assert "Expired" in box and stop.status_message not in box
