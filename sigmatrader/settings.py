"""SigmaTrader settings, read from the environment (and a git-ignored `.env`).

Defaults run on one machine with no services: SQLite under `var/`, Celery on
kombu's filesystem transport, a file-based cache. `DATABASE_URL` and
`REDIS_URL` switch to PostgreSQL and Redis. `DEBUG=false` is production mode:
`manage.py check --deploy` is clean, static files come from WhiteNoise.
"""

import warnings
from datetime import date
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables win over the file (read_env never overrides them).
ENV_FILE = Path(env.str("SIGMATRADER_ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    env.read_env(ENV_FILE)

# Runtime files (SQLite database, task queue folders, cache) live here.
VAR_DIR = Path(env.str("SIGMATRADER_VAR_DIR", default=str(BASE_DIR / "var")))
if not VAR_DIR.is_absolute():
    VAR_DIR = BASE_DIR / VAR_DIR

DEBUG = env.bool("DEBUG", default=False)

# Never fall back to a random per-process key: encrypted broker credentials are
# derived from it, so a changing key would make every stored secret unreadable.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. `make run` writes one into .env on first start; "
        "in production set it in the environment (and keep it: stored broker "
        "credentials are encrypted with it)."
    )
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_celery_beat",
    "sigmatrader",
    "brokers",
    "marketdata",
    "orders",
    "portfolio",
    "watchlists",
    "paper",
    "alerts",
    "protection",
    "notifications",
    "trades",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The TradingView webhook URL skips everything below (orders/fastpath.py).
    "orders.fastpath.WebhookFastPath",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a signed-in user unless it is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "sigmatrader.urls"
WSGI_APPLICATION = "sigmatrader.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "brokers.context_processors.current_account",
            ],
            "builtins": ["sigmatrader.templatetags.money"],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sigmatrader.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write to one file: WAL lets readers run beside a
    # writer, IMMEDIATE takes the write lock up front instead of failing late.
    # Tests use a file too (not shared-cache memory), so concurrency tests can
    # open several connections and wait on locks like production does.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(VAR_DIR / "test.sqlite3"))
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Persistent connections: a new one per request costs more than a webhook's queries.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker/results and the cache; embedded fallbacks without it --
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_QUEUE_DIR = VAR_DIR / "celery" / "queue"
CELERY_RESULTS_DIR = VAR_DIR / "celery" / "results"
CELERY_CONTROL_DIR = VAR_DIR / "celery" / "control"
CACHE_DIR = VAR_DIR / "cache"

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sigmatrader",
        }
    }
else:
    for folder in (CELERY_QUEUE_DIR, CELERY_RESULTS_DIR, CELERY_CONTROL_DIR, CACHE_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport with atomic writes and claims (see the module).
    CELERY_BROKER_TRANSPORT = "sigmatrader.queue_transport:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        # Broadcast/pidbox state; kombu's default is ./control in the working dir.
        "control_folder": str(CELERY_CONTROL_DIR),
        "store_processed": False,
        # The default (1 s) would add up to a second to every AUTO order's latency.
        "polling_interval": env.float("CELERY_FILESYSTEM_POLL_SECONDS", default=0.1),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_RESULTS_DIR}"
    # File-based so the web, worker and beat processes share it.
    CACHES = {
        "default": {
            # Django's file cache + cheap shared rate-limit counters (sigmatrader/cache.py).
            "BACKEND": "sigmatrader.cache.FileBasedCache",
            "LOCATION": str(CACHE_DIR),
            # Django's default (300 entries, a third culled at random past that) would
            # drop live prices of a heavy user's instruments at random.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

CELERY_TIMEZONE = "Asia/Kolkata"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
# Tasks acknowledge on receipt unless they say otherwise; orders.execute_order sets
# acks_late (its atomic claim makes a second run harmless) and the sweeper
# (orders/recovery.py) re-enqueues what a lost worker left behind.
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Time and language: stored in UTC, shown in India time ---------------------
LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

# --- Static files: WhiteNoise, hashed and compressed in production -------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
if DEBUG or not STATIC_ROOT.is_dir():
    # Until `collectstatic` has run, WhiteNoise warns that STATIC_ROOT is missing;
    # runserver and the test live server serve static files from the finders.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security: production defaults whenever DEBUG is off -------------------------
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO
# (and make sure the proxy overwrites that header), or the redirect loops.
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"

# --- Logging: stdout, levels from the environment --------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redact_secrets": {"()": "sigmatrader.log_filters.RedactSecrets"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": env.str("DJANGO_LOG_LEVEL", default=LOG_LEVEL).upper()},
    },
}

