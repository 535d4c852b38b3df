"""Error pages: JSON (one shape, core.api) under /api/, HTML everywhere else."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from core import outages
from core.api import json_bad_request, json_not_found, json_server_error


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's refusals of a request it could not read (too many fields, too large, a bad Host) in our shapes."""
    if request.path.startswith("/api/"):
        return json_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 answer, or 503 with Retry-After when a part is down (a middleware's query failed, not a view's)."""
    error = sys.exc_info()[1]  # Django calls this inside the except block of the request's exception
    outage = outages.outage_of(error)
    if outage is not None and error is not None:
        outages.outage_log(request, outage, error)
        return outages.unavailable_response(request, outage)
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
