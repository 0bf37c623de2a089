"""`make run`: web, worker and beat from the Procfile, in the foreground.

Honcho kills a process 5 s after asking it to stop. A Celery worker's warm
shutdown (finish the task in hand, e.g. an order placement) can take longer,
so it gets a longer grace period before SIGKILL.
"""

import os
import sys

import honcho.manager
from honcho.command import main

GRACE_SECONDS = 30

if __name__ == "__main__":
    honcho.manager.KILL_WAIT = GRACE_SECONDS
    procfile = os.environ.get("PROCFILE", "Procfile")
    # Settings read .env themselves (real environment first), so honcho must not
    # export it over variables the caller set (make demo points at its own database).
    sys.argv = ["honcho", "--procfile", procfile, "--env", os.devnull, "start", *sys.argv[1:]]
    main()
