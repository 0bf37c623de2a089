"""gunicorn reads this file from the working directory: its own log lines (the access
log included, when enabled) go through the same secret scrubbing as the app's."""

from sigmatrader.log_filters import install_record_factory

install_record_factory()
