import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")

application = get_wsgi_application()

# The tasks are imported before the first request, so the first alert of a
# bar-close burst does not wait for (or race) that import.
from sigmatrader.queueing import load_tasks  # noqa: E402

load_tasks()
