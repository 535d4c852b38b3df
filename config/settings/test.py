"""The test suite: fast hashing, local memory cache, e-mail kept in memory."""

from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import DATA_DIR, env

DEBUG = False
SECRET_KEY = "lingshou-test-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
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
