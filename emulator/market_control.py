"""The emulated market's control page, for the demo: move a price, hold it or let
it drift again, open or close the market. Not part of any broker's API.

`GET /_market` shows a form (the demo's README links it); `POST /_market/price`
takes `symbol`, `price`, optional `exchange` (NSE) and `hold` (on: the price
stays where it is put; off: it drifts from there), so a trader can walk a price
through a stop or a target and watch the protection fire. After a move, active
GTTs are checked at once, as the broker's engine would on the next tick.

    curl -d symbol=SBIN -d price=790 http://127.0.0.1:8001/_market/price
"""

from __future__ import annotations

import html
import sys
from decimal import Decimal, InvalidOperation
from string import Template

from .http import Request, Response
from .market import NAMED_EQUITIES, to_tick
from .routing import route
from .state import EmulatorState

BROKER = "market"
PAGE = Template("""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Emulated market</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:40rem}
input,select,button{font-size:1rem;padding:.3rem;margin:.2rem 0}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;
text-align:left}</style></head><body>
<h1>Emulated market</h1>
<p>The broker emulator's prices, for the demo. Prices drift by up to 0.2 % each time
they are read; move one to walk it through a stop or a target. Both emulated brokers
and paper accounts priced by them see the new price at their next read.</p>
$banner
<form method="post" action="/_market/price">
<label>Symbol <input name="symbol" list="symbols" required autocomplete="off"></label>
<datalist id="symbols">$options</datalist>
<label>Exchange <select name="exchange"><option>NSE</option><option>BSE</option>
<option>NFO</option></select></label>
<label>Price ₹ <input name="price" inputmode="decimal" required></label>
<label><input type="checkbox" name="hold" checked> hold it there (else it drifts from there)
</label>
<button>Move the price</button>
</form>
<p>The market is <strong>$market_state</strong>
($clock clock).</p>
<form method="post" action="/_market/clock">
<button name="clock" value="open">Open the market</button>
<button name="clock" value="closed">Close the market</button>
</form>
<h2>Named stocks (NSE)</h2>
<table><tr><th>Symbol</th><th>Last</th><th>Prev. close</th><th>Moves</th></tr>
$rows</table>
</body></html>""")


def _page(state: EmulatorState, *, message: str = "", error: str = "", status: int = 200):
    market = state.market
    rows = []
    for symbol, _name, _ in NAMED_EQUITIES:
        inst = market.get("NSE", symbol)
        if inst is None:
            continue
        held = "held" if inst.key in market.frozen else "drifting"
        rows.append(
            f"<tr><td>{html.escape(symbol)}</td><td>{market.peek(inst)}</td>"
            f"<td>{market.close(inst)}</td><td>{held}</td></tr>"
        )
    options = "".join(f'<option value="{html.escape(s)}">' for s, _n, _p in NAMED_EQUITIES)
    banner = ""
    if error:
        banner = f'<p role="alert" style="color:#b00020">{html.escape(error)}</p>'
    elif message:
        banner = f'<p role="status" style="color:#0a6b2d">{html.escape(message)}</p>'
    market_state = "open" if state.market_is_open() else "closed"
    body = PAGE.substitute(
        banner=banner,
        options=options,
        market_state=market_state,
        clock=html.escape(state.market_clock),
        rows="".join(rows),
    )
    return Response.text(body, status, "text/html; charset=utf-8")


def control_page(state: EmulatorState, request: Request) -> Response:
    return _page(state)


def move_price(state: EmulatorState, request: Request) -> Response:
    form = request.form()
    symbol = form.get("symbol", "").strip().upper()
    exchange = form.get("exchange", "NSE").strip().upper() or "NSE"
    inst = state.market.get(exchange, symbol)
    if inst is None:
        return _page(state, error=f"No instrument {symbol or '(empty)'} on {exchange}.", status=400)
    try:
        price = Decimal(form.get("price", "").strip().replace(",", ""))
    except InvalidOperation:
        price = Decimal(0)
    if not price.is_finite() or price <= 0 or price > Decimal("10000000"):
        return _page(state, error="The price must be a number above 0.", status=400)
    price = to_tick(price)
    hold = form.get("hold", "") in ("on", "true", "1", "yes")
    state.market.set_price(exchange, symbol, price, freeze=hold)
    if not hold:
        state.market.release(exchange, symbol)
    _fire_gtts(state)
    how = "held there" if hold else "drifting from there"
    return _page(state, message=f"{exchange}:{symbol} is now {price} ({how}).")


def set_clock(state: EmulatorState, request: Request) -> Response:
    clock = request.form().get("clock", "")
    try:
        state.set_market(clock)
    except ValueError as exc:
        return _page(state, error=str(exc), status=400)
    return _page(state, message=f"The market is {clock}.")


def _fire_gtts(state: EmulatorState) -> None:
    """Check active GTTs against the new price now (Kite's engine does on its tick)."""
    from . import kite

    with state.lock:
        for user in state.kite_users.values():
            kite._evaluate_gtts(state, user)


def routes():
    module = sys.modules[__name__]

    def r(operation, method, path, handler):
        return route(BROKER, module, operation, method, path, handler)

    return [
        r("control", "GET", "/_market", control_page),
        r("control", "POST", "/_market/price", move_price),
        r("control", "POST", "/_market/clock", set_clock),
    ]


def fault_response(fault) -> Response:
    return Response.text("", fault.status or 500)