# --- SigmaTrader -------------------------------------------------------------------
EVENTS_PAGE_SIZE = env.int("EVENTS_PAGE_SIZE", default=50)

# --- Brokers ---------------------------------------------------------------------
# Adapter classes by dotted path (like AUTHENTICATION_BACKENDS). Adding a broker
# is one module plus one line here.
SIGMATRADER_BROKERS = env.list(
    "SIGMATRADER_BROKERS",
    default=[
        "brokers.zerodha.ZerodhaAdapter",
        "brokers.angelone.AngelOneAdapter",
        "paper.adapter.PaperAdapter",
    ],
)

# Paper trading (the paper app; its adapter is paper/adapter.py).
PAPER_DEFAULT_STARTING_CASH = env.str("PAPER_DEFAULT_STARTING_CASH", default="1000000")
PAPER_SLIPPAGE_BPS = env.float("PAPER_SLIPPAGE_BPS", default=0.0)  # MARKET fills vs LTP
# "queue": orders placed while the market is closed rest until it opens; "reject".
PAPER_WHEN_CLOSED = env.str("PAPER_WHEN_CLOSED", default="queue")
# > 0: one fill check fills at most this share of the day's volume (when known).
PAPER_MAX_VOLUME_SHARE = env.float("PAPER_MAX_VOLUME_SHARE", default=0.0)
PAPER_MIS_SQUARE_OFF = env.str("PAPER_MIS_SQUARE_OFF", default="15:20")  # India time
PAPER_CHARGES = env.json("PAPER_CHARGES", default={})  # overrides of paper.charges' schedule

# Where the broker clients connect (the emulator in tests and `make demo`).
KITE_API_ROOT = env.str("KITE_API_ROOT", default="https://api.kite.trade")
KITE_LOGIN_URL = env.str("KITE_LOGIN_URL", default="https://kite.zerodha.com/connect/login")
SMARTAPI_API_ROOT = env.str("SMARTAPI_API_ROOT", default="https://apiconnect.angelone.in")
SMARTAPI_INSTRUMENTS_URL = env.str(
    "SMARTAPI_INSTRUMENTS_URL",
    default="https://margincalculator.angelone.in/OpenAPI_File/files/OpenAPIScripMaster.json",
)
# Seconds. Short on purpose: a library default of minutes would hang a page or a worker.
BROKER_READ_TIMEOUT = env.float("BROKER_READ_TIMEOUT", default=7.0)
BROKER_ORDER_TIMEOUT = env.float("BROKER_ORDER_TIMEOUT", default=10.0)
# How long a call may wait for its broker's rate limit before failing with RateLimited.
BROKER_RATE_LIMIT_MAX_WAIT = env.float("BROKER_RATE_LIMIT_MAX_WAIT", default=3.0)
# Reads (never order placement) are retried this many times on RateLimited/BrokerUnavailable.
BROKER_READ_RETRIES = env.int("BROKER_READ_RETRIES", default=2)

# Salts for deriving the credential-encryption keys from SECRET_KEY (and its
# fallbacks). The first encrypts; all decrypt. Not secret; prepend to rotate.
SALT_KEY = env.list("FIELD_ENCRYPTION_SALTS", default=["sigmatrader.brokers.v1"])

# --- Market data -------------------------------------------------------------------
# A new instrument master with fewer rows than this share of the current one is
# treated as a truncated download and refused.
INSTRUMENT_MIN_ROW_RATIO = env.float("INSTRUMENT_MIN_ROW_RATIO", default=0.5)
# How often a process checks whether another process refreshed a master.
RESOLUTION_VERSION_CHECK_SECONDS = env.float("RESOLUTION_VERSION_CHECK_SECONDS", default=2.0)
# Last prices are cached this long (seconds).
QUOTE_CACHE_SECONDS = env.float("QUOTE_CACHE_SECONDS", default=3.0)

# Which clock says whether the market is open (marketdata/clock.py): "exchange"
# (real NSE/BSE hours, India time), "always-open" (the demo, tests not about hours)
# or "always-closed" (to try the closed-market choices).
MARKET_CLOCK = env.str("MARKET_CLOCK", default="exchange")
if MARKET_CLOCK not in ("exchange", "always-open", "always-closed"):
    raise ImproperlyConfigured("MARKET_CLOCK must be exchange, always-open or always-closed.")
