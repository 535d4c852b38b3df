"""Error reporting to Sentry, switched on by SENTRY_DSN: the web's and the workers' unhandled exceptions."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Start the SDK with the Django and Celery integrations; no personal data leaves with an error."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Shoppers' and staff's addresses, cookies and signed-in users stay here: the stack trace is enough.
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
    )
