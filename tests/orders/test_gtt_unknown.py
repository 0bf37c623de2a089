"""A native GTT armed without a clear answer: a GTT carries no client tag and
never appears in the order book, so the account's GTT list decides. Found →
ARMED with the broker's GTT (never a second one); absent after the grace →
FAILED, safe to send again; until then never resent."""

from decimal import Decimal

import pytest

from brokers.base import OutcomeUnknown
from brokers.connections import calling
from emulator import Fault
from orders import actions
from orders.conditional import link_oco
from orders.execution import NotExecutable, execute
from orders.models import Order
from orders.sync import order_sync_account
from orders.triggers import check_conditional_orders
from tests.orders.test_gtt import NATIVE, gtt, holding  # noqa: F401 (fixture)
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (fixture)


def gtts(peer):
    return list(peer.user.book.gtts.values())


@NATIVE
def test_armed_but_the_answer_lost_is_found_in_the_gtt_list_not_armed_twice(holding):  # noqa: F811
    account, peer = holding
    peer.server.state.inject(peer.wire, "gtt", Fault("drop_after_accept", seconds=2.5))
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("779")), actor="alice")
    assert order.status == "UNKNOWN" and not order.gtt_id
    assert "GTT list" in order.status_message
    assert len(gtts(peer)) == 1  # the broker armed it
    with pytest.raises(NotExecutable):
        execute(order=order, actor="alice")
    order_sync_account(account)  # grace 0: decided now
    order.refresh_from_db()
    assert order.status == "ARMED" and order.gtt_id == str(gtts(peer)[0]["id"])
    with pytest.raises(NotExecutable):
        execute(order=order, actor="alice")
    assert len(gtts(peer)) == 1
    assert order.events.filter(kind="sync", to_status="ARMED").exists()


@NATIVE
def test_oco_armed_but_the_answer_lost_arms_both_legs_with_the_one_gtt(holding):  # noqa: F811
    account, peer = holding
    stop = gtt(account, "ltp_lte", "700", price=Decimal("699"))
    target = gtt(account, "ltp_gte", "900", price=Decimal("899"))
    link_oco(stop, target)
    peer.server.state.inject(peer.wire, "gtt", Fault("drop_after_accept", seconds=2.5))
    execute(order=target, actor="alice")
    stop.refresh_from_db()
    target.refresh_from_db()
    assert stop.status == target.status == "UNKNOWN"  # the sibling is never sent alone
    with pytest.raises(NotExecutable):
        execute(order=stop, actor="alice")
    order_sync_account(account)
    stop.refresh_from_db()
    target.refresh_from_db()
    assert len(gtts(peer)) == 1
    assert stop.status == target.status == "ARMED"
    assert stop.gtt_id == target.gtt_id == str(gtts(peer)[0]["id"])


@NATIVE
def test_no_answer_and_not_armed_fails_safe_to_send_again_after_the_grace(holding, settings):  # noqa: F811
    account, peer = holding
    peer.server.state.inject(peer.wire, "gtt", Fault("timeout", seconds=2.5))
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("779")), actor="alice")
    assert order.status == "UNKNOWN" and not gtts(peer)
    settings.ORDER_RECONCILE_GRACE_SECONDS = 600
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "UNKNOWN"  # within the grace: wait, never resend
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "FAILED"
    assert "GTT list" in order.status_message and "Safe to send again" in order.status_message
    order = execute(order=order, actor="alice")
    assert order.status == "ARMED" and len(gtts(peer)) == 1


