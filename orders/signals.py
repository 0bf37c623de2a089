"""What `orders` announces; other apps listen (orders imports none of them).

order_filled: order sync saw one or more of an account's orders fill (EXECUTED,
or PARTIALLY_FILLED with more filled than before), sent after the transaction
commits. Receivers get `account_id` and `order_ids` (the ids of the orders
whose filled quantity grew, a list). Portfolio refreshes that account's
positions and holdings, so a square-off shows at once, not at the next
scheduled portfolio sync; protection arms (or grows) an entry's exit legs and
closes an exit plan whose leg filled.

order_events_written: order sync wrote status transitions with bulk_create (which
sends no post_save), sent inside the same transaction with `events` (saved
OrderEvent rows). Notifications write their outbox from it.
"""

from django.dispatch import Signal

order_filled = Signal()
order_events_written = Signal()
