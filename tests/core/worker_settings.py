"""Settings of the Celery workers test_parking starts: the test settings, plus the tasks only those tests send."""

from config.settings.test import *  # noqa: F403

# Imported by the worker once Django is set up, before its pool processes fork.
CELERY_IMPORTS = ["tests.core.worker_tasks"]
