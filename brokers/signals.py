"""What `brokers` announces; other apps listen (brokers imports none of them).

account_connected: an account got a new session from a connect (the user's, or
an automatic re-login), sent after the transaction commits. Receivers get
`account` (a BrokerAccount). Market data loads the broker's instruments.

default_account_changed: the user's default account is now `account` (sent
inside the transaction; the change is written with .update(), no post_save).

account_reset: a simulated account was started over (`connections.reset`), sent
after its adapter reset it. Receivers get `account`. Trades forgets the
account's fills and round trips: the book they came from is gone.
"""

from django.dispatch import Signal

account_connected = Signal()
default_account_changed = Signal()
account_reset = Signal()
