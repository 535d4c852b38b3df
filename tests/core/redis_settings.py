"""Settings of the gunicorn test_redis_stopped starts: the test settings with production's Redis cache (behind
the breaker, core.cache) at REDIS_URL; CELERY_BROKER_URL in the environment makes Redis the broker too."""

from config.settings.base import REDIS_SOCKET_OPTIONS, env
from config.settings.test import *  # noqa: F403

CACHES = {
    "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": env("REDIS_URL"), "OPTIONS": dict(REDIS_SOCKET_OPTIONS)}
}
