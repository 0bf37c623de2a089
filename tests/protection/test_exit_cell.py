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


def filled_at_800(account, peer, capture, **plan):
    """A MARKET BUY of 10 SBIN with `plan`, filled at 800 and seen by the order sync."""
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, **plan))
    sync(account, capture)
    return order


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
    order = filled_at_800(
        account, peer, django_capture_on_commit_callbacks, stop_loss="900"
    )  # a MARKET BUY: the stop above the fill
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
    order = filled_at_800(account, peer, django_capture_on_commit_callbacks, stop_loss="2%")
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
    order = filled_at_800(
        account, peer, django_capture_on_commit_callbacks, stop_loss="2%", target="3%"
    )
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


FOUR_DECIMALS = r"\d\.\d{3,}"


def texts(order) -> list[str]:
    """Every protection line said of an entry and its legs: the plan's note, each order's
    history and status message, the events."""
    import re

    from orders.models import Order, OrderEvent
    from sigmatrader.models import SystemEvent

    ids = [order.pk, *Order.objects.filter(protects=order).values_list("pk", flat=True)]
    lines = [ExitPlan.objects.get(entry=order).note]
    lines += list(OrderEvent.objects.filter(order_id__in=ids).values_list("message", flat=True))
    lines += list(Order.objects.filter(pk__in=ids).values_list("status_message", flat=True))
    lines += list(SystemEvent.objects.values_list("message", flat=True))
    return [line for line in lines if re.search(FOUR_DECIMALS, line)]


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_every_price_in_protection_texts_is_money(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from orders.models import OrderEvent
    from protection.exits import trailing
    from tests.protection.helpers import by_condition, triggers

    account, peer = trading
    order = filled_at_800(
        account,
        peer,
        django_capture_on_commit_callbacks,
        stop_loss="2%",
        target="10%",
        trailing_stop="1%",
    )
    stop = by_condition(order)["ltp_lte"]
    assert "sends when LTP at or below ₹784.00." in stop.status_message
    assert OrderEvent.objects.filter(
        order=stop, message=f"Stop-loss exit of order #{order.pk} at ₹784.00 (on the fill)"
    ).exists()
    assert OrderEvent.objects.filter(
        order=order, message__contains="10 filled at ₹800.00; arming stop ₹784.00, target ₹880.00"
    ).exists()
    assert trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850.35"))
    note = ExitPlan.objects.get(entry=order).note
    assert note == "Trailing: stop ₹841.80 (best ₹850.35)."
    if not stop.gtt_id:  # managed: the stop fires here and its exit fills
        peer.server.state.market.set_price("NSE", "SBIN", "841.55")
        triggers(django_capture_on_commit_callbacks)
        sync(account, django_capture_on_commit_callbacks)
        note = ExitPlan.objects.get(entry=order).note
        assert note.startswith("Stop-loss exit #") and "filled 10 at ₹841.55" in note
    assert texts(order) == []


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_an_armed_gtt_says_where_it_lives_in_the_words_of_the_orders_page(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from tests.protection.helpers import by_condition

    account, peer = trading
    order = filled_at_800(account, peer, django_capture_on_commit_callbacks, stop_loss="2%")
    stop = by_condition(order)["ltp_lte"]
    if stop.gtt_id:
        assert stop.status_message == (
            f"Held at {account.display_name} as GTT {stop.gtt_id}: "
            "sends when LTP at or below ₹784.00."
        )
    else:
        assert stop.status_message == (
            "Managed by SigmaTrader (needs the app running): sends when LTP at or below ₹784.00."
        )
    assert "Armed here" not in stop.status_message and "managed GTT" not in stop.status_message


def test_a_price_is_money_on_its_tick():
    from sigmatrader.formatting import inr_tick

    assert inr_tick(D("796.1500"), D("0.05")) == "₹796.15"
    assert inr_tick(D("1091.25"), None) == "₹1,091.25"
    assert inr_tick(D("83.2525"), D("0.0025")) == "₹83.2525"
    assert inr_tick(None, D("0.05")) == ""
