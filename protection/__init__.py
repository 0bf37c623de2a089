"""Capital protection: exits armed on an entry's fill (stop-loss, target,
trailing stop), the daily loss limit / profit target, and the kill switch.

Sits above portfolio (it needs positions and square-off). What an order
carries (its exit plan) and the halt checked inside the execution claim live
in `orders`, which cannot import this app; this app listens to
`orders.signals.order_filled` and acts through the orders and portfolio
services.
"""
