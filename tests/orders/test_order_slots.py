"""AUTO orders take their account's order slot before the claim: a full window
defers that account's order (the worker is free for other accounts), and the
reserved slot is the one the placement uses. Exactly once throughout."""

import threading

import pytest
from django.db import connections

from brokers import ratelimit
from brokers.base import EndpointClass
from orders.models import Order
from orders.tasks import execute_order
from tests.brokers.peers import connected_account
from tests.orders.test_order_lifecycle import new, placed, trading  # noqa: F401 (fixture)


@pytest.fixture
def frozen_windows(monkeypatch):
    """Every rate-limit window sees one instant; a wait moves it on."""
    now = [1_900_000_000.25]  # a quarter of a second into a window

    def sleep(seconds):
        now[0] += seconds

    monkeypatch.setattr(ratelimit, "_now", lambda: now[0])
    monkeypatch.setattr(ratelimit, "_sleep", sleep)
    return now


@pytest.fixture
def requeued(monkeypatch):
    """What the task hands back to the queue (the queue itself is tested elsewhere)."""
    calls = []
    monkeypatch.setattr(
        execute_order, "apply_async", lambda args, countdown: calls.append((args, countdown))
    )
    return calls


def fill_order_window(account, leave: int = 0) -> None:
    adapter = account.adapter_class
    limits = adapter.capabilities.rate_limits[EndpointClass.ORDERS]
    scope = ratelimit.scope_for(adapter.name, str(account.pk))
    for _ in range(min(limit.requests for limit in limits) - leave):
        assert ratelimit.reserve(scope=scope, endpoint=EndpointClass.ORDERS, limits=limits) == 0


def test_a_full_account_defers_without_claiming_while_another_account_goes_on(
    trading,  # noqa: F811
    emulator,
    user,
    frozen_windows,
    requeued,
):
    busy, peer = trading
    free, free_peer = connected_account(emulator, user, busy.broker, "second")
    fill_order_window(busy)
    waiting, other = new(busy), new(free)
    before = placed(peer)

    result = execute_order.run(waiting.pk)

    waiting.refresh_from_db()
    assert result.startswith("deferred") and waiting.status == Order.Status.WAITING
    assert not waiting.events.filter(to_status=Order.Status.SENDING).exists()
    assert requeued == [((waiting.pk,), pytest.approx(0.75))]  # when the window rolls over
    assert execute_order.run(other.pk) == Order.Status.SENT  # the other account is not held
    assert placed(peer) == before + 1  # (same emulator: the other account's one order)

    frozen_windows[0] += 0.75  # the queue hands the deferred message back
    assert execute_order.run(waiting.pk) == Order.Status.SENT
    assert "sent only once" in execute_order.run(waiting.pk)  # a redelivery
    assert placed(peer) == before + 2


def test_the_reserved_slot_is_the_one_the_placement_uses(trading, frozen_windows, requeued):  # noqa: F811
    account, peer = trading
    fill_order_window(account, leave=1)  # exactly one slot left in this window
    order = new(account)
    before = placed(peer)
    assert execute_order.run(order.pk) == Order.Status.SENT
    assert placed(peer) == before + 1 and requeued == []
    # Not a second slot: the window is now exactly full, the next order waits for the next.
    assert execute_order.run(new(account).pk).startswith("deferred")


@pytest.mark.django_db(transaction=True)
def test_concurrent_redeliveries_across_accounts_place_each_order_once(trading, emulator, user):  # noqa: F811
    account, peer = trading
    second, _ = connected_account(emulator, user, account.broker, "second")
    orders = [new(a, quantity=1) for a in (account, second) for _ in range(4)]
    before = placed(peer)
    results = []

    def deliver(pk):
        try:
            results.append(execute_order.run(pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(o.pk,)) for o in orders for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(Order.Status.SENT) == len(orders)
    assert placed(peer) == before + len(orders)
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.SENT
        assert order.events.filter(to_status=Order.Status.SENDING).count() == 1


def test_a_full_long_window_fails_the_order_as_before_instead_of_holding_it(
    trading,  # noqa: F811
    frozen_windows,
    requeued,
):
    """Per-minute (and longer) windows: no deferral for that long; refused, said why."""
    account, peer = trading
    adapter = account.adapter_class
    limits = adapter.capabilities.rate_limits[EndpointClass.ORDERS]
    scope = ratelimit.scope_for(adapter.name, str(account.pk))
    while True:  # fill the per-minute window, moving through the per-second ones
        wait = ratelimit.reserve(scope=scope, endpoint=EndpointClass.ORDERS, limits=limits)
        if wait > 1:
            break
        frozen_windows[0] += wait
    order = new(account)
    before = placed(peer)
    assert execute_order.run(order.pk) == Order.Status.FAILED
    order.refresh_from_db()
    assert "Rate limit reached" in order.status_message
    assert placed(peer) == before and requeued == []