MARKET_ALWAYS_OPEN = env.bool("MARKET_ALWAYS_OPEN", default=False)  # older: always-open
# Exchange holidays come from the `holidays` package's NSE calendar (marketdata/clock.py).
# The exchange publishes each year's list in December, and some dates are moon-sighted:
# add a closure the calendar lacks, or declare a day a trading day after all (a special
# session, e.g. a Saturday budget day), as comma-separated ISO dates.
EXCHANGE_HOLIDAYS_EXTRA = env.list("EXCHANGE_HOLIDAYS_EXTRA", default=[])
EXCHANGE_TRADING_DAYS_EXTRA = env.list("EXCHANGE_TRADING_DAYS_EXTRA", default=[])
for _name in ("EXCHANGE_HOLIDAYS_EXTRA", "EXCHANGE_TRADING_DAYS_EXTRA"):
    for _day in globals()[_name]:
        try:
            date.fromisoformat(_day)
        except ValueError:
            raise ImproperlyConfigured(
                f"{_name}: {_day!r} is not a date such as 2026-11-24."
            ) from None
# The address TradingView and the broker redirects reach this app at (public HTTPS in
# production, behind a reverse proxy); webhook URLs are built from it. Empty: the request's.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if SITE_URL and not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("SITE_URL must be an address such as https://trade.example.in")
# An UNKNOWN order the broker has not shown after this many seconds is FAILED.
ORDER_RECONCILE_GRACE_SECONDS = env.int("ORDER_RECONCILE_GRACE_SECONDS", default=120)
# ...but stays watched this long: if its client tag turns up, the order is adopted.
ORDER_ADOPT_WINDOW_SECONDS = env.int("ORDER_ADOPT_WINDOW_SECONDS", default=24 * 3600)
# The sweeper (orders/recovery.py) re-enqueues AUTO orders still WAITING, and
# triggered GTTs never claimed, this many seconds after they were left...
ORDER_SWEEP_GRACE_SECONDS = env.int("ORDER_SWEEP_GRACE_SECONDS", default=30)
# ...and marks FAILED (for the trader to review) an AUTO order still unsent this late.
ORDER_AUTO_MAX_AGE_SECONDS = env.int("ORDER_AUTO_MAX_AGE_SECONDS", default=300)
# Waiting orders shown per Queue page (oldest first).
QUEUE_PAGE_SIZE = env.int("QUEUE_PAGE_SIZE", default=250)

# --- TradingView webhook -------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
WEBHOOK_STORED_BODY_CHARS = env.int("WEBHOOK_STORED_BODY_CHARS", default=8 * 1024)
WEBHOOK_RATE_PER_MINUTE = env.int("WEBHOOK_RATE_PER_MINUTE", default=120)
WEBHOOK_UNKNOWN_TOKEN_RATE_PER_MINUTE = env.int("WEBHOOK_UNKNOWN_TOKEN_RATE_PER_MINUTE", default=30)
WEBHOOK_DEDUP_WINDOW_SECONDS = env.int("WEBHOOK_DEDUP_WINDOW_SECONDS", default=24 * 3600)
# ... and, for an alert with neither alert_id nor bar_time, this one (a strategy's default).
WEBHOOK_DEDUP_UNKEYED_WINDOW_SECONDS = env.int("WEBHOOK_DEDUP_UNKEYED_WINDOW_SECONDS", default=60)
# A fill queues at most one portfolio refresh per account this often (portfolio/refresh.py) ...
PORTFOLIO_REFRESH_DEBOUNCE_SECONDS = env.int("PORTFOLIO_REFRESH_DEBOUNCE_SECONDS", default=3)
# ... and at most one trade-book capture per account this often (trades/capture.py).
TRADES_CAPTURE_DEBOUNCE_SECONDS = env.int("TRADES_CAPTURE_DEBOUNCE_SECONDS", default=5)

# Live pages: how often a visible page polls (the cache, never a broker), when a
# price counts as stale (greyed, with its age), and how often beat refreshes quotes.
LIVE_POLL_SECONDS = env.float("LIVE_POLL_SECONDS", default=5.0)
LIVE_STALE_SECONDS = env.float("LIVE_STALE_SECONDS", default=30.0)

