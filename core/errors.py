"""Error pages: JSON (one shape, core.api) under /api/, HTML everywhere else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import defaults

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
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
