"""Indian cash-market hours (NSE/BSE equities): 09:15–15:30 India time, Mon–Fri.

Exchange holidays are not modelled: on a holiday the broker itself rejects a
regular order, which comes back as REJECTED with the broker's reason.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

IST = ZoneInfo("Asia/Kolkata")
OPEN, CLOSE = time(9, 15), time(15, 30)


def is_open(moment: datetime | None = None) -> bool:
    if settings.MARKET_ALWAYS_OPEN:  # the emulator demo and tests that are not about hours
        return True
    local = (moment or timezone.now()).astimezone(IST)
    return local.weekday() < 5 and OPEN <= local.time() < CLOSE
