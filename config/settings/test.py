"""The test suite: fast hashing, local memory cache, e-mail kept in memory."""

from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import CELERY_BROKER_URL, DATA_DIR, env

DEBUG = False
SECRET_KEY = "lingshou-test-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105  # nosec B105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# In memory for the test process; a Celery worker started by a test writes files it can read.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(DATA_DIR / "test-mail"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "test-media")))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"]},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "10000/min"}}  # noqa: F405
# Serve static files straight from the app folders; production serves the collected, hashed copies.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The suite's own filesystem broker, apart from the demo's, when no broker URL is set.
if CELERY_BROKER_URL.startswith("filesystem"):
    # One folder per pytest-xdist process (its workers inherit PYTEST_XDIST_WORKER).
    _queue = DATA_DIR / f"test-broker{env('PYTEST_XDIST_WORKER', default='')}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "queue"),
        "data_folder_out": str(_queue / "queue"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
SERVE_MEDIA = True
# Tests change stores and look at the result at once; the cache has its own test.
SHOPPER_STORE_CACHE_SECONDS = 0
