"""Settings of the Celery worker test_worker kills mid-update: the test settings, plus the module that pauses it."""

from config.settings.test import *  # noqa: F403

# Imported by the worker once Django is set up, before its pool processes fork.
CELERY_IMPORTS = ["tests.analytics.worker_pause"]
