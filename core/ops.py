"""Operations endpoints: liveness and readiness for the load balancer and the demo."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:  # noqa: ARG001 - a Django view takes the request
    """The process is up and serving; checks nothing else."""
    return JsonResponse({"status": "ok"})


def _broker_ready() -> str | None:
    # The process's Celery app (config wires it up at start), without importing the wiring from here.
    from celery import current_app

    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", reported as text
        return f"{type(error).__name__}: {error}"[:200]
    return None


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:  # noqa: ARG001 - a Django view takes the request
    """The database and the Celery broker answer; 503 naming what does not."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["database"] = f"{type(error).__name__}: {error}"[:200]
    broker_error = _broker_ready()
    checks["broker"] = broker_error or "ok"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
