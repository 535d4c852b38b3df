"""Prometheus metrics that processes count as things happen: requests, failed tasks, applied webhooks.

Counters and histograms live in the process, or, when PROMETHEUS_MULTIPROC_DIR is set before the
process starts, in files there that every gunicorn worker and Celery pool child writes its own of
and a scrape adds up (prometheus_client's multiprocess mode). What describes shared state (queue
lengths, frames waiting) is no process's to count: ``config.metrics`` reads it at scrape time.

Every label takes a bounded set of values: the route is the resolved URL's name, never the path.
"""

from __future__ import annotations

from django.http import HttpRequest
from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "lingshou_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by the URL's name, method and status class.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASK_FAILURES = Counter(
    "lingshou_celery_task_failures",
    "Celery tasks that ended in an exception (after their retries), by task name.",
    ["task"],
)
TASKS_PARKED = Counter(
    "lingshou_tasks_parked",
    "Celery tasks parked after failing for good (out of retries, or an error not retried), by task name.",
    ["task"],
)
WEBHOOK_LAG_SECONDS = Histogram(
    "lingshou_stripe_webhook_lag_seconds",
    "Time from a Stripe event's creation to its effect being committed here.",
    # Stripe retries a failed delivery for up to three days: the top buckets tell a backlog from a blip.
    buckets=(1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0, 3 * 86400.0),
)

# A client may send any token as the method; anything else would grow a series per invented word.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def request_route(request: HttpRequest) -> str:
    """The resolved URL's name ("app:name", or the view's dotted path when unnamed); ``unmatched`` if none."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNMATCHED


def request_observe(request: HttpRequest, *, status: int, seconds: float) -> None:
    """Count one answered request in the latency histogram of its route."""
    method = request.method if request.method in _METHODS else "other"
    REQUEST_SECONDS.labels(route=request_route(request), method=method, status=f"{status // 100}xx").observe(seconds)
