"""Is this broker row the same order as ours?

A broker order id is only unique within the broker's memory: an emulator that
restarted empty (or a broker that recycles ids) can hand an old order's id to
a new, unrelated order. Before sync applies a broker row to an order it checks
the row is that order: by client tag where the broker returns one, otherwise
by instrument, side and quantity.
"""

from __future__ import annotations

from brokers.base import BrokerOrder

from .models import Order


def _our_symbol(order: Order) -> tuple[str, str, str]:
    """(exchange, broker symbol, token) the order was sent with."""
    if order.instrument is not None:
        inst = order.instrument
        return inst.exchange, inst.trading_symbol, inst.token
    symbol = order.symbol.strip()
    exchange, _, name = symbol.rpartition(":")
    return (order.exchange or exchange), name, ""


def mismatch(order: Order, remote: BrokerOrder) -> str:
    """Why `remote` is not `order` ("" when it is)."""
    # A broker GTT placed the order: our client tag never reached the broker.
    tag_sent = not order.gtt_id
    if tag_sent and remote.tag:
        if remote.tag != order.client_tag:
            return f"it carries tag {remote.tag}, this order's is {order.client_tag}"
        return ""
    problems = []
    exchange, symbol, token = _our_symbol(order)
    theirs = remote.instrument
    if exchange and theirs.exchange and exchange.upper() != theirs.exchange.upper():
        problems.append(f"exchange {theirs.exchange}, not {exchange}")
    if token and theirs.token:
        if token != theirs.token:
            problems.append(f"instrument {theirs.symbol or theirs.token}, not {symbol}")
    elif symbol and theirs.symbol and symbol.upper() != theirs.symbol.upper():
        problems.append(f"instrument {theirs.symbol}, not {symbol}")
    if str(remote.side) != order.side:
        problems.append(f"side {remote.side}, not {order.side}")
    if remote.quantity != order.quantity:
        problems.append(f"quantity {remote.quantity}, not {order.quantity}")
    return "; ".join(problems)