# Alerts: candle fetches per run of alerts.fetch_candles (each within history limits).
ALERTS_CANDLE_FETCHES_PER_RUN = env.int("ALERTS_CANDLE_FETCHES_PER_RUN", default=20)
# Alert rules one user may keep (every rule is evaluated every few seconds).
ALERTS_MAX_RULES_PER_USER = env.int("ALERTS_MAX_RULES_PER_USER", default=500)

# Capital protection (issue 18; protection/exits.py, protection/day_pnl.py).
# A refused or failed protective exit is re-armed at most this many times ...
PROTECTION_MAX_RETRIES = env.int("PROTECTION_MAX_RETRIES", default=3)
# ... at least this many seconds apart.
PROTECTION_RETRY_SECONDS = env.int("PROTECTION_RETRY_SECONDS", default=60)
# A native GTT's stop leg is a LIMIT order this % beyond its trigger (so a fast fall fills).
PROTECTION_STOP_LIMIT_BUFFER_PERCENT = env.str("PROTECTION_STOP_LIMIT_BUFFER_PERCENT", default="1")
# MIS exit legs end at the intraday square-off (India time, HH:MM).
PROTECTION_MIS_END = env.str("PROTECTION_MIS_END", default="15:20")
# A loss limit's day P&L reuses portfolio's sync when it is younger than this (seconds) ...
PROTECTION_MIN_SYNC_SECONDS = env.int("PROTECTION_MIN_SYNC_SECONDS", default=15)
# ... and is unknown (never zero) when the positions were read longer ago than this.
PROTECTION_STALE_SECONDS = env.int("PROTECTION_STALE_SECONDS", default=90)

# --- Sign-in protection, two-factor, Content-Security-Policy (issue 13) ---------------
INSTALLED_APPS += ["axes", "django_otp", "csp"]
MIDDLEWARE += [
    "django_otp.middleware.OTPMiddleware",  # after AuthenticationMiddleware
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]
# django-axes: failed sign-ins are counted per username and, separately, per IP.
AUTHENTICATION_BACKENDS = [
    "sigmatrader.auth_backends.SignInThrottleBackend",  # django-axes
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("SIGNIN_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "sigmatrader.net.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Masked in the stored request data of an attempt (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token", "csrfmiddlewaretoken"]
# Two-factor sign-in (sigmatrader.models.AuthenticatorDevice): the issuer apps show.
OTP_TOTP_ISSUER = "SigmaTrader"
# Pages load only their own static files and talk only to this server (htmx).
# form-action is left open: connecting Zerodha redirects to the broker's login page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Notifications (issue 19) ------------------------------------------------------
# E-mail: Django's backends; the console by default, SMTP with e.g.
# EMAIL_URL=smtp+tls://user:password@smtp.example.in:587
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SigmaTrader <sigmatrader@localhost>")
# The Telegram Bot API (the emulator in tests); the bot's token is stored encrypted
# (manage.py telegram_bot --set-token), never in the environment.
TELEGRAM_API_ROOT = env.str("TELEGRAM_API_ROOT", default="https://api.telegram.org")
TELEGRAM_TIMEOUT = env.float("TELEGRAM_TIMEOUT", default=5.0)
# A burst is folded into one digest: delivery waits this long after the newest
# message (seconds), but never longer than the max wait after the oldest.
NOTIFICATIONS_DIGEST_SECONDS = env.float("NOTIFICATIONS_DIGEST_SECONDS", default=1.0)
NOTIFICATIONS_DIGEST_MAX_WAIT = env.float("NOTIFICATIONS_DIGEST_MAX_WAIT", default=10.0)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_BACKOFF = env.float("NOTIFICATIONS_BACKOFF", default=2.0)  # seconds, doubling
# A row claimed this long ago by a worker that never finished goes back to the outbox.
NOTIFICATIONS_CLAIM_TIMEOUT = env.int("NOTIFICATIONS_CLAIM_TIMEOUT", default=120)
NOTIFICATIONS_SCHEDULE_GRACE = 30  # seconds a queued run's marker outlives its countdown
NOTIFICATIONS_LINK_MINUTES = env.int("NOTIFICATIONS_LINK_MINUTES", default=15)
NOTIFICATIONS_KEEP_DAYS = env.int("NOTIFICATIONS_KEEP_DAYS", default=30)
TELEGRAM_MESSAGES_PER_SECOND = env.int("TELEGRAM_MESSAGES_PER_SECOND", default=25)
