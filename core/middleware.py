"""Structured request logging (one JSON line per request with its id, status and duration, and the
duration in the latency histogram of its route: core.metrics), and clean input."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict

from core import inputs, metrics
from core.api import error_body
from core.http import content_length

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


class InputCleanMiddleware:
    """Query strings and form bodies reach the views without control characters; a path holding one is no page.

    A NUL byte in a search box used to reach PostgreSQL, which cannot store or compare one (a 500);
    cleaning here covers every view that reads ``request.GET`` or ``request.POST`` directly, not only forms.
    API bodies are left to DRF's parsers and the serializers (core.serializers), which clean them the same way
    after authentication, so an upload is never parsed for a caller the API would refuse.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if inputs.text_clean(request.path) != request.path:
            raise Http404("No such page.")
        if (
            request.path.startswith("/api/")
            and request.content_type == "multipart/form-data"
            and not content_length(request)
        ):
            # DRF reads an empty body as no fields at all, yet a multipart body needs at least its closing boundary.
            return JsonResponse(
                error_body("parse_error", "The multipart body is empty; it needs at least its closing boundary."),
                status=400,
            )
        if _has_control(request.GET):
            request.GET = _cleaned(request.GET)  # type: ignore[assignment]
        if (
            request.method == "POST"
            and not request.path.startswith("/api/")
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _has_control(request.POST)
        ):
            request.POST = _cleaned(request.POST)  # type: ignore[assignment]
        return self.get_response(request)


def _has_control(query: QueryDict) -> bool:
    return any(
        inputs.text_clean(key) != key or any(inputs.text_clean(v) != v for v in values) for key, values in query.lists()
    )


def _cleaned(query: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True, encoding=query.encoding)
    for key, values in query.lists():
        cleaned.setlist(inputs.text_clean(key), [inputs.text_clean(value) for value in values])
    cleaned._mutable = False
    return cleaned
