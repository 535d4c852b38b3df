"""The Celery app: tasks are found in every app's tasks.py; settings come from CELERY_* in Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("lingshou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
