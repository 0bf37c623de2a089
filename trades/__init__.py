"""Trades and P&L: every fill captured, round trips matched, results per strategy,
a tax-ready export.

Sits above portfolio (rank 5, beside watchlists and protection; siblings never
import each other). Nothing below imports it: fills are captured when
`orders.signals.order_filled` fires (and by an end-of-day beat task), from each
account's `BrokerAdapter.trades()` — the same path for every broker, paper
included. History older than the broker's day-only trade book comes from the
brokers' own exports (trades/importing.py).

Modules: models; capture (trade book -> Trade rows, idempotent; captured days);
matching (pure FIFO into round trips, classification); charges (the estimate);
stats (per-strategy results, drawdown, the equity curve's SVG points);
services (rebuild, adjustments, opening lots); importing; export; selectors;
views.
"""
