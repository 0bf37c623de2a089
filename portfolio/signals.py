"""What `portfolio` announces; apps above it listen (portfolio imports none of them).

portfolio_synced: an account's holdings and positions were replaced with the
broker's (sent after the transaction commits). Receivers get `account_id`.
Protection caps exit legs by what is still open (a manual exit, a square-off,
the broker's auto square-off or a sold holding).
"""

from django.dispatch import Signal

portfolio_synced = Signal()
