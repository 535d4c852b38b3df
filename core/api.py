"""One shape for every API error, and the API's pagination.

Every 4xx and 5xx answers ``{"error": {"code": "...", "message": "...", "fields": {...}}}``:
``code`` is stable and machine-readable, ``message`` is for people, ``fields`` (validation
errors only) maps each field to its messages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import outages


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def paginated(view: Any, request: Any, items: Any, serializer: Any) -> Response:
    """One page of ``items`` through ``serializer``, with count, next and previous.

    The view names its ``pagination_class``: the schema documents the page from that same attribute.
    """
    paginator = view.pagination_class()
    page: Any = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _from_django(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError({key: list(messages) for key, messages in exc.message_dict.items()})
        return exceptions.ValidationError({"non_field_errors": exc.messages}, code=getattr(exc, "code", None))
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "You may not do this.")
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent | RequestDataTooBig):
        code, message, status_code = _REFUSED_BODIES[type(exc)]
        refused = exceptions.APIException(message, code=code)
        refused.status_code = status_code
        return refused
    return exc


# Django refuses these bodies while parsing them (DATA_UPLOAD_MAX_NUMBER_FIELDS, ..._FILES, ..._MEMORY_SIZE).
_REFUSED_BODIES: dict[type[Exception], tuple[str, str, int]] = {
    TooManyFieldsSent: ("too_many_fields", "The request has more form fields than the server accepts.", 400),
    TooManyFilesSent: ("too_many_files", "The request has more files than the server accepts.", 400),
    RequestDataTooBig: ("too_large", "The request body is larger than the server accepts.", 413),
}


def _from_outage(exc: Exception, context: dict[str, Any]) -> Exception:
    """A part that is down (core.outages) is a 503 with Retry-After, logged once as a warning, not a crash."""
    outage = outages.outage_of(exc)
    if outage is None:
        return exc
    outages.outage_log(context["request"], outage, exc)
    unavailable = exceptions.APIException(outage.message, code="unavailable")
    unavailable.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    unavailable.wait = outage.retry_after  # type: ignore[attr-defined]  # DRF's handler sends it as Retry-After
    return unavailable


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _from_outage(_from_django(exc), context)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response._has_been_logged = True  # type: ignore[attr-defined]  # core.outages logged it, not as a crash
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {
            key: [str(m) for m in (value if isinstance(value, list) else [value])] for key, value in detail.items()
        }
        only = fields.pop("non_field_errors", None)
        message = only[0] if only and not fields else "Some fields are not valid."
        response.data = error_body("invalid", message, fields)
        return response
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    response.data = error_body(str(code), str(exc.detail))
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:  # noqa: ARG001 - Django's error handler signature
    return JsonResponse(error_body("not_found", "No such API endpoint."), status=status.HTTP_404_NOT_FOUND)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:  # noqa: ARG001 - Django's error handler signature
    """A request Django refused before any view ran, in the API's error shape."""
    code, message, status_code = _REFUSED_BODIES.get(
        type(exception) if exception is not None else Exception,
        ("bad_request", "The request could not be read.", status.HTTP_400_BAD_REQUEST),
    )
    return JsonResponse(error_body(code, message), status=status_code)


def json_server_error(request: HttpRequest) -> JsonResponse:  # noqa: ARG001 - Django's error handler signature
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
