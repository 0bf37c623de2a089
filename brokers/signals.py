"""What `brokers` announces; other apps listen (brokers imports none of them).

account_connected: an account got a new session from a connect (the user's, or
an automatic re-login), sent after the transaction commits. Receivers get
`account` (a BrokerAccount). Market data loads the broker's instruments.
"""

from django.dispatch import Signal

account_connected = Signal()
