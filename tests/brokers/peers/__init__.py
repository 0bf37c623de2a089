"""Test peers, one module per broker, found by the adapter's `name`.

tests/brokers/peers/<name>.py defines PEER, a subclass of base.Peer, for the adapter
registered as <name>. A new broker adds its peer module (and its adapter to settings);
the conformance suite (tests/brokers/test_adapter_conformance.py) and every helper
here then run against it with no other edit.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import Peer

__all__ = ["Peer", "connected_account", "has_peer", "new_peer", "peer_class"]


def has_peer(broker: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{broker}") is not None


def peer_class(broker: str) -> type[Peer]:
    """The peer of the adapter named `broker`."""
    cls = importlib.import_module(f"{__name__}.{broker}").PEER
    assert cls.broker == broker, f"{__name__}.{broker}.PEER is the peer of {cls.broker!r}"
    return cls


def new_peer(broker: str, server, **options) -> Peer:
    """A fresh peer of the adapter named `broker`, with its own user on `server`."""
    return peer_class(broker).make(server, **options)


def connected_account(emulator, user, broker, label, default=False):
    """A connected account of `broker` for `user` on the emulator, and its peer."""
    from brokers import accounts

    peer = new_peer(broker, emulator)
    account = accounts.create_account(
        user=user, broker=broker, label=label, credentials=peer.credentials
    )
    peer.connect_account(account)
    if default:
        type(account).objects.filter(pk=account.pk).update(is_default=True)
    account.refresh_from_db()
    return account, peer
