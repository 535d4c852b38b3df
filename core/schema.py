"""The API's OpenAPI schema says what the API answers: its error responses and its pages.

drf-spectacular documents the answers a view names in ``@extend_schema``. The errors that the
shared machinery raises (validation, authentication, permissions, the tenant's 404, throttling,
an unparseable body) are documented here, once, for every operation they can reach, all with the
one shape ``core.api.error_body`` writes. Paged lists are documented by drf-spectacular itself
from the view's ``pagination_class``, the same attribute ``core.api.paginated`` pages with.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Built with inline_serializer because one output field is named "fields", the name of a serializer's own attribute.
ErrorOutput = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorDetail",
            {
                "code": serializers.CharField(help_text="Stable and machine-readable, e.g. invalid, not_found."),
                "message": serializers.CharField(help_text="For people."),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    required=False,
                    help_text="Validation errors only: each field's messages.",
                ),
            },
        )
    },
)

ERROR_DESCRIPTIONS = {
    400: "The input is not valid; `error.fields` names each field that is not.",
    401: "No credentials, or credentials that are unknown or revoked.",
    403: "The credentials may not do this (a role without the permission, a device on a staff endpoint).",
    404: "No such object, or one of another merchant (the same answer), or a page past the last.",
    413: "The body is larger than the server accepts.",
    415: "The body is in a media type this operation does not read.",
    429: "Too many requests; `Retry-After` says when to try again.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the error responses each operation can answer, in the API's error shape."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status_code in self._error_statuses(operation):
            response = OpenApiResponse(response=ErrorOutput, description=ERROR_DESCRIPTIONS[status_code])
            responses.setdefault(str(status_code), self._get_response_for_code(response, str(status_code)))
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[int]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        statuses: set[int] = set()
        if has_body or any(parameter["in"] == "query" for parameter in parameters):
            statuses.add(400)
        if has_body:
            statuses.add(415)
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses |= {401, 403}
        # A path names objects (the merchant first) that may not exist for the caller; a page may be past the end.
        if any(parameter["in"] == "path" for parameter in parameters) or self._get_paginator() is not None:
            statuses.add(404)
        if self.view.get_throttles():
            statuses.add(429)
        return sorted(statuses)
