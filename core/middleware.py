"""Structured request logging: one JSON line per request with its id, status and duration, and the
duration in the latency histogram of its route (core.metrics)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core import metrics

logger = logging.getLogger("lingshou.request")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Keep a request id handed in by the proxy, so its logs and ours join up.
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        metrics.request_observe(request, status=response.status_code, seconds=seconds)
        response["X-Request-ID"] = request_id
        # Probes and scrapes come every few seconds; their lines would drown the shop's own.
        if request.path not in ("/healthz", "/readyz", "/metrics"):
            merchant = getattr(request, "merchant", None)
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round(seconds * 1000, 1),
                    "user_id": getattr(getattr(request, "user", None), "pk", None),
                    "merchant_id": getattr(merchant, "pk", None),
                },
            )
        return response
