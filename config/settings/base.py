"""Settings shared by every environment; all configuration comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Overridden by each environment; production refuses to start without SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    # Two-step sign-in: TOTP devices, and static devices that hold the recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "core",
    "merchants",
    "catalog",
    "checkout",
    "sensing",
    "ordering",
    "analytics",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestLogMiddleware",
    # A view that failed because PostgreSQL, Redis or the frame storage is down answers 503 + Retry-After.
    "core.outages.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.InputCleanMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed the second step with one of the user's devices.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Before the admin's bypass: a session that still owes its second step reaches no page but the step.
    "merchants.middleware.TwoStepMiddleware",
    "merchants.middleware.PlatformAdminMiddleware",
    # Last, so that a lock-out answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "csp.context_processors.nonce",
                "merchants.context_processors.dashboard",
            ],
        },
    },
]

# PostgreSQL only: row-level security, pg_trgm and SELECT ... FOR UPDATE are part of the design.
# DATABASE_URL names the application's own role, never a superuser (see merchants/rls.py).


def _database_url() -> str:
    """DATABASE_URL, else the embedded server when it runs (started by make demo or make test)."""
    url = env("DATABASE_URL", default="")
    if url:
        return url
    from config.database import APP_DATABASE, APP_PASSWORD, APP_ROLE, embedded_port

    port = embedded_port()
    if port is None:
        raise ImproperlyConfigured(
            "Set the DATABASE_URL environment variable, or start the embedded database with "
            "`make db` (make demo and make test start it themselves)."
        )
    return f"postgres://{APP_ROLE}:{APP_PASSWORD}@127.0.0.1:{port}/{APP_DATABASE}"


DATABASES = {"default": env.db_url_config(_database_url())}
DATABASES["default"].setdefault("OPTIONS", {})
# Connections: by default each thread keeps its own for DATABASE_CONN_MAX_AGE seconds and checks that it still
# answers before a request uses it (DATABASE_CONN_HEALTH_CHECKS, one SELECT 1 per request, so that a request
# after a database restart gets a fresh connection instead of an error). DATABASE_POOL=1 takes connections
# from psycopg's pool instead (Django's OPTIONS["pool"], sized by DATABASE_POOL_MIN and DATABASE_POOL_MAX per
# process). bench/checkout.py measures the three (README, "Connections"). Behind PgBouncer in transaction
# mode either works: the tenancy settings are transaction-local and Django prepares no statements.
if env.bool("DATABASE_POOL", default=False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=8),
        "timeout": 10,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "merchants:home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failed logins, per username and address, for a quarter of an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# A wrong second-step code is a failed sign-in too (merchants.sign_in); what was typed is never logged.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# Two-step sign-in (django-otp): the name authenticator apps show above the code. Each wrong code also
# makes the device wait before the next try (1 s, 2 s, 4 s ...), on top of the lock-out above.
OTP_TOTP_ISSUER = "Lingshou"
# The admin's device pages never show a key or a recovery code, not even to the platform operator.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# How long the password step is remembered while the code is asked for.
TWO_STEP_PENDING_SECONDS = 300

LANGUAGE_CODE = "en"
# Stored and computed in UTC; shown in the store's zone, which merchants.zones activates per request.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Only the demo and tests serve uploaded media from Django; production puts a storage or CDN in front.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
# Where `manage.py backup` makes its folders unless told otherwise (production: a mounted volume or a synced folder).
BACKUP_DIR = Path(env("BACKUP_DIR", default=str(DATA_DIR / "backups")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads (camera frames, crops) go to an S3-compatible bucket through django-storages when one is
# configured; credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY as boto3 reads them.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_FILE_OVERWRITE = False

# A Redis that stops answering with its connections open (a failover, a paused process) makes redis-py
# wait forever by default: every request that enqueues a task or reads a throttle would hang with it.
# Bounded, the call fails within seconds and the request answers (see the callers' on_commit).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
REDIS_SOCKET_OPTIONS = {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT}

# Redis when configured; otherwise a cache on disk that every local process shares
# (throttling and lock-out counters must agree across gunicorn workers).
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, behind the Redis breaker: a stopped Redis reads as misses (throttles fail open).
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": dict(REDIS_SOCKET_OPTIONS),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Celery. Without a broker URL the project uses kombu's filesystem transport, so that a real
# worker process runs everywhere without a server; production sets CELERY_BROKER_URL to Redis.
CELERY_DATA_DIR = Path(env("CELERY_DATA_DIR", default=str(DATA_DIR / "broker")))
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
# A message a worker took and never acknowledged (the whole worker SIGKILLed, its host gone) goes back to
# its queue this many seconds after it was delivered: the time a killed worker's task waits (a killed pool
# child's comes back at once: reject_on_worker_lost). A task still running then is delivered a second
# time, so every task's hard time limit plus its longest retry wait stays below it (tests/config/
# test_task_limits.py; tasks are idempotent all the same).
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=300)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    # Each worker looks for such messages every 10 s; kombu's default looks every 10th time (100 s), which
    # added up to 100 s to the wait (measured: a 10 s timeout's task not back after 50 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    **REDIS_SOCKET_OPTIONS,
}
# No retry of a publish that failed: each attempt against a Redis that stopped answering costs the request a
# socket timeout, and a retry adds a reconnect and a second one (bench/soak.py saw 6 s answers when Redis
# stopped, with one retry); the breaker
# (core/outages.py) then fails the next ones at once. A task not sent is sent again: by the outbox (core/outbox.py)
# or a sweep (analytics facts, frames). A connection a Redis restart left stale is found by kombu's health
# check when it was idle; a busy one fails one publish, which the same paths send again.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# Half the visibility timeout by default (150 s of 300): the other half covers the longest retry wait
# (sensing's backoff, 128 s), which a message also spends delivered and unacknowledged. A task past its
# soft limit gets SoftTimeLimitExceeded (rolls back, is parked); past the hard one its process is killed.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_BROKER_VISIBILITY_TIMEOUT // 2)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - max(1, CELERY_TASK_TIME_LIMIT // 10)
# Rebuilding a large store's rollups takes minutes: it gets the visibility timeout less its longest retry
# wait (analytics' retry_backoff_max, 60 s) and 20 s of margin, 220 s of 300. The trade-off: a longer
# rebuild cannot finish (it is parked, and run again from the admin, still too long); a longer visibility
# timeout would let it, and keep a killed worker's tasks away as long. Such a store is rebuilt with
# `manage.py analytics_rebuild --store`, which has no limit.
_REBUILD_LIMIT = max(CELERY_BROKER_VISIBILITY_TIMEOUT - 80, CELERY_TASK_TIME_LIMIT)
CELERY_TASK_ANNOTATIONS = {
    "analytics.tasks.store_rollups_rebuild": {
        "time_limit": _REBUILD_LIMIT,
        "soft_time_limit": _REBUILD_LIMIT - max(1, _REBUILD_LIMIT // 10),
    }
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "payments-reconcile": {"task": "checkout.tasks.payments_reconcile", "schedule": 60.0},
    "orders-expire": {"task": "checkout.tasks.orders_expire", "schedule": 60.0},
    # Hourly: each store whose order cut-off is within 14 hours gets its suggested order drafted once.
    "purchase-orders-draft-due": {"task": "ordering.tasks.purchase_orders_draft_due", "schedule": 3600.0},
    "sensing-sweep": {"task": "sensing.tasks.cameras_sweep", "schedule": 30.0},
    "sensing-retention": {"task": "sensing.tasks.frames_retention_apply", "schedule": 600.0},
    "platform-access-prune": {"task": "merchants.tasks.platform_access_prune_daily", "schedule": 86400.0},
    # Heals a lost enqueue: applies the last hours' facts that no task applied, a bounded batch a minute.
    "analytics-facts-sweep": {"task": "analytics.tasks.facts_sweep", "schedule": 60.0},
    # Every store's end-of-day report to its owners, once, soon after it closes in its own time zone.
    "analytics-day-reports": {"task": "analytics.tasks.day_reports_mail", "schedule": 600.0},
    # Publishes the outbox's messages that a broker outage or a dead process kept from leaving (core.outbox).
    # A relay still queued when the next is due is dropped: the next one does the same work.
    "outbox-relay": {"task": "core.tasks.outbox_relay", "schedule": 30.0, "options": {"expires": 30.0}},
}
CELERY_TIMEZONE = "UTC"
# Camera frames have their own queue and workers, so OpenCV work never delays payments or e-mail.
CELERY_TASK_ROUTES = {
    "sensing.tasks.*": {"queue": "sensing"},
    # Drafting many stores' orders at night must not hold up receipts and invitations.
    "ordering.tasks.purchase_order_draft": {"queue": "ordering"},
    "ordering.tasks.purchase_orders_draft_due": {"queue": "ordering"},
    # Rollup maintenance has its own workers: a backlog of facts never delays payments or e-mail.
    "analytics.tasks.*": {"queue": "analytics"},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Lingshou <no-reply@lingshou.local>")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INVITATION_VALID_FOR = timedelta(days=7)
# How long the audit log of row-level security bypasses (PlatformAccess) keeps its rows.
PLATFORM_ACCESS_RETENTION_DAYS = env.int("PLATFORM_ACCESS_RETENTION_DAYS", default=90)
# How long a web process remembers a store found by its public code (shopper pages); 0 turns it off.
SHOPPER_STORE_CACHE_SECONDS = env.int("SHOPPER_STORE_CACHE_SECONDS", default=10)

# Shelf cameras: the largest frame accepted, how far a camera clock may run ahead, and how long a
# silent camera stays "online".
SENSING_FRAME_MAX_BYTES = env.int("SENSING_FRAME_MAX_BYTES", default=4 * 1024 * 1024)
SENSING_MAX_CLOCK_SKEW_SECONDS = env.int("SENSING_MAX_CLOCK_SKEW_SECONDS", default=120)
SENSING_OFFLINE_AFTER_SECONDS = env.int("SENSING_OFFLINE_AFTER_SECONDS", default=120)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "merchants.authentication.ApiTokenAuthentication",
        "merchants.authentication.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lingshou API",
    "DESCRIPTION": "Merchant, device and point-of-sale API. Every path under /api/v1/merchants/{merchant_id}/ is scoped to that merchant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind"; name each choice set after its own model.
    "ENUM_NAME_OVERRIDES": {
        "DeviceKindEnum": "merchants.models.DeviceKind",
        "MovementKindEnum": "catalog.models.MovementKind",
    },
}

# Stripe. STRIPE_API_BASE points the official client at localstripe in the demo and tests.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_lingshou_demo")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_lingshou_demo")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_lingshou_demo")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_CONNECT_WEBHOOK_SECRET = env("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
# Waiting for Stripe's answer, and for the connection (checkout.stripe_http): a shopper waits seconds, not 30.
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=6.0)
STRIPE_CONNECT_TIMEOUT_SECONDS = env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=3.0)
PLATFORM_FEE_BASIS_POINTS = env.int("PLATFORM_FEE_BASIS_POINTS", default=150)

# Content-Security-Policy: no inline script or style anywhere; every asset is served from here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept readable for the API docs page.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Operations. /metrics answers only a scraper that sends this bearer token, and does not exist without it.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Errors go to Sentry only where a DSN is given; every process that reads these settings reports its own.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}
