# Every log record of every process that loads the project (web, worker, beat,
# management commands) is scrubbed of secrets from the start, at any level.
from .log_filters import install_record_factory

install_record_factory()

# Load the Celery app whenever Django starts so @shared_task binds to it.
from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
