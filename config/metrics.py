"""GET /metrics for Prometheus: what the processes counted (core.metrics) and what is read at scrape time.

Closed unless METRICS_TOKEN is set (404), and then only for ``Authorization: Bearer <token>`` (401).
Queue lengths and frames waiting describe shared state, so they are read once per scrape from the
broker and the database rather than counted by each process.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from celery import current_app
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import ChannelError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from core.api import error_body
from core.outbox import outbox_waiting
from core.parking import parked_counts
from sensing.selectors import frames_waiting_per_camera

logger = logging.getLogger("lingshou.metrics")


def celery_queues() -> list[str]:
    """Every queue a task is routed to, and the default one."""
    routes = getattr(settings, "CELERY_TASK_ROUTES", {}) or {}
    queues = {str(route["queue"]) for route in routes.values() if isinstance(route, dict) and "queue" in route}
    return sorted(queues | {str(current_app.conf.task_default_queue)})


def celery_queue_lengths() -> dict[str, int]:
    """Messages waiting in each queue, as the broker counts them (Redis: the lists' lengths)."""
    lengths: dict[str, int] = {}
    with current_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        channel: Any = conn.default_channel  # kombu's stub types it without queue_declare
        for queue in celery_queues():
            try:
                lengths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except ChannelError:
                # Redis keeps no key for an empty list: a queue nobody has sent to yet holds nothing.
                lengths[queue] = 0
    return lengths


class _ThisProcess(Collector):
    """The default registry's metrics, when this process counts in memory (no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class _SharedState(Collector):
    """Queue lengths, frames waiting, parked tasks and the outbox, read when Prometheus asks; a source that cannot
    answer is left out."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            lengths = celery_queue_lengths()
        except Exception:
            # A missing series is what the alert on absent() catches; the rest of the scrape still answers.
            logger.warning("metrics: the broker did not answer", exc_info=True)
        else:
            family = GaugeMetricFamily(
                "lingshou_celery_queue_length", "Messages waiting in the Celery queue.", labels=["queue"]
            )
            for queue, length in lengths.items():
                family.add_metric([queue], length)
            yield family
        try:
            cameras = frames_waiting_per_camera()
        except Exception:
            logger.warning("metrics: the database did not answer", exc_info=True)
        else:
            family = GaugeMetricFamily(
                "lingshou_sensing_frames_waiting",
                "Frames a camera sent that the pipeline has not processed yet.",
                labels=["merchant", "store", "camera"],
            )
            for merchant_id, store_id, camera_id, waiting in cameras:
                family.add_metric([str(merchant_id), str(store_id), str(camera_id)], waiting)
            yield family
        try:
            parked = parked_counts()
        except Exception:
            logger.warning("metrics: the database did not answer", exc_info=True)
        else:
            # Alert on this being above 0: the counter says a task was parked, this that it still waits.
            family = GaugeMetricFamily(
                "lingshou_tasks_parked_waiting",
                "Parked tasks that nobody has run again or discarded yet, by task name.",
                labels=["task"],
            )
            for task, waiting in parked.items():
                family.add_metric([task], waiting)
            yield family
        try:
            waiting, oldest = outbox_waiting()
        except Exception:
            logger.warning("metrics: the database did not answer", exc_info=True)
        else:
            # Counts only, no arguments: the rows' ids belong to merchants and the scrape to the operator.
            yield GaugeMetricFamily(
                "lingshou_outbox_waiting", "Outbox messages committed and not yet published to the broker.", waiting
            )
            # Alert on this above a minute or two: the relay runs every 30 s, so the broker has been away that long.
            yield GaugeMetricFamily(
                "lingshou_outbox_oldest_seconds",
                "Seconds the oldest outbox message has waited to be published (0 when none waits).",
                oldest,
            )


def metrics_registry() -> CollectorRegistry:
    """The scrape's registry: every process's files in multiprocess mode, else this process; then shared state."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_SharedState())
    return registry


def _authorised(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format; 404 while METRICS_TOKEN is unset, 401 without that bearer token."""
    token = settings.METRICS_TOKEN
    if not token:
        # Never public: without a token the page does not exist.
        raise Http404("No metrics here.")
    if not _authorised(request, token):
        response = JsonResponse(error_body("unauthorized", "Send the metrics token as a bearer token."), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