@NATIVE
def test_two_identical_unknown_gtts_do_not_claim_the_same_broker_gtt(holding):  # noqa: F811
    account, peer = holding
    first = gtt(account, "ltp_lte", "780", price=Decimal("779"))
    second = gtt(account, "ltp_lte", "780", price=Decimal("779"))
    peer.server.state.inject(peer.wire, "gtt", Fault("drop_after_accept", seconds=2.5))
    assert execute(order=first, actor="alice").status == "UNKNOWN"
    peer.server.state.inject(peer.wire, "gtt", Fault("timeout", seconds=2.5))
    assert execute(order=second, actor="alice").status == "UNKNOWN"
    assert len(gtts(peer)) == 1
    order_sync_account(account)
    first.refresh_from_db()
    second.refresh_from_db()
    assert sorted([first.status, second.status]) == ["ARMED", "FAILED"]
    assert [o.gtt_id for o in (first, second) if o.gtt_id] == [str(gtts(peer)[0]["id"])]
    # A GTT already linked to an order is never claimed by another.
    Order.objects.filter(pk__in=[first.pk, second.pk]).update(status="UNKNOWN", gtt_id="")
    Order.objects.filter(pk=first.pk).update(status="ARMED", gtt_id=str(gtts(peer)[0]["id"]))
    order_sync_account(account)
    second.refresh_from_db()
    assert second.status == "FAILED" and not second.gtt_id


@NATIVE
@pytest.mark.parametrize("kind", ["drop_after_accept", "timeout"])
def test_gtt_cancel_without_a_clear_answer_says_so_and_the_gtt_sync_decides(holding, kind):  # noqa: F811
    account, peer = holding
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("779")), actor="alice")
    other = execute(order=gtt(account, "ltp_lte", "760", price=Decimal("759")), actor="alice")
    assert order.status == other.status == "ARMED"
    peer.server.state.inject(peer.wire, "gtt", Fault(kind, seconds=2.5))
    with calling(account) as adapter, pytest.raises(OutcomeUnknown):
        adapter.cancel_gtt(other.gtt_id)  # a write: never "nothing was changed"
    peer.server.state.inject(peer.wire, "gtt", Fault(kind, seconds=2.5))
    with pytest.raises(actions.ActionRefused, match="GTT sync will show"):
        actions.cancel(order=order, actor="alice")
    order.refresh_from_db()
    assert order.status == "ARMED"  # not cancelled here on a guess
    assert order.events.filter(message__contains="not confirmed").exists()
    deleted = peer.user.book.gtts[int(order.gtt_id)]["status"] == "deleted"
    assert deleted == (kind == "drop_after_accept")
    check_conditional_orders()  # the GTT sync shows what the broker did
    order.refresh_from_db()
    assert order.status == ("CANCELLED" if deleted else "ARMED")


@NATIVE
def test_two_identical_gtts_both_armed_without_an_answer_get_one_broker_gtt_each(holding):  # noqa: F811
    account, peer = holding
    orders = [gtt(account, "ltp_lte", "780", price=Decimal("779")) for _ in range(2)]
    for order in orders:
        peer.server.state.inject(peer.wire, "gtt", Fault("drop_after_accept", seconds=2.5))
        assert execute(order=order, actor="alice").status == "UNKNOWN"
    assert len(gtts(peer)) == 2
    order_sync_account(account)
    for order in orders:
        order.refresh_from_db()
    assert [o.status for o in orders] == ["ARMED", "ARMED"]
    assert {o.gtt_id for o in orders} == {str(g["id"]) for g in gtts(peer)}


@NATIVE
def test_armed_without_an_answer_and_fired_within_the_grace_is_followed_never_resent(holding):  # noqa: F811
    """The GTT fired before the sync looked: it is no longer active, but it is ours,
    and the order it placed is followed (never 'safe to send again')."""
    account, peer = holding
    peer.server.state.inject(peer.wire, "gtt", Fault("drop_after_accept", seconds=2.5))
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("779")), actor="alice")
    assert order.status == "UNKNOWN" and len(gtts(peer)) == 1
    peer.server.state.market.set_price("NSE", "SBIN", "780")  # it fires at the broker
    with calling(account) as adapter:  # the emulator fires GTTs as it is asked for them
        assert [g.status for g in adapter.list_gtts()] == ["triggered"]
    order_sync_account(account)  # grace 0
    order.refresh_from_db()
    assert order.status == "ARMED" and order.gtt_id == str(gtts(peer)[0]["id"])
    check_conditional_orders()
    order.refresh_from_db()
    assert order.status not in ("FAILED", "UNKNOWN", "ARMED")  # its fired order is followed
    assert order.broker_order_id
    assert len(gtts(peer)) == 1
